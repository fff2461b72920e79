"""The alert index (``sg_alerts``) and the webhook relay's view of the outbox.

Alert rows are written by :class:`~safeguarding.store.tenant.TenantStore` in the same transaction as the
batch that raised them; here they are only read: newest first, filtered, one page at a time (keyset
pagination on the row id, so a page never shifts when new alerts arrive).

:meth:`AlertStore.relay_due` is the at-least-once delivery loop's store half: it claims outbox items
that are due (never delivered, not given up on, past their back-off time) with
``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several worker processes never send the same
item at the same time, and records each attempt's result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from safeguarding.store import schema as t
from safeguarding.store.protocol import OutboxItem
from safeguarding.store.rows import RowStore
from safeguarding.types import Reason


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert as indexed: ``key`` (``<event id>:<n>``) is also the webhook's idempotency key."""

    id: int
    tenant: str
    key: str
    kind: str
    subject: str | None
    conversation: str | None
    risk: float
    stages: tuple[str, ...]
    reasons: tuple[Reason, ...]
    event_id: str
    event_at: datetime
    created_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class AlertQuery:
    kind: str | None = None
    subject: str | None = None
    conversation: str | None = None
    status: str | None = None
    min_risk: float | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one delivery attempt came to: delivered, retry at ``retry_at``, or (neither) given up."""

    delivered: bool
    retry_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RelayResult:
    delivered: int = 0
    retrying: int = 0
    given_up: int = 0


class AlertStore(RowStore):
    def alerts(
        self, tenant: str, query: AlertQuery, *, before_id: int | None = None, limit: int = 50
    ) -> list[AlertRecord]:
        """Newest first; ``before_id`` is the keyset cursor (the last id of the previous page)."""
        c = t.alerts.c
        stmt = select(t.alerts).where(c.tenant == tenant)
        if before_id is not None:
            stmt = stmt.where(c.id < before_id)
        if query.kind is not None:
            stmt = stmt.where(c.kind == query.kind)
        if query.subject is not None:
            stmt = stmt.where(c.subject == query.subject)
        if query.conversation is not None:
            stmt = stmt.where(c.conversation == query.conversation)
        if query.status is not None:
            stmt = stmt.where(c.status == query.status)
        if query.min_risk is not None:
            stmt = stmt.where(c.risk >= query.min_risk)
        if query.since is not None:
            stmt = stmt.where(c.event_at >= query.since)
        if query.until is not None:
            stmt = stmt.where(c.event_at < query.until)
        stmt = stmt.order_by(c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_alert(r) for r in conn.execute(stmt)]

    def count(self, tenant: str) -> int:
        with self.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(t.alerts).where(t.alerts.c.tenant == tenant))
            return int(n.scalar_one())

    # -- the relay ---------------------------------------------------------------------------------------
    def _due(self, now: datetime, limit: int) -> Any:
        c = t.outbox.c
        return (
            select(t.outbox)
            .where(c.delivered_at.is_(None), c.failed_at.is_(None))
            .where((c.next_attempt_at.is_(None)) | (c.next_attempt_at <= now))
            .order_by(c.id)
            .limit(limit)
        )

    def relay_due(
        self, deliver: Callable[[OutboxItem], Attempt], now: datetime, limit: int = 50
    ) -> RelayResult:
        """Hand due items to ``deliver`` (oldest first) and record each result; see the module docstring."""
        postgres = self.engine.dialect.name == "postgresql"
        stmt = self._due(now, limit)
        if not postgres:
            # One writer at a time on SQLite: deliver outside a transaction so a slow receiver never
            # holds the write lock the engine needs, then record the results in one short transaction.
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).all()
            results = [(r.id, r.attempts, deliver(_item(r))) for r in rows]
            with self.engine.begin() as conn:
                return self._record(conn, results, now)
        with self.engine.begin() as conn:  # claimed rows stay locked, and skipped by others, until commit
            rows = conn.execute(stmt.with_for_update(skip_locked=True)).all()
            results = [(r.id, r.attempts, deliver(_item(r))) for r in rows]
            return self._record(conn, results, now)

    def _record(self, conn: Any, results: Sequence[tuple[int, int, Attempt]], now: datetime) -> RelayResult:
        c = t.outbox.c
        done = retry = gave_up = 0
        for rid, attempts, a in results:
            values: dict[str, Any] = {"attempts": attempts + (0 if a.delivered else 1)}
            if a.delivered:
                values["delivered_at"] = now
                values["last_error"] = a.error[:500] if a.error else None
                done += 1
            elif a.retry_at is not None:
                values.update(next_attempt_at=a.retry_at, last_error=(a.error or "")[:500])
                retry += 1
            else:
                values.update(failed_at=now, last_error=(a.error or "")[:500])
                gave_up += 1
            conn.execute(update(t.outbox).where(c.id == rid).values(**values))
        return RelayResult(done, retry, gave_up)

    def outbox_counts(self) -> dict[str, int]:
        """``pending`` (still to deliver) and ``failed`` (given up) items, for health and metrics."""
        c = t.outbox.c
        with self.engine.connect() as conn:
            pending = conn.execute(
                select(func.count())
                .select_from(t.outbox)
                .where(c.delivered_at.is_(None), c.failed_at.is_(None))
            ).scalar_one()
            failed = conn.execute(
                select(func.count()).select_from(t.outbox).where(c.failed_at.is_not(None))
            ).scalar_one()
        return {"pending": int(pending), "failed": int(failed)}

    def outbox_rows(self, prefix: str) -> list[dict[str, Any]]:
        """Every outbox row of one tenant (tests and operators)."""
        c = t.outbox.c
        stmt = select(t.outbox).where(func.substr(c.key, 1, len(prefix)) == prefix).order_by(c.id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]


def _item(r: Any) -> OutboxItem:
    return OutboxItem(key=r.key, kind=r.kind, payload=r.payload, created_at=r.created_at, attempts=r.attempts)


def _alert(r: Any) -> AlertRecord:
    return AlertRecord(
        id=int(r.id),
        tenant=r.tenant,
        key=r.key,
        kind=r.kind,
        subject=r.subject,
        conversation=r.conversation,
        risk=float(r.risk),
        stages=tuple(s for s in r.stages.split(",") if s),
        reasons=tuple(Reason(c, m, float(w)) for c, m, w in json.loads(r.reasons)),
        event_id=r.event_id,
        event_at=r.event_at,
        created_at=r.created_at,
        status=r.status,
    )
