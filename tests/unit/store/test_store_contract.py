"""The Store contract, run against every implementation (memory, SQLite, PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from safeguarding.errors import ConfigError, ConflictError
from safeguarding.store import (
    AccountRecord,
    ChangeSet,
    ConversationRecord,
    OutboxItem,
    ProcessedEvent,
    Store,
    open_store,
)
from safeguarding.types import AgeBand, Assurance

T = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


def ev(i: str) -> ProcessedEvent:
    return ProcessedEvent(i, "follow", "d" * 32, T, T, '{"v":"allow"}')


def test_round_trip_of_every_row_kind(store: Store) -> None:
    acc = AccountRecord(
        "k1", AgeBand.AGE_13_15, date(2011, 2, 3), Assurance.VERIFIED, T, "GB", "Europe/London", True, T
    )
    conv = ConversationRecord(
        "c1", "m1", b"\x00state\xff", 3, True, True, 0.91, "a1", ("trust_building", "gifts"), T
    )
    store.commit(
        ChangeSet(
            events=(ev("e1"),),
            accounts=(acc,),
            edges_added=(("follow", "k1", "a1", T), ("block", "k1", "x", T)),
            counter_deltas=(("a1", "c", 10, 2), ("a1", "c", 10, 3), ("a1", "c", 11, 1)),
            members=(("a1", "m", 10, "k1"),),
            conversations=(conv,),
            outbox=(OutboxItem("e1:0", "alert", "{}", T),),
        )
    )
    assert store.processed(["e1", "nope"]) == {"e1": ev("e1")}
    assert store.accounts(["k1", "zz"]) == {"k1": acc}
    assert store.edges([("follow", "k1", "a1"), ("follow", "a1", "k1"), ("block", "k1", "x")]) == {
        ("follow", "k1", "a1"),
        ("block", "k1", "x"),
    }
    assert sorted(store.counters(["a1"], 0)) == [("a1", "c", 10, 5), ("a1", "c", 11, 1)]
    assert store.counters(["a1"], 11) == [("a1", "c", 11, 1)]
    assert store.members(["a1", "b"], 0) == [("a1", "m", 10, "k1")]
    assert store.conversations(["c1"]) == {"c1": conv}
    assert [o.key for o in store.pending_outbox()] == ["e1:0"]
    assert store.accounts([]) == {} and store.edges([]) == set() and store.processed([]) == {}


def test_times_come_back_aware_in_utc(store: Store) -> None:
    local = datetime(2026, 1, 5, 19, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    store.commit(ChangeSet(accounts=(AccountRecord("a", created_at=local),)))
    got = store.accounts(["a"])["a"].created_at
    assert got == local and got is not None and got.utcoffset() is not None


def test_counters_add_deltas_across_commits(store: Store) -> None:
    store.commit(ChangeSet(counter_deltas=(("a", "c", 1, 2),)))
    store.commit(
        ChangeSet(counter_deltas=(("a", "c", 1, 5),), members=(("a", "m", 1, "x"), ("a", "m", 1, "y")))
    )
    store.commit(ChangeSet(members=(("a", "m", 1, "x"),)))
    assert store.counters(["a"], 0) == [("a", "c", 1, 7)]
    assert sorted(store.members(["a"], 0)) == [("a", "m", 1, "x"), ("a", "m", 1, "y")]


def test_upserts_and_edge_removal(store: Store) -> None:
    store.commit(
        ChangeSet(accounts=(AccountRecord("a", AgeBand.UNKNOWN),), edges_added=(("follow", "a", "b", T),))
    )
    store.commit(
        ChangeSet(
            accounts=(AccountRecord("a", AgeBand.ADULT, risk_alerted=True),),
            edges_removed=(("follow", "a", "b"),),
            edges_added=(("follow", "b", "a", T),),
        )
    )
    assert store.accounts(["a"])["a"].age_band is AgeBand.ADULT and store.accounts(["a"])["a"].risk_alerted
    assert store.edges([("follow", "a", "b"), ("follow", "b", "a")]) == {("follow", "b", "a")}
    store.commit(ChangeSet(conversations=(ConversationRecord("c", messages=1),)))
    store.commit(ChangeSet(conversations=(ConversationRecord("c", messages=2, detector_state=b"x"),)))
    assert store.conversations(["c"])["c"].messages == 2


def test_duplicate_event_rejects_the_whole_batch(store: Store) -> None:
    store.commit(ChangeSet(events=(ev("e1"),)))
    with pytest.raises(ConflictError):
        store.commit(ChangeSet(events=(ev("e2"), ev("e1")), counter_deltas=(("a", "c", 1, 1),)))
    assert store.processed(["e2"]) == {}
    assert store.counters(["a"], 0) == []


def test_outbox_relay_is_at_least_once(store: Store) -> None:
    store.commit(ChangeSet(outbox=tuple(OutboxItem(f"e{i}:0", "alert", f'{{"i":{i}}}', T) for i in range(3))))
    store.commit(ChangeSet(outbox=(OutboxItem("e0:0", "alert", "dup", T),)))  # same key: ignored
    seen: list[str] = []

    def flaky(item: OutboxItem) -> bool:
        seen.append(item.key)
        return item.key != "e1:0"

    assert store.relay_outbox(flaky, T) == 2
    pending = store.pending_outbox()
    assert [(o.key, o.attempts) for o in pending] == [("e1:0", 1)]
    assert store.relay_outbox(lambda item: True, T) == 1
    assert store.pending_outbox() == [] and seen == ["e0:0", "e1:0", "e2:0"]


def test_prune_drops_old_buckets(store: Store) -> None:
    store.commit(
        ChangeSet(counter_deltas=(("a", "c", 1, 1), ("a", "c", 5, 1)), members=(("a", "m", 1, "x"),))
    )
    assert store.prune(3) == 2
    assert store.counters(["a"], 0) == [("a", "c", 5, 1)] and store.members(["a"], 0) == []


def test_many_keys_are_chunked(store: Store) -> None:
    keys = [("follow", f"a{i}", "b") for i in range(1200)]
    store.commit(ChangeSet(edges_added=tuple((*k, T) for k in keys[::2])))
    assert len(store.edges(keys)) == 600


def test_sql_store_migrates_and_reopens(db_url: str) -> None:
    from safeguarding.store import migrate, upgrade_database

    s = open_store(db_url)
    s.commit(ChangeSet(events=(ev("e1"),)))
    assert migrate.current_revision(s.engine) == migrate.head_revision()
    s.close()
    assert upgrade_database(db_url) == migrate.head_revision()
    s2 = open_store(db_url, migrate=False)
    assert "e1" in s2.processed(["e1"])
    s2.close()


def test_sqlite_uses_wal(tmp_path: object) -> None:
    from pathlib import Path

    s = open_store(f"sqlite:///{Path(str(tmp_path)) / 'w.db'}")
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    s.close()


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url"])
def test_unsupported_urls_fail_clearly(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)


def test_postgres_url_gets_psycopg_driver() -> None:
    from safeguarding.store.sql import normalise_url

    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_readers_are_not_blocked_by_a_writer(tmp_path: object) -> None:
    """WAL: while a batch transaction is open, readers see the last committed state without waiting."""
    from pathlib import Path

    from safeguarding.store import schema

    url = f"sqlite:///{Path(str(tmp_path)) / 'c.db'}"
    writer, reader = open_store(url), open_store(url)
    writer.commit(ChangeSet(events=(ev("e1"),)))
    with writer.engine.begin() as conn:
        conn.execute(
            schema.events.insert().values(id="e2", type="x", digest="d", at=T, processed_at=T, outcome="{}")
        )
        assert set(reader.processed(["e1", "e2"])) == {"e1"}  # no "database is locked", no dirty read
    assert set(reader.processed(["e1", "e2"])) == {"e1", "e2"}
    writer.close()
    reader.close()
