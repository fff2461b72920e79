"""The SQL store: SQLAlchemy 2 Core on SQLite (default, WAL) or PostgreSQL (by URL).

Why Core and not the ORM: the engine moves rows in bulk (one ``SELECT ... IN`` per kind before a batch,
one ``executemany`` per table at commit), and never needs identity maps or lazy loading.

SQLite runs in WAL mode with ``synchronous=NORMAL``: readers never block the writer, and a committed
batch survives a crash of the process (kill -9); only a power cut may lose the last batches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, delete, event, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from safeguarding.errors import ConfigError, ConflictError
from safeguarding.store import schema as t
from safeguarding.store.protocol import (
    AccountRecord,
    ChangeSet,
    ConversationRecord,
    EdgeKey,
    OutboxItem,
    ProcessedEvent,
)
from safeguarding.types import AgeBand, Assurance

log = logging.getLogger(__name__)
CHUNK = 500
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Pick the drivers we ship with: psycopg 3 for PostgreSQL, the standard library for SQLite."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def create_db_engine(url: str) -> Engine:
    """An SQLAlchemy engine with the settings the store relies on (WAL on SQLite)."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a clear enough text
        raise ConfigError(f"invalid database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return create_engine(url, pool_pre_ping=True)


class SqlStore:
    """:class:`~safeguarding.store.protocol.Store` over SQLAlchemy. Open it with :func:`open_store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        # Reads need no transaction: on PostgreSQL they run in autocommit, which saves the BEGIN and the
        # ROLLBACK around every lookup (the hot path of contact decisions is a few lookups).
        self.reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self._dialect == "postgresql"
            else engine
        )
        self._insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert

    # -- reads -----------------------------------------------------------------------------------
    def _read(self, fn: Callable[[Connection], T]) -> T:
        with self.reader.connect() as conn:
            return fn(conn)

    def processed(self, ids: Collection[str]) -> dict[str, ProcessedEvent]:
        def q(conn: Connection) -> dict[str, ProcessedEvent]:
            out: dict[str, ProcessedEvent] = {}
            for part in _chunks(list(ids)):
                for r in conn.execute(select(t.events).where(t.events.c.id.in_(part))):
                    out[r.id] = ProcessedEvent(r.id, r.type, r.digest, r.at, r.processed_at, r.outcome)
            return out

        return self._read(q) if ids else {}

    def accounts(self, ids: Collection[str]) -> dict[str, AccountRecord]:
        def q(conn: Connection) -> dict[str, AccountRecord]:
            out: dict[str, AccountRecord] = {}
            for part in _chunks(list(ids)):
                for r in conn.execute(select(t.accounts).where(t.accounts.c.id.in_(part))):
                    out[r.id] = AccountRecord(
                        id=r.id,
                        age_band=AgeBand(r.age_band),
                        birth_date=r.birth_date,
                        assurance=Assurance(r.assurance),
                        created_at=r.created_at,
                        country=r.country,
                        timezone=r.timezone,
                        risk_alerted=bool(r.risk_alerted),
                        pattern_alert_until=r.pattern_alert_until,
                        display_name=r.display_name,
                        controls=int(r.controls or 0),
                    )
            return out

        return self._read(q) if ids else {}

    # The three lookups below run before every batch with thousands of keys: they are written as
    # plain SQL on the driver (one statement with arrays on PostgreSQL, VALUES lists on SQLite),
    # because compiling an expanding tuple IN costs more than the query itself.
    def edges(self, keys: Collection[EdgeKey]) -> set[EdgeKey]:
        if not keys:
            return set()
        items = list(keys)
        out: set[EdgeKey] = set()
        with self.reader.connect() as conn:
            if self._dialect == "postgresql":
                sql = (
                    "SELECT e.kind, e.src, e.dst FROM sg_edges e "
                    "JOIN unnest(%s::varchar[], %s::varchar[], %s::varchar[]) AS k(kind, src, dst) "
                    "ON e.kind = k.kind AND e.src = k.src AND e.dst = k.dst"
                )
                params = ([k[0] for k in items], [k[1] for k in items], [k[2] for k in items])
                out.update((r[0], r[1], r[2]) for r in conn.exec_driver_sql(sql, params))
                return out
            for part in _chunks(items, 1000):
                values = ",".join(["(?,?,?)"] * len(part))
                sql = f"SELECT kind, src, dst FROM sg_edges WHERE (kind, src, dst) IN (VALUES {values})"
                flat = tuple(x for k in part for x in k)
                out.update((r[0], r[1], r[2]) for r in conn.exec_driver_sql(sql, flat))
        return out

    def _by_account(self, table: str, cols: str, accounts: Collection[str], since: int) -> list[Any]:
        if not accounts:
            return []
        items = list(accounts)
        rows: list[Any] = []
        with self.reader.connect() as conn:
            if self._dialect == "postgresql":
                sql = f"SELECT {cols} FROM {table} WHERE account = ANY(%s) AND bucket >= %s"
                return [tuple(r) for r in conn.exec_driver_sql(sql, (items, since))]
            for part in _chunks(items, 2000):
                marks = ",".join(["?"] * len(part))
                sql = f"SELECT {cols} FROM {table} WHERE account IN ({marks}) AND bucket >= ?"
                rows.extend(tuple(r) for r in conn.exec_driver_sql(sql, (*part, since)))
        return rows

    def counters(self, accounts: Collection[str], since_bucket: int) -> list[tuple[str, str, int, int]]:
        return self._by_account("sg_counters", "account, counter, bucket, value", accounts, since_bucket)

    def members(self, accounts: Collection[str], since_bucket: int) -> list[tuple[str, str, int, str]]:
        return self._by_account(
            "sg_counter_members", "account, counter, bucket, member", accounts, since_bucket
        )

    def conversations(self, ids: Collection[str]) -> dict[str, ConversationRecord]:
        def q(conn: Connection) -> dict[str, ConversationRecord]:
            out: dict[str, ConversationRecord] = {}
            for part in _chunks(list(ids)):
                for r in conn.execute(select(t.conversations).where(t.conversations.c.id.in_(part))):
                    out[r.id] = ConversationRecord(
                        id=r.id,
                        detector_version=r.detector_version,
                        detector_state=r.detector_state,
                        messages=r.messages,
                        flagged=bool(r.flagged),
                        alerted=bool(r.alerted),
                        risk=float(r.risk),
                        suspect=r.suspect,
                        stages=tuple(s for s in r.stages.split(",") if s),
                        updated_at=r.updated_at,
                    )
            return out

        return self._read(q) if ids else {}

    # -- the one write path ----------------------------------------------------------------------
    def commit(
        self,
        changes: ChangeSet,
        *,
        also: Sequence[tuple[Table, Sequence[dict[str, Any]]]] = (),
        hook: Callable[[Connection], None] | None = None,
    ) -> None:
        """Apply a batch in one transaction; :class:`ConflictError` if an event id was taken meanwhile.

        ``also``: rows for other tables written in the same transaction (inserts that ignore duplicates),
        e.g. the service's alert index, so they are stored exactly when the batch is. ``hook`` runs last
        on the same connection (the service's evidence log and message text, ``store.moderation``).
        """
        if changes.empty and not any(rows for _, rows in also):
            return
        try:
            with self.engine.begin() as conn:
                self._apply(conn, changes)
                for table, rows in also:
                    if rows:
                        conn.execute(self._insert(table).on_conflict_do_nothing(), list(rows))
                if hook is not None:
                    hook(conn)
        except IntegrityError as exc:
            raise ConflictError(f"a batch event was committed concurrently: {exc.orig}") from None
        except OperationalError as exc:  # e.g. database locked for too long
            raise ConflictError(f"could not commit the batch: {exc.orig}") from None

    def _marks(self, n: int) -> str:
        mark = "%s" if self._dialect == "postgresql" else "?"
        return "(" + ", ".join([mark] * n) + ")"

    def _ts(self, value: datetime | None) -> Any:
        """A time as the driver stores it: aware on PostgreSQL, SQLAlchemy's UTC text format on SQLite."""
        if value is None:
            return None
        if self._dialect == "postgresql":
            return value
        # isoformat, not strftime: strftime does not zero-pad years before 1000 on every platform
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def _many(self, conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(stmt, rows)

    def _apply(self, conn: Connection, ch: ChangeSet) -> None:
        # Events first: a concurrent duplicate fails here, before anything else is written. Events
        # and conversations are the two big writes of every batch: plain driver executemany for them.
        if ch.events:
            ts = self._ts
            sql = "INSERT INTO sg_events (id, type, digest, at, processed_at, outcome) VALUES " + self._marks(
                6
            )
            rows = [(e.id, e.type, e.digest, ts(e.at), ts(e.processed_at), e.outcome) for e in ch.events]
            conn.exec_driver_sql(sql, rows)
        if ch.accounts:
            ins = self._insert(t.accounts)
            cols = [c.name for c in t.accounts.columns if c.name != "id"]
            stmt = ins.on_conflict_do_update(index_elements=["id"], set_={c: ins.excluded[c] for c in cols})
            self._many(conn, stmt, [_account_row(a) for a in ch.accounts])
        edge_key = tuple_(t.edges.c.kind, t.edges.c.src, t.edges.c.dst)
        for part in _chunks(list(ch.edges_removed)):
            conn.execute(delete(t.edges).where(edge_key.in_(part)))
        if ch.edges_added:
            stmt = self._insert(t.edges).on_conflict_do_nothing(index_elements=["kind", "src", "dst"])
            self._many(
                conn, stmt, [{"kind": k, "src": s, "dst": d, "since": w} for k, s, d, w in ch.edges_added]
            )
        if ch.counter_deltas:
            # one row per key: PostgreSQL refuses to update the same row twice in one INSERT
            summed: dict[tuple[str, str, int], int] = {}
            for a, c, b, v in ch.counter_deltas:
                summed[(a, c, b)] = summed.get((a, c, b), 0) + v
            ins = self._insert(t.counters)
            stmt = ins.on_conflict_do_update(
                index_elements=["account", "counter", "bucket"],
                set_={"value": t.counters.c.value + ins.excluded.value},
            )
            self._many(
                conn,
                stmt,
                [{"account": a, "counter": c, "bucket": b, "value": v} for (a, c, b), v in summed.items()],
            )
        if ch.members:
            stmt = self._insert(t.counter_members).on_conflict_do_nothing(
                index_elements=["account", "counter", "bucket", "member"]
            )
            self._many(
                conn,
                stmt,
                [{"account": a, "counter": c, "bucket": b, "member": m} for a, c, b, m in ch.members],
            )
        if ch.conversations:
            cols = [c.name for c in t.conversations.columns]
            updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
            sql = (
                f"INSERT INTO sg_conversations ({', '.join(cols)}) VALUES {self._marks(len(cols))} "
                f"ON CONFLICT (id) DO UPDATE SET {updates}"
            )
            ts = self._ts
            conv_rows = [
                (
                    c.id, c.detector_version, c.detector_state, c.messages, c.flagged, c.alerted, c.risk,
                    c.suspect, ",".join(c.stages), ts(c.updated_at),
                )
                for c in ch.conversations
            ]  # fmt: skip
            conn.exec_driver_sql(sql, conv_rows)
        if ch.outbox:
            stmt = self._insert(t.outbox).on_conflict_do_nothing(index_elements=["key"])
            self._many(
                conn,
                stmt,
                [
                    {
                        "key": o.key,
                        "kind": o.kind,
                        "payload": o.payload,
                        "created_at": o.created_at,
                        "delivered_at": None,
                        "attempts": o.attempts,
                    }
                    for o in ch.outbox
                ],
            )

    # -- outbox ----------------------------------------------------------------------------------
    def _pending(self, limit: int, prefix: str | None) -> Any:
        c = t.outbox.c
        stmt = select(t.outbox).where(c.delivered_at.is_(None), c.failed_at.is_(None))
        if prefix is not None:
            stmt = stmt.where(func.substr(c.key, 1, len(prefix)) == prefix)
        return stmt.order_by(c.id).limit(limit)

    def pending_outbox(self, limit: int = 100, *, prefix: str | None = None) -> list[OutboxItem]:
        """Undelivered items (not given up on), oldest first; ``prefix``: only keys starting with it."""
        stmt = self._pending(limit, prefix)
        return self._read(lambda conn: [_outbox_item(r) for r in conn.execute(stmt)])

    def relay_outbox(
        self,
        deliver: Callable[[OutboxItem], bool],
        when: datetime,
        limit: int = 100,
        *,
        prefix: str | None = None,
    ) -> int:
        c = t.outbox.c
        stmt = self._pending(limit, prefix)
        if self._dialect != "postgresql":
            # SQLite has one writer at a time: deliver outside the transaction so a slow receiver
            # never holds the write lock the engine needs, then record the results in one short one.
            rows = self._read(lambda conn: conn.execute(stmt).all())
            results = [(r.id, deliver(_outbox_item(r))) for r in rows]
            with self.engine.begin() as conn:
                for rid, ok in results:
                    values = {"delivered_at": when} if ok else {"attempts": c.attempts + 1}
                    conn.execute(update(t.outbox).where(c.id == rid).values(**values))
            return sum(ok for _, ok in results)
        sent = 0
        with self.engine.begin() as conn:  # rows stay locked (and skipped by other relays) until commit
            for r in conn.execute(stmt.with_for_update(skip_locked=True)).all():
                ok = deliver(_outbox_item(r))
                values = {"delivered_at": when} if ok else {"attempts": c.attempts + 1}
                conn.execute(update(t.outbox).where(c.id == r.id).values(**values))
                sent += int(ok)
        return sent

    def prune(self, before_bucket: int) -> int:
        with self.engine.begin() as conn:
            n = conn.execute(delete(t.counters).where(t.counters.c.bucket < before_bucket)).rowcount
            n += conn.execute(
                delete(t.counter_members).where(t.counter_members.c.bucket < before_bucket)
            ).rowcount
        return int(n)

    def close(self) -> None:
        self.engine.dispose()


def _account_row(a: AccountRecord) -> dict[str, Any]:
    return {
        "id": a.id,
        "age_band": a.age_band.value,
        "birth_date": a.birth_date,
        "assurance": a.assurance.value,
        "created_at": a.created_at,
        "country": a.country,
        "timezone": a.timezone,
        "risk_alerted": a.risk_alerted,
        "pattern_alert_until": a.pattern_alert_until,
        "display_name": a.display_name,
        "controls": a.controls,
    }


def _outbox_item(r: Any) -> OutboxItem:
    return OutboxItem(key=r.key, kind=r.kind, payload=r.payload, created_at=r.created_at, attempts=r.attempts)
