"""Retention of the moderation tables beside the evidence log, and the whole ``retention run``.

The rules are :mod:`safeguarding.evidence.retention`'s (one clock, one set of legal holds); this module
only turns them into SQL, in the caller's transaction:

- ``sg_messages``: message text older than the evidence period is deleted unless its conversation is
  under an active hold. Done as two counts and one ``DELETE`` per tenant (the table is the largest one
  here; its rows are never loaded into Python).
- ``sg_referral_packages``: packages built longer ago than the evidence period are deleted unless their
  case is held (the case's conversation, or the account of an account case: the same cover as the
  case's evidence entries). Packages are few; they are planned row by row.

The evidence log itself is purged by :func:`safeguarding.evidence.sql.run_retention`, which clears
payloads and never deletes an entry; :func:`run_all` runs both in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, not_, or_, select

from safeguarding.evidence.retention import (
    HeldCases,
    RetentionPolicy,
    RetentionReport,
    TablePurge,
    evidence_cutoff,
    held_cases,
)
from safeguarding.store import moderation as mod
from safeguarding.store import schema as t

CHUNK = 500


def _held_messages(held: HeldCases) -> Any:
    """SQL: the message belongs to a held conversation (false when nothing is held)."""
    m = mod.messages.c
    tenants = sorted({chain for chain, _ in held.conversations})
    parts = [and_(m.tenant == ch, m.conversation.in_(held.conversations_of(ch))) for ch in tenants]
    return or_(*parts) if parts else m.tenant.is_(None)  # tenant is never null: nothing held


def purge_messages(
    conn: Connection, held: HeldCases, policy: RetentionPolicy, now: datetime, *, dry_run: bool = False
) -> TablePurge:
    m = mod.messages.c
    cut = evidence_cutoff(policy, now)
    on_hold = _held_messages(held)

    def count(*where: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(mod.messages).where(*where)).scalar_one())

    young = count(m.at >= cut)
    kept = count(m.at < cut, on_hold)
    per_tenant = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            select(m.tenant, func.count()).where(m.at < cut, not_(on_hold)).group_by(m.tenant)
        )
    }
    removed = sum(per_tenant.values())
    if not dry_run and removed:
        conn.execute(delete(mod.messages).where(m.at < cut, not_(on_hold)))
        for tenant, n in sorted(per_tenant.items()):
            _seal(conn, tenant, now, {"table": mod.messages.name, "deleted": n, "older_than": cut.isoformat(),
                                      "evidence_days": policy.evidence_days})  # fmt: skip
    return TablePurge(mod.messages.name, removed, kept, young)


def _seal(conn: Connection, tenant: str, now: datetime, payload: dict[str, Any]) -> None:
    """Record a table purge in the tenant's evidence chain (what was deleted, never the rows themselves)."""
    from safeguarding.evidence.chain import EntryKind
    from safeguarding.evidence.sql import SqlEvidenceLog

    SqlEvidenceLog(conn, tenant).append(EntryKind.RETENTION_PURGE, payload, at=now)


def purge_packages(
    conn: Connection, held: HeldCases, policy: RetentionPolicy, now: datetime, *, dry_run: bool = False
) -> TablePurge:
    p, a = mod.packages.c, t.alerts.c
    cut = evidence_cutoff(policy, now)
    cols = (p.package_id, p.tenant, p.case_key, p.created_at, a.key.label("alert"), a.conversation, a.subject)
    stmt = select(*cols).select_from(
        mod.packages.outerjoin(t.alerts, and_(a.tenant == p.tenant, a.key == p.case_key))
    )
    remove: list[str] = []
    by_tenant: dict[str, list[str]] = {}
    kept = young = 0
    for r in conn.execute(stmt):
        # Console packages name an alert; a case key that is no alert (any more) is a conversation id.
        conversation = r.conversation if r.alert is not None else r.case_key
        if r.created_at >= cut:
            young += 1
        elif held.covers(r.tenant, conversation, r.subject):
            kept += 1
        else:
            remove.append(r.package_id)
            by_tenant.setdefault(r.tenant, []).append(r.package_id)
    if not dry_run:
        for i in range(0, len(remove), CHUNK):
            conn.execute(delete(mod.packages).where(p.package_id.in_(remove[i : i + CHUNK])))
        for tenant, ids in sorted(by_tenant.items()):
            what = {"table": mod.packages.name, "deleted": len(ids), "packages": sorted(ids),
                    "older_than": cut.isoformat(), "evidence_days": policy.evidence_days}  # fmt: skip
            _seal(conn, tenant, now, what)
    return TablePurge(mod.packages.name, len(remove), kept, young)


def purge_tables(
    conn: Connection, policy: RetentionPolicy, now: datetime, *, dry_run: bool = False
) -> tuple[TablePurge, ...]:
    """Delete (unless ``dry_run``) the unheld rows of ``sg_messages`` and ``sg_referral_packages``."""
    from safeguarding.evidence.sql import holds

    held = held_cases(holds(conn), policy, now)
    return (
        purge_messages(conn, held, policy, now, dry_run=dry_run),
        purge_packages(conn, held, policy, now, dry_run=dry_run),
    )


def run_all(
    conn: Connection, policy: RetentionPolicy, now: datetime, *, dry_run: bool = False
) -> RetentionReport:
    """``safeguarding retention run``: the tables, then the evidence log, in the caller's transaction.

    The tables go first so that both read the same holds (the evidence purge deletes expired holds,
    which protect nothing any more either way).
    """
    from safeguarding.evidence.sql import run_retention

    tables = purge_tables(conn, policy, now, dry_run=dry_run)
    plan = run_retention(conn, policy, now, dry_run=dry_run)
    return RetentionReport(plan, tables, policy.evidence_days, dry_run)


__all__ = ["purge_messages", "purge_packages", "purge_tables", "run_all"]
