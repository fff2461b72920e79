"""Moderation tables: preserved message text, case reviews (claims), moderator actions, referral packages.

Created by Alembic revision ``0004_moderation`` (never by ``create_all`` in production). Ids here are the
platform's own ids (no ``<tenant>/`` prefix): every table carries a ``tenant`` column instead, like
``sg_alerts``.

- ``sg_messages``: the text of every message event, written in the batch's transaction (design guide
  §7: conversation state stays a compact summary; text lives in an append-only table). It is what the
  console shows as a timeline and what :func:`preserve_batch` copies into the evidence log once a
  conversation is flagged.
- ``sg_reviews``: who has claimed an alert (so two moderators do not work one case) and when it was
  first reviewed (for "time to first review").
- ``sg_mod_actions``: every moderator action with who, when, why, the evidence entry that seals it,
  and for appeals their decision. Dismissals here are the labelled feedback ``safeguarding train`` can
  use (:meth:`ModerationStore.feedback`).
- ``sg_referral_packages``: the zip of each referral package built from the console, for download.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from safeguarding.events.types import MessageEvent
from safeguarding.store.protocol import ChangeSet
from safeguarding.store.schema import ID, TENANT, UTCDateTime

metadata = MetaData()

messages = Table(
    "sg_messages",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("conversation", String(ID), nullable=False),
    Column("sender", String(ID), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("grp", String(ID), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("text", Text, nullable=True),
)
Index("ix_sg_messages_conversation", messages.c.tenant, messages.c.conversation, messages.c.at)

reviews = Table(
    "sg_reviews",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("alert_key", String(ID + 16), primary_key=True),
    Column("assignee", String(32), nullable=True),
    Column("assignee_name", String(200), nullable=True),
    Column("claimed_at", UTCDateTime(), nullable=True),
    Column("first_review_at", UTCDateTime(), nullable=True),
)

actions = Table(
    "sg_mod_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("alert_key", String(ID + 16), nullable=True),
    Column("conversation", String(ID), nullable=True),
    Column("subject", String(ID), nullable=True),
    Column("action", String(40), nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("evidence_seq", BigInteger, nullable=False),
    Column("appeal_of", Integer, nullable=True),
    Column("decision", String(16), nullable=True),
    Column("country", String(2), nullable=True),
)
Index("ix_sg_mod_actions_tenant", actions.c.tenant, actions.c.id)

packages = Table(
    "sg_referral_packages",
    metadata,
    Column("package_id", String(80), primary_key=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("case_key", String(ID + 16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)
Index("ix_sg_referral_packages_tenant", packages.c.tenant, packages.c.case_key)


# -- the ingest half: called in the batch's own transaction ---------------------------------------------


def _plain(outcome: str) -> bool:
    """True for a stored outcome record that is a plain allow without alerts (most events): no parsing."""
    if '"v":' not in outcome:
        return True  # not an engine outcome record (nothing to seal)
    return '"a":' not in outcome and '"n":' not in outcome and '"v":"allow"' in outcome


def preserve_batch(
    conn: Connection, tenant: str, changes: ChangeSet, staged: Mapping[str, MessageEvent]
) -> None:
    """Store the batch's message text, and put alerts, decisions and flagged conversations' messages
    into the tenant's evidence chain — in the caller's transaction (``docs/evidence.md``, "wiring").

    ``changes`` carries the platform's own ids; ``staged`` the batch's message events by id (the
    engine keeps no text, so the service hands them over before processing). The batch's entries are
    gathered first and appended together (one chain lock, one head read, one insert), in the order
    appending them one by one would give: each event's alerts and decision, then the messages of each
    flagged conversation.
    """
    from safeguarding.engine.outcome import Outcome
    from safeguarding.evidence.chain import EntryDraft
    from safeguarding.evidence.record import message_drafts, outcome_drafts
    from safeguarding.evidence.sql import SqlEvidenceLog

    rows = []
    for e in changes.events:
        m = staged.get(e.id)
        if m is not None and e.type == "message":
            rows.append(
                {"tenant": tenant, "id": m.id, "conversation": m.conversation, "sender": m.sender,
                 "recipients": json.dumps(list(m.recipients)), "grp": m.group, "at": m.at, "text": m.text}
            )  # fmt: skip
    if rows:
        conn.execute(insert(messages), rows)
    drafts: list[EntryDraft] = []
    for e in changes.events:
        if _plain(e.outcome):
            continue
        outcome = Outcome.from_record(e.id, e.outcome, duplicate=False)
        m = staged.get(e.id)
        drafts += outcome_drafts(
            outcome, actor="engine", at=e.processed_at,
            conversation=m.conversation if m else None, subject=m.sender if m else None,
        )  # fmt: skip
    flagged = list(dict.fromkeys(c.id for c in changes.conversations if c.flagged))
    if flagged:
        preserved = _preserved(conn, tenant, flagged)
        batch_messages = [
            m for e in changes.events if e.type == "message" and (m := staged.get(e.id)) is not None
        ]
        for cid in flagged:
            if cid in preserved:
                # Preserved since it was first flagged: only this batch's messages are new. (Re-reading
                # the whole conversation here made every batch cost O(conversation length).)
                new = sorted((m for m in batch_messages if m.conversation == cid), key=lambda m: (m.at, m.id))
            else:
                new = _unpreserved_messages(conn, tenant, cid)
            if new:
                at = max(e.processed_at for e in changes.events)
                drafts += message_drafts(new, actor="engine", at=at)
    if drafts:
        SqlEvidenceLog(conn, tenant).append_many(drafts)


def _preserved(conn: Connection, tenant: str, conversations: Sequence[str]) -> set[str]:
    """Which of ``conversations`` already have messages in the tenant's evidence chain.

    One statement on PostgreSQL; on SQLite, where a statement costs no round trip, one small query
    each. Either way one index probe per conversation, however long it is: the PostgreSQL statement is a
    ``LATERAL ... LIMIT 1`` rather than an ``EXISTS``, which the planner may turn into a scan of the
    whole chain while the table has no statistics yet.
    """
    from safeguarding.evidence.chain import EntryKind
    from safeguarding.evidence.sql import evidence

    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT k.id FROM unnest(%s::varchar[]) AS k(id) CROSS JOIN LATERAL (SELECT 1 FROM sg_evidence e "
            "WHERE e.chain = %s AND e.conversation = k.id AND e.kind = %s LIMIT 1) AS found"
        )
        params = (list(conversations), tenant, EntryKind.MESSAGE.value)
        return {r[0] for r in conn.exec_driver_sql(sql, params)}
    c = evidence.c
    return {
        cid
        for cid in conversations
        if conn.execute(
            select(c.ref)
            .where(c.chain == tenant, c.conversation == cid, c.kind == EntryKind.MESSAGE)
            .limit(1)
        ).first()
        is not None
    }


def _unpreserved_messages(conn: Connection, tenant: str, conversation: str) -> list[MessageEvent]:
    """A newly flagged conversation's stored messages not yet in the evidence chain, in order."""
    from safeguarding.evidence.chain import EntryKind
    from safeguarding.evidence.sql import evidence

    c = evidence.c
    kept = {
        r[0]
        for r in conn.execute(
            select(c.ref).where(
                c.chain == tenant, c.conversation == conversation, c.kind == EntryKind.MESSAGE
            )
        )
    }
    return [
        message_event(r)
        for r in conn.execute(
            select(messages)
            .where(messages.c.tenant == tenant, messages.c.conversation == conversation)
            .order_by(messages.c.at, messages.c.id)
        )
        if r.id not in kept
    ]


def message_event(r: Any) -> MessageEvent:
    return MessageEvent(
        id=r.id, at=r.at, conversation=r.conversation, sender=r.sender,
        recipients=tuple(json.loads(r.recipients)), text=r.text, group=r.grp,
    )  # fmt: skip


# -- reads and writes for the console --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Review:
    alert_key: str
    assignee: str | None
    assignee_name: str | None
    claimed_at: datetime | None
    first_review_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActionRecord:
    id: int
    tenant: str
    alert_key: str | None
    conversation: str | None
    subject: str | None
    action: str
    reason: str
    actor: str
    at: datetime
    evidence_seq: int
    appeal_of: int | None
    decision: str | None
    country: str | None


def _action(r: Any) -> ActionRecord:
    return ActionRecord(
        int(r.id), r.tenant, r.alert_key, r.conversation, r.subject, r.action, r.reason, r.actor, r.at,
        int(r.evidence_seq), r.appeal_of, r.decision, r.country,
    )  # fmt: skip


def conversation_messages(conn: Connection, tenant: str, conversation: str) -> list[MessageEvent]:
    stmt = (
        select(messages)
        .where(messages.c.tenant == tenant, messages.c.conversation == conversation)
        .order_by(messages.c.at, messages.c.id)
    )
    return [message_event(r) for r in conn.execute(stmt)]


def reviews_of(conn: Connection, tenant: str, keys: Sequence[str]) -> dict[str, Review]:
    if not keys:
        return {}
    stmt = select(reviews).where(reviews.c.tenant == tenant, reviews.c.alert_key.in_(list(keys)))
    return {
        r.alert_key: Review(r.alert_key, r.assignee, r.assignee_name, r.claimed_at, r.first_review_at)
        for r in conn.execute(stmt)
    }


def mark_reviewed(conn: Connection, tenant: str, key: str, at: datetime) -> None:
    """The first time a moderator opens (or acts on) an alert: the start of "time to first review"."""
    found = reviews_of(conn, tenant, [key]).get(key)
    if found is None:
        conn.execute(insert(reviews).values(tenant=tenant, alert_key=key, first_review_at=at))
    elif found.first_review_at is None:
        conn.execute(
            reviews.update()
            .where(reviews.c.tenant == tenant, reviews.c.alert_key == key)
            .values(first_review_at=at)
        )


def claim(
    conn: Connection, tenant: str, key: str, *, user: str | None, name: str | None, at: datetime
) -> None:
    """Assign ``key`` to ``user`` (None releases it); the caller checks who may take it from whom."""
    mark_reviewed(conn, tenant, key, at)
    conn.execute(
        reviews.update()
        .where(reviews.c.tenant == tenant, reviews.c.alert_key == key)
        .values(assignee=user, assignee_name=name, claimed_at=at if user else None)
    )


def add_action(conn: Connection, **values: Any) -> int:
    res = conn.execute(insert(actions).values(**values))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def actions_of(
    conn: Connection,
    tenant: str,
    *,
    conversation: str | None = None,
    subject: str | None = None,
    action_id: int | None = None,
) -> list[ActionRecord]:
    stmt = select(actions).where(actions.c.tenant == tenant)
    if conversation is not None:
        stmt = stmt.where(actions.c.conversation == conversation)
    if subject is not None:
        stmt = stmt.where(actions.c.subject == subject)
    if action_id is not None:
        stmt = stmt.where(actions.c.id == action_id)
    return [_action(r) for r in conn.execute(stmt.order_by(actions.c.id))]


def decide_appeal(conn: Connection, appeal_id: int, decision: str) -> None:
    conn.execute(actions.update().where(actions.c.id == appeal_id).values(decision=decision))


def feedback(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    """Dismissals as labelled examples (label 0: not harmful) for ``safeguarding train``."""
    stmt = (
        select(actions)
        .where(actions.c.tenant == tenant, actions.c.action == "dismiss")
        .order_by(actions.c.id)
    )
    return [
        {"conversation": r.conversation, "alert": r.alert_key, "label": 0, "reason": r.reason,
         "at": r.at.isoformat()}
        for r in conn.execute(stmt)
    ]  # fmt: skip


def save_package(conn: Connection, **values: Any) -> None:
    conn.execute(insert(packages).values(**values))


def package(conn: Connection, tenant: str, package_id: str) -> tuple[str, bytes] | None:
    r = conn.execute(
        select(packages.c.case_key, packages.c.data).where(
            packages.c.tenant == tenant, packages.c.package_id == package_id
        )
    ).first()
    return (str(r.case_key), bytes(r.data)) if r else None


def packages_of(conn: Connection, tenant: str, case_key: str) -> list[tuple[str, datetime, str]]:
    stmt = (
        select(packages.c.package_id, packages.c.created_at, packages.c.actor)
        .where(packages.c.tenant == tenant, packages.c.case_key == case_key)
        .order_by(packages.c.created_at)
    )
    return [(r.package_id, r.created_at, r.actor) for r in conn.execute(stmt)]


def all_actions(conn: Connection, tenant: str | None) -> list[ActionRecord]:
    stmt = select(actions)
    if tenant is not None:
        stmt = stmt.where(actions.c.tenant == tenant)
    return [_action(r) for r in conn.execute(stmt.order_by(actions.c.id))]


def all_reviews(conn: Connection, tenant: str | None) -> dict[tuple[str, str], datetime]:
    stmt = select(reviews.c.tenant, reviews.c.alert_key, reviews.c.first_review_at)
    if tenant is not None:
        stmt = stmt.where(reviews.c.tenant == tenant)
    return {(r.tenant, r.alert_key): r.first_review_at for r in conn.execute(stmt) if r.first_review_at}
