"""Families' rows: invitations, child notices, approval requests, child reports, child view tokens,
weekly-summary bookkeeping, and the reads the parent view needs (revision ``0006_families``).

Ids here are the platform's own (a ``tenant`` column keeps platforms apart), except where this module
reads the engine's tables (accounts, edges), whose ids are namespaced ``<tenant>/<id>``. Links
themselves live in ``sg_parent_links`` (:mod:`.schema`); making and ending one is also sealed in the
tenant's evidence chain, so the history survives a re-link.

:func:`safeguarding.store.family_batch.record_batch` runs inside an ingest batch's transaction: it keeps
the notices and approval requests the engine attached to the batch's outcomes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from safeguarding.errors import ConflictError, NotFoundError
from safeguarding.families.controls import FamilySettings
from safeguarding.families.notices import NoticeKind
from safeguarding.store import schema as t
from safeguarding.store.family_reads import FamilyReads
from safeguarding.store.schema import ID, TENANT, UTCDateTime

metadata = MetaData()

invitations = Table(
    "sg_link_invitations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("parent", String(32), nullable=False),
    Column("child", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("answered_at", UTCDateTime(), nullable=True),
    Column("answer", String(16), nullable=True),
)

notices = Table(
    "sg_child_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("child", String(ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("about", String(ID), nullable=False),
    Column("conversation", String(ID), nullable=True),
    Column("event_id", String(ID), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("count", Integer, nullable=False, default=1),
    Column("last_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("closed_by", String(16), nullable=True),
    UniqueConstraint("tenant", "child", "about", "kind", name="uq_sg_child_notices_once"),
)

approvals = Table(
    "sg_contact_approvals",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("child", String(ID), primary_key=True),
    Column("adult", String(ID), primary_key=True),
    Column("conversation", String(ID), nullable=True),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("decision", String(16), nullable=True),
    Column("decided_by", String(32), nullable=True),
)

reports = Table(
    "sg_child_reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("child", String(ID), nullable=False),
    Column("about", String(ID), nullable=False),
    Column("conversation", String(ID), nullable=True),
    Column("reason", String(40), nullable=False),
    Column("tell_parent", Boolean, nullable=False),
    Column("event_id", String(ID), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)

tokens = Table(
    "sg_child_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("account", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

prefs = Table(
    "sg_family_prefs",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("parent", String(32), primary_key=True),
    Column("weekly_email", Boolean, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

summaries = Table(
    "sg_family_summaries",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("parent", String(32), primary_key=True),
    Column("week", Date, primary_key=True),
    Column("sent_at", UTCDateTime(), nullable=False),
    Column("channel", String(16), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Link:
    parent: str
    parent_name: str
    child: str
    since: datetime
    via: str
    removed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    parent: str
    parent_name: str
    child: str
    created_at: datetime
    expires_at: datetime
    answer: str | None = None

    def open(self, now: datetime) -> bool:
        return self.answer is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    id: int
    child: str
    kind: NoticeKind
    about: str
    conversation: str | None
    at: datetime
    count: int
    last_at: datetime
    closed_by: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    child: str
    adult: str
    conversation: str | None
    requested_at: datetime
    attempts: int
    decision: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportRecord:
    id: str
    child: str
    about: str
    conversation: str | None
    reason: str
    tell_parent: bool
    at: datetime


MAX_ROW_ID = 2**31 - 1
"""The largest id an integer primary key holds on every supported database."""


def _notice(r: Any) -> NoticeRecord:
    return NoticeRecord(
        r.id, r.child, NoticeKind(r.kind), r.about, r.conversation, r.at, r.count, r.last_at, r.closed_by
    )


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FamilyStore(FamilyReads):
    """Reads and writes for the family features, over the service's database."""

    # -- the platform's settings -------------------------------------------------------------------------
    def settings(self, tenant: str) -> FamilySettings:
        rows = self._all(select(t.tenants.c.family_settings).where(t.tenants.c.id == tenant))
        return FamilySettings.from_json(rows[0][0] if rows else None)

    def set_settings(self, tenant: str, settings: FamilySettings) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.tenants).where(t.tenants.c.id == tenant).values(family_settings=settings.to_json())
            )

    # -- links and invitations ---------------------------------------------------------------------------
    def links(self, tenant: str, *, child: str | None = None, parent: str | None = None) -> list[Link]:
        """Current links of a child or of a parent (with the parent's display name)."""
        c, u = t.parent_links.c, t.users.c
        q = (
            select(c.parent, u.display_name, c.child, c.created_at, c.via, c.removed_at)
            .join(t.users, u.id == c.parent)
            .where(c.tenant == tenant, c.removed_at.is_(None))
        )
        if child is not None:
            q = q.where(c.child == child)
        if parent is not None:
            q = q.where(c.parent == parent)
        return [Link(*r) for r in self._all(q.order_by(c.created_at, c.child))]

    def link(self, tenant: str, parent: str, child: str, at: datetime, *, via: str, by: str) -> None:
        """Link (or re-link) a parent and a child; sealed in the evidence chain with who did it."""
        c = t.parent_links.c
        with self.engine.begin() as conn:
            where = and_(c.tenant == tenant, c.parent == parent, c.child == child)
            row = conn.execute(select(c.removed_at).where(where)).first()
            if row is None:
                conn.execute(
                    insert(t.parent_links).values(
                        tenant=tenant, parent=parent, child=child, created_at=at, removed_at=None, via=via
                    )
                )
            elif row.removed_at is None:
                return  # already linked: nothing changes, nothing to seal
            else:
                conn.execute(
                    update(t.parent_links)
                    .where(where)
                    .values(created_at=at, removed_at=None, removed_by=None, via=via)
                )
            _seal(
                conn, tenant, at, {"family": "linked", "parent": parent, "child": child, "via": via, "by": by}
            )

    def unlink(self, tenant: str, parent: str, child: str, at: datetime, *, by: str) -> None:
        """End a link: recorded (``removed_at``, ``removed_by``, an evidence entry), never deleted."""
        c = t.parent_links.c
        where = and_(c.tenant == tenant, c.parent == parent, c.child == child, c.removed_at.is_(None))
        with self.engine.begin() as conn:
            n = conn.execute(
                update(t.parent_links).where(where).values(removed_at=at, removed_by=by)
            ).rowcount
            if n == 0:
                raise NotFoundError("no such link")
            _seal(conn, tenant, at, {"family": "unlinked", "parent": parent, "child": child, "by": by})

    def invite(
        self, tenant: str, invitation_id: str, parent: str, child: str, at: datetime, days: int, by: str
    ) -> None:
        i = invitations.c
        with self.engine.begin() as conn:
            open_one = conn.execute(
                select(i.id).where(
                    i.tenant == tenant,
                    i.parent == parent,
                    i.child == child,
                    i.answer.is_(None),
                    i.expires_at > at,
                )
            ).first()
            if open_one is not None:
                raise ConflictError(
                    f"an invitation for this parent and child is already open ({open_one.id})"
                )
            conn.execute(
                insert(invitations).values(
                    id=invitation_id, tenant=tenant, parent=parent, child=child, created_at=at,
                    expires_at=at + timedelta(days=days), created_by=by,
                )
            )  # fmt: skip

    def invitations(
        self, tenant: str, *, child: str | None = None, parent: str | None = None
    ) -> list[Invitation]:
        i, u = invitations.c, t.users.c
        q = (
            select(i.id, i.parent, u.display_name, i.child, i.created_at, i.expires_at, i.answer)
            .join(t.users, u.id == i.parent)
            .where(i.tenant == tenant)
        )
        if child is not None:
            q = q.where(i.child == child)
        if parent is not None:
            q = q.where(i.parent == parent)
        return [Invitation(*r) for r in self._all(q.order_by(i.created_at.desc()))]

    def answer(self, tenant: str, child: str, invitation_id: str, accept: bool, at: datetime) -> Invitation:
        """The child's answer; accepting links them (``via="invitation"``)."""
        found = [v for v in self.invitations(tenant, child=child) if v.id == invitation_id]
        if not found:
            raise NotFoundError(f"no invitation {invitation_id!r} for this account")
        inv = found[0]
        if not inv.open(at):
            raise ConflictError("this invitation was already answered or has expired")
        with self.engine.begin() as conn:
            conn.execute(
                update(invitations)
                .where(invitations.c.id == invitation_id, invitations.c.answer.is_(None))
                .values(answered_at=at, answer="accepted" if accept else "declined")
            )
        if accept:
            self.link(tenant, inv.parent, child, at, via="invitation", by="child")
        return inv

    # -- notices, approvals, reports ---------------------------------------------------------------------
    def notices(
        self, tenant: str, child: str, *, open_only: bool = False, limit: int = 50
    ) -> list[NoticeRecord]:
        n = notices.c
        q = select(notices).where(n.tenant == tenant, n.child == child)
        if open_only:
            q = q.where(n.closed_at.is_(None))
        rows = self._all(q.order_by(n.last_at.desc(), n.id.desc()).limit(limit))
        return [_notice(r) for r in rows]

    def notice(self, tenant: str, child: str, notice_id: int) -> NoticeRecord | None:
        """One of ``child``'s notices (None for an id that is not theirs, or that no column could hold)."""
        if not 1 <= notice_id <= MAX_ROW_ID:
            return None
        n = notices.c
        r = self._one(select(notices).where(n.tenant == tenant, n.child == child, n.id == notice_id))
        return _notice(r) if r is not None else None

    def close_notice(self, tenant: str, child: str, notice_id: int, by: str, at: datetime) -> None:
        n = notices.c
        if self.notice(tenant, child, notice_id) is None:
            raise NotFoundError(f"no notice {notice_id} for this account")
        with self.engine.begin() as conn:
            conn.execute(
                update(notices)
                .where(n.tenant == tenant, n.child == child, n.id == notice_id)
                .values(closed_at=at, closed_by=by)
            )

    def approvals(self, tenant: str, child: str) -> list[ApprovalRecord]:
        a = approvals.c
        rows = self._all(
            select(approvals).where(a.tenant == tenant, a.child == child).order_by(a.requested_at.desc())
        )
        return [
            ApprovalRecord(
                r.child, r.adult, r.conversation, r.requested_at, r.attempts, r.decision, r.decided_at
            )
            for r in rows
        ]

    def decide_approval(
        self, tenant: str, child: str, adult: str, approve: bool, by: str, at: datetime
    ) -> None:
        a = approvals.c
        decision = "approved" if approve else "declined"
        with self.engine.begin() as conn:
            where = and_(a.tenant == tenant, a.child == child, a.adult == adult)
            if conn.execute(select(a.adult).where(where)).first() is None:
                conn.execute(
                    insert(approvals).values(
                        tenant=tenant, child=child, adult=adult, requested_at=at, attempts=0,
                        decided_at=at, decision=decision, decided_by=by,
                    )
                )  # fmt: skip
            else:
                conn.execute(
                    update(approvals).where(where).values(decided_at=at, decision=decision, decided_by=by)
                )
            _seal(conn, tenant, at, {"family": decision, "child": child, "adult": adult, "by": by})

    def add_report(self, tenant: str, rec: ReportRecord, event_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(reports).values(
                    id=rec.id, tenant=tenant, child=rec.child, about=rec.about, conversation=rec.conversation,
                    reason=rec.reason, tell_parent=rec.tell_parent, event_id=event_id, at=rec.at,
                )
            )  # fmt: skip

    def reports(self, tenant: str, child: str, *, told_parent: bool = False) -> list[ReportRecord]:
        r = reports.c
        q = select(reports).where(r.tenant == tenant, r.child == child)
        if told_parent:
            q = q.where(r.tell_parent.is_(True))
        return [
            ReportRecord(x.id, x.child, x.about, x.conversation, x.reason, bool(x.tell_parent), x.at)
            for x in self._all(q.order_by(r.at.desc()))
        ]

    # -- the child's view tokens -------------------------------------------------------------------------
    def add_token(self, tenant: str, account: str, token: str, at: datetime, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(tokens).values(
                    id=token_id(token), tenant=tenant, account=account, created_at=at, expires_at=expires_at
                )
            )

    def token_owner(self, token: str, now: datetime) -> tuple[str, str] | None:
        k = tokens.c
        rows = self._all(select(k.tenant, k.account, k.expires_at).where(k.id == token_id(token)))
        if not rows or rows[0].expires_at <= now:
            return None
        return rows[0].tenant, rows[0].account

    # -- weekly summaries ---------------------------------------------------------------------------------
    def weekly_email(self, tenant: str, parent: str) -> bool:
        """Whether the parent wants the weekly summary by email (on until they turn it off)."""
        r = self._one(select(prefs.c.weekly_email).where(prefs.c.tenant == tenant, prefs.c.parent == parent))
        return True if r is None else bool(r[0])

    def set_weekly_email(self, tenant: str, parent: str, on: bool, at: datetime) -> None:
        where = and_(prefs.c.tenant == tenant, prefs.c.parent == parent)
        with self.engine.begin() as conn:
            if not conn.execute(update(prefs).where(where).values(weekly_email=on, updated_at=at)).rowcount:
                conn.execute(
                    insert(prefs).values(tenant=tenant, parent=parent, weekly_email=on, updated_at=at)
                )

    def summary_sent(self, tenant: str, parent: str, week: date) -> bool:
        s = summaries.c
        return bool(self._all(select(s.week).where(s.tenant == tenant, s.parent == parent, s.week == week)))

    def mark_summary(self, tenant: str, parent: str, week: date, channel: str, at: datetime) -> bool:
        """Record that ``parent``'s summary of ``week`` went out; False when it already had (send once)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(summaries).values(
                        tenant=tenant, parent=parent, week=week, sent_at=at, channel=channel
                    )
                )
        except IntegrityError:
            return False
        return True


def _seal(conn: Connection, tenant: str, at: datetime, payload: dict[str, Any]) -> None:
    from safeguarding.evidence.chain import EntryKind
    from safeguarding.evidence.sql import SqlEvidenceLog

    SqlEvidenceLog(conn, tenant).append(EntryKind.FAMILY, payload, at=at)
