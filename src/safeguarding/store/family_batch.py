"""The families' half of an ingest batch, run in the batch's own transaction (``TenantStore.commit``):
keep the child notices (one row per child, other account and kind, counted) and approval requests the
engine attached to the batch's outcomes.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, insert, select, update

from safeguarding.store.families import approvals, notices
from safeguarding.store.protocol import ChangeSet


def record_batch(conn: Connection, tenant: str, changes: ChangeSet) -> None:
    """Keep the batch's child notices (one row per child, other account and kind, counted) and approval
    requests. ``changes`` carries the platform's own ids."""
    from safeguarding.engine.outcome import Outcome

    for e in changes.events:
        if '"nt":' not in e.outcome and '"ap":' not in e.outcome:
            continue  # the common case: nothing for families, no parsing
        outcome = Outcome.from_record(e.id, e.outcome, duplicate=False)
        n, a = notices.c, approvals.c
        for x in outcome.notices:
            where = and_(n.tenant == tenant, n.child == x.child, n.about == x.about, n.kind == x.kind.value)
            done = conn.execute(
                update(notices).where(where).values(count=n.count + 1, last_at=e.at, closed_at=None,
                                                    closed_by=None, conversation=x.conversation)
            ).rowcount  # fmt: skip
            if not done:
                conn.execute(
                    insert(notices).values(
                        tenant=tenant, child=x.child, kind=x.kind.value, about=x.about,
                        conversation=x.conversation, event_id=e.id, at=e.at, count=1, last_at=e.at,
                    )
                )  # fmt: skip
        for r in outcome.approvals:
            where = and_(a.tenant == tenant, a.child == r.child, a.adult == r.adult)
            done = conn.execute(
                update(approvals).where(where, a.decision.is_(None)).values(attempts=a.attempts + 1)
            ).rowcount
            if not done and conn.execute(select(a.adult).where(where)).first() is None:
                conn.execute(
                    insert(approvals).values(
                        tenant=tenant, child=r.child, adult=r.adult, conversation=r.conversation,
                        requested_at=e.at, attempts=1,
                    )
                )  # fmt: skip
