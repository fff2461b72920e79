"""The evidence log and legal holds in SQL (SQLAlchemy 2 Core; SQLite and PostgreSQL).

Tables (created by Alembic revision ``0003_evidence``, never by ``create_all`` in production):

- ``sg_evidence``: one row per entry, primary key ``(chain, seq)``. Rows are only ever inserted, except
  that a retention purge clears ``payload`` and the lookup keys (and sets ``purged_at``).
- ``sg_legal_holds``: holds on cases, placed and released by moderators or by a referral export.

Appending never forks a chain: on PostgreSQL the appender takes a transaction-scoped advisory lock per
chain (released at commit), then reads the head; on SQLite the database's single writer serialises
appends. Whatever happens, the primary key ``(chain, seq)`` refuses a second entry with the same
number, and the append re-reads the head and retries (inside a savepoint on PostgreSQL).

Several entries are appended together (:meth:`SqlEvidenceLog.append_many`, what the service does for a
batch): one lock, one head read, the entries sealed in memory, one ``INSERT`` (an executemany, which
psycopg sends as one pipeline) in one savepoint; a conflict retries the whole insert from a fresh head.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from safeguarding.errors import ConflictError
from safeguarding.evidence.canonical import JsonValue
from safeguarding.evidence.chain import (
    ChainHead,
    EntryDraft,
    EntryKind,
    EvidenceEntry,
    Verification,
    Verifier,
    seal_after,
)
from safeguarding.evidence.retention import LegalHold, PurgePlan, RetentionItem, RetentionPolicy, plan_purge
from safeguarding.store.schema import ID, UTCDateTime

log = logging.getLogger(__name__)

CHAIN = 64
PAGE = 1000
RETRIES = 20
INSERT_ROWS = 1000
"""Entries per insert statement in :meth:`SqlEvidenceLog.append_many` (a longer list is split)."""

metadata = MetaData()
"""The evidence tables' own metadata (the store's schema module belongs to the store)."""

evidence = Table(
    "sg_evidence",
    metadata,
    Column("chain", String(CHAIN), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=True),
    Column("payload_sha256", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("conversation", String(ID), nullable=True),
    Column("subject", String(ID), nullable=True),
    Column("ref", String(ID + 16), nullable=True),
    Column("purged_at", UTCDateTime(), nullable=True),
)
Index("ix_sg_evidence_conversation", evidence.c.chain, evidence.c.conversation)
Index("ix_sg_evidence_subject", evidence.c.chain, evidence.c.subject)
Index("ix_sg_evidence_ref", evidence.c.chain, evidence.c.ref)

legal_holds = Table(
    "sg_legal_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chain", String(CHAIN), nullable=False),
    Column("case_key", String(ID), nullable=False),
    Column("case_kind", String(16), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("placed_at", UTCDateTime(), nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("released_at", UTCDateTime(), nullable=True),
    Column("released_by", String(200), nullable=True),
)
Index("ix_sg_legal_holds_case", legal_holds.c.chain, legal_holds.c.case_key)


def _entry(r: object) -> EvidenceEntry:
    return EvidenceEntry(
        r.chain, int(r.seq), r.at, r.kind, r.payload, r.payload_sha256,  # type: ignore[attr-defined]
        r.prev_hash, r.hash, r.conversation, r.subject, r.ref,  # type: ignore[attr-defined]
    )  # fmt: skip


class SqlEvidenceLog:
    """:class:`~safeguarding.evidence.chain.EvidenceLog` on an open connection: appends join the
    caller's transaction and are committed (or rolled back) with it."""

    def __init__(self, conn: Connection, chain: str = "default") -> None:
        if not chain or len(chain) > CHAIN:
            raise ValueError(f"chain name must be 1..{CHAIN} characters")
        self._conn = conn
        self._chain = chain
        self._pg = conn.dialect.name == "postgresql"
        self._locked = False
        # The head we wrote last in this transaction. Valid while we hold the chain: on PostgreSQL the
        # advisory lock, on SQLite the write lock our first insert took. Saves a read per append.
        self._written: ChainHead | None = None

    @property
    def chain(self) -> str:
        return self._chain

    def head(self) -> ChainHead | None:
        return chain_head(self._conn, self._chain)

    def append(self, kind: str, payload: JsonValue, *, at: datetime) -> EvidenceEntry:
        return self.append_many([EntryDraft(kind, payload, at)])[0]

    def append_many(self, drafts: Iterable[EntryDraft]) -> list[EvidenceEntry]:
        """Append ``drafts`` in order: one lock and one head read per transaction, one insert per
        :data:`INSERT_ROWS` entries; the same chain as appending them one by one."""
        items = list(drafts)
        if not items:
            return []
        if self._pg and not self._locked:
            key = f"safeguarding:evidence:{self._chain}"
            self._conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
            self._locked = True  # held until the caller's transaction ends
        out: list[EvidenceEntry] = []
        for i in range(0, len(items), INSERT_ROWS):
            out.extend(self._insert(items[i : i + INSERT_ROWS]))
        return out

    def _insert(self, drafts: Sequence[EntryDraft]) -> list[EvidenceEntry]:
        """Seal ``drafts`` after the head and store them with one statement; retry from a fresh head
        when a sequence number is taken.

        All or nothing: on PostgreSQL the insert runs in a savepoint, so a conflict costs a retry, never
        the caller's transaction. On SQLite (no savepoint) nothing is stored either: the entries go
        right after the head we read or cached, and no row lies above the real head, so a stale head
        makes the *first* row conflict, before any other is written.
        """
        for _ in range(RETRIES):
            head = self._written if self._written is not None else self.head()
            entries = seal_after(self._chain, head, drafts)
            rows = [
                {
                    "chain": e.chain, "seq": e.seq, "at": e.at, "kind": e.kind, "payload": e.payload,
                    "payload_sha256": e.payload_sha256, "prev_hash": e.prev_hash, "hash": e.hash,
                    "conversation": e.conversation, "subject": e.subject, "ref": e.ref,
                }
                for e in entries
            ]  # fmt: skip
            try:
                if self._pg:
                    # A savepoint, so a stale cached head (another log object on this transaction) only
                    # costs a retry, never the caller's transaction.
                    with self._conn.begin_nested():
                        self._conn.execute(insert(evidence), rows)
                else:
                    self._conn.execute(insert(evidence), rows)
                last = entries[-1]
                self._written = ChainHead(self._chain, last.seq, last.hash)
                return entries
            except IntegrityError:
                self._written = None
                log.debug(
                    "evidence chain %s: seq %d..%d taken concurrently, retrying",
                    self._chain, entries[0].seq, entries[-1].seq,
                )  # fmt: skip
        raise ConflictError(f"evidence chain {self._chain!r}: could not append after {RETRIES} attempts")


def chain_head(conn: Connection, chain: str) -> ChainHead | None:
    r = conn.execute(
        select(evidence.c.seq, evidence.c.hash)
        .where(evidence.c.chain == chain)
        .order_by(evidence.c.seq.desc())
        .limit(1)
    ).first()
    return ChainHead(chain, int(r.seq), r.hash) if r else None


def chains(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(select(evidence.c.chain).distinct().order_by(evidence.c.chain))]


def iter_entries(conn: Connection, chain: str, *, from_seq: int = 1) -> Iterator[EvidenceEntry]:
    """Entries of ``chain`` in order, read a page at a time (keyset on seq)."""
    after = from_seq - 1
    while True:
        rows = conn.execute(
            select(evidence)
            .where(evidence.c.chain == chain, evidence.c.seq > after)
            .order_by(evidence.c.seq)
            .limit(PAGE)
        ).all()
        for r in rows:
            yield _entry(r)
        if len(rows) < PAGE:
            return
        after = int(rows[-1].seq)


def verify_log(conn: Connection, chain: str | None = None) -> Verification:
    """Verify every chain (or one): see :class:`~safeguarding.evidence.chain.Verifier`."""
    v = Verifier()
    for name in [chain] if chain else chains(conn):
        for e in iter_entries(conn, name):
            v.feed(e)
    return v.result()


def case_entries(
    conn: Connection,
    chain: str,
    *,
    conversation: str | None,
    subject: str | None,
    accounts: tuple[str, ...] = (),
) -> list[EvidenceEntry]:
    """A case's entries in order: everything about its conversation (or, for an account case, the
    alerts, actions and holds about the account), plus IP captures of ``accounts``.

    Why not every entry naming the suspect: those include their conversations with *other* children,
    which belong in their own cases, not in this package.
    """
    c = evidence.c
    if conversation is not None:
        about = c.conversation == conversation
    else:
        kinds = (EntryKind.ALERT, EntryKind.ACTION, EntryKind.LEGAL_HOLD, EntryKind.HOLD_RELEASED)
        about = and_(c.subject == subject, c.conversation.is_(None), c.kind.in_(kinds))
    ips = and_(c.kind == EntryKind.IP_CAPTURE, c.subject.in_(accounts)) if accounts else None
    cond = or_(about, ips) if ips is not None else about
    rows = conn.execute(select(evidence).where(c.chain == chain, cond).order_by(c.seq)).all()
    return [_entry(r) for r in rows]


@dataclass(frozen=True, slots=True)
class CaseRef:
    chain: str
    conversation: str | None
    subject: str | None


def resolve_case(conn: Connection, case: str, chain: str | None = None) -> list[CaseRef]:
    """What ``case`` names: an alert key (``<event id>:<n>``) or a conversation id. All matches."""
    c = evidence.c
    where = [c.chain == chain] if chain else []
    found: dict[tuple[str, str | None, str | None], None] = {}
    for r in conn.execute(
        select(c.chain, c.conversation, c.subject).where(c.ref == case, c.kind == EntryKind.ALERT, *where)
    ):
        found[(r.chain, r.conversation, r.subject)] = None
    if not found:
        for row in conn.execute(
            select(c.chain, c.subject)
            .where(c.conversation == case, c.kind == EntryKind.ALERT, *where)
            .order_by(c.seq)
        ):
            found.setdefault((row.chain, case, row.subject), None)
    if not found:
        for one in conn.execute(select(c.chain).where(c.conversation == case, *where).distinct()):
            found[(one.chain, case, None)] = None
    return [CaseRef(*k) for k in found]


# -- legal holds -------------------------------------------------------------------------------------


def _key(case_kind: str) -> str:
    return "subject" if case_kind == "account" else "conversation"


def _hold(r: object) -> LegalHold:
    return LegalHold(
        r.id, r.chain, r.case_key, r.reason, r.placed_at, r.placed_by,  # type: ignore[attr-defined]
        r.released_at, r.released_by, r.case_kind == "account",  # type: ignore[attr-defined]
    )  # fmt: skip


def place_hold(
    conn: Connection, chain: str, case: str, *, reason: str, actor: str, at: datetime, account: bool = False
) -> LegalHold:
    """Put ``case`` (a conversation id, or an account id when ``account``) on hold and log it.

    Idempotent: an unreleased hold on the same case is returned as it is.
    """
    existing = [h for h in holds(conn, chain) if h.case == case and h.released_at is None]
    if existing:
        return existing[0]
    res = conn.execute(
        insert(legal_holds).values(
            chain=chain,
            case_key=case,
            case_kind="account" if account else "conversation",
            reason=reason[:500],
            placed_at=at,
            placed_by=actor,
        )
    )
    hold_id = int(res.inserted_primary_key[0])  # type: ignore[index]
    SqlEvidenceLog(conn, chain).append(
        EntryKind.LEGAL_HOLD,
        {"hold": hold_id, _key("account" if account else ""): case, "reason": reason, "actor": actor},
        at=at,
    )
    return LegalHold(hold_id, chain, case, reason[:500], at, actor, account=account)


def release_hold(conn: Connection, hold_id: int, *, actor: str, at: datetime, reason: str) -> LegalHold:
    """Release a hold. Its data stays protected until the minimum hold period has passed."""
    r = conn.execute(select(legal_holds).where(legal_holds.c.id == hold_id)).first()
    if r is None:
        from safeguarding.errors import NotFoundError

        raise NotFoundError(f"no legal hold {hold_id}")
    if r.released_at is None:
        conn.execute(
            update(legal_holds).where(legal_holds.c.id == hold_id).values(released_at=at, released_by=actor)
        )
        SqlEvidenceLog(conn, r.chain).append(
            EntryKind.HOLD_RELEASED,
            {"hold": hold_id, _key(r.case_kind): r.case_key, "reason": reason, "actor": actor},
            at=at,
        )
    return _hold(conn.execute(select(legal_holds).where(legal_holds.c.id == hold_id)).one())


def holds(conn: Connection, chain: str | None = None) -> list[LegalHold]:
    q = select(legal_holds).order_by(legal_holds.c.id)
    if chain:
        q = q.where(legal_holds.c.chain == chain)
    return [_hold(r) for r in conn.execute(q)]


# -- retention -----------------------------------------------------------------------------------------


def plan_retention(conn: Connection, policy: RetentionPolicy, now: datetime) -> PurgePlan:
    c = evidence.c
    items = (
        RetentionItem(r.chain, int(r.seq), r.at, r.kind, r.conversation, r.subject)
        for r in conn.execute(
            select(c.chain, c.seq, c.at, c.kind, c.conversation, c.subject).where(c.payload.is_not(None))
        )
    )
    return plan_purge(items, holds(conn), policy, now)


def run_retention(
    conn: Connection, policy: RetentionPolicy, now: datetime, *, dry_run: bool = False
) -> PurgePlan:
    """Plan and (unless ``dry_run``) carry out a purge in the caller's transaction.

    Each chain that lost payloads gets a ``retention_purge`` entry naming the cleared ranges, so
    verification can tell a purge from tampering.
    """
    plan = plan_retention(conn, policy, now)
    if dry_run:
        return plan
    c = evidence.c
    for chain, seqs in plan.clear.items():
        for part in (seqs[i : i + 500] for i in range(0, len(seqs), 500)):
            conn.execute(
                update(evidence)
                .where(and_(c.chain == chain, c.seq.in_(part)))
                .values(payload=None, conversation=None, subject=None, ref=None, purged_at=now)
            )
        SqlEvidenceLog(conn, chain).append(
            EntryKind.RETENTION_PURGE,
            {"cleared": plan.ranges(chain), "count": len(seqs), "evidence_days": policy.evidence_days},  # type: ignore[dict-item]
            at=now,
        )
    if plan.holds_to_delete:
        conn.execute(delete(legal_holds).where(legal_holds.c.id.in_(plan.holds_to_delete)))
    return plan
