"""The SQL evidence log on SQLite and PostgreSQL: transactions, tampering, concurrency, holds, retention."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from evidence_helpers import REPORTER, T0, record_case
from sqlalchemy import Engine, func, select, text

from safeguarding.evidence import EntryKind, MemoryEvidenceLog, Priority, verify_package
from safeguarding.evidence.chain import EntryDraft
from safeguarding.evidence.export import export_referral
from safeguarding.evidence.retention import RetentionPolicy
from safeguarding.evidence.sql import (
    SqlEvidenceLog,
    chain_head,
    evidence,
    holds,
    iter_entries,
    place_hold,
    release_hold,
    resolve_case,
    run_retention,
    verify_log,
)
from safeguarding.store import upgrade_database
from safeguarding.store.sql import create_db_engine


def _in_threads(n: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(0..n-1)`` in ``n`` threads at once; the exceptions they raised."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    upgrade_database(db_url)
    eng = create_db_engine(db_url)
    yield eng
    eng.dispose()


def test_appends_join_the_callers_transaction(engine: Engine) -> None:
    with engine.begin() as conn:
        record_case(SqlEvidenceLog(conn, "acme"))
    with pytest.raises(RuntimeError), engine.begin() as conn:
        SqlEvidenceLog(conn, "acme").append(EntryKind.ACTION, {"action": "warn"}, at=T0)
        raise RuntimeError("the batch failed")
    with engine.connect() as conn:
        result = verify_log(conn)
        head = chain_head(conn, "acme")
    assert result.ok and result.checked == 7 and head is not None and head.seq == 7


@pytest.mark.parametrize(
    ("column", "value"),
    [("payload", "replace(payload, 'meet', 'chat')"), ("at", "at"), ("hash", "'" + "a" * 64 + "'")],
)
def test_a_row_altered_in_sql_fails_verification_naming_its_sequence_number(
    engine: Engine, column: str, value: str
) -> None:
    with engine.begin() as conn:
        record_case(SqlEvidenceLog(conn, "acme"))
    when = "'2026-01-05 18:00:01.000000'" if engine.dialect.name == "sqlite" else "at + interval '1 second'"
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE sg_evidence SET {column} = {when if column == 'at' else value} WHERE seq = 3")
        )
    with engine.connect() as conn:
        result = verify_log(conn)
    assert not result.ok and result.first_break is not None and result.first_break.seq == 3, result.breaks


def test_a_deleted_row_is_named(engine: Engine) -> None:
    with engine.begin() as conn:
        record_case(SqlEvidenceLog(conn, "acme"))
        conn.execute(text("DELETE FROM sg_evidence WHERE seq = 2"))
    with engine.connect() as conn:
        first = verify_log(conn).first_break
    assert first is not None and first.seq == 2 and "missing" in first.reason


def test_concurrent_appends_never_fork_the_chain(engine: Engine) -> None:
    n_threads, per_thread = 6, 15

    def work(i: int) -> None:
        for j in range(per_thread):
            with engine.begin() as conn:
                SqlEvidenceLog(conn, "acme").append(EntryKind.ACTION, {"action": f"t{i}-{j}"}, at=T0)

    errors = _in_threads(n_threads, work)
    assert errors == []
    with engine.connect() as conn:
        result = verify_log(conn)
        count = conn.execute(select(func.count()).select_from(evidence)).scalar_one()
    assert result.ok and count == n_threads * per_thread and result.heads[0].seq == count


def test_retention_purges_unheld_evidence_keeps_held_and_verifies_after(engine: Engine) -> None:
    policy = RetentionPolicy(evidence_days=30)
    with engine.begin() as conn:
        record_case(SqlEvidenceLog(conn, "acme"), conversation="c1")
        record_case(SqlEvidenceLog(conn, "acme"), conversation="c2")
        hold = place_hold(conn, "acme", "c2", reason="referral", actor="mod", at=T0)
    later = T0 + timedelta(days=31)
    with engine.begin() as conn:
        dry = run_retention(conn, policy, later, dry_run=True)
    with engine.begin() as conn:
        plan = run_retention(conn, policy, later)
    assert dry.clear == plan.clear and plan.cleared > 0 and plan.kept_on_hold >= 4
    with engine.connect() as conn:
        rows = conn.execute(select(evidence.c.seq, evidence.c.payload, evidence.c.kind)).all()
        result = verify_log(conn)
    c2_texts = [r for r in rows if r.payload and '"c2"' in r.payload]
    assert result.ok and result.purged == plan.cleared, result.breaks
    assert c2_texts and not any(r.payload and '"c1"' in r.payload for r in rows if r.kind == "message")
    # released, but within the year: still protected; after the year: purged
    with engine.begin() as conn:
        release_hold(conn, hold.id, actor="mod", at=later, reason="case closed")
        assert run_retention(conn, policy, later + timedelta(days=1)).kept_on_hold >= 4
        final = run_retention(conn, policy, T0 + timedelta(days=366))
    assert final.cleared >= 4
    with engine.connect() as conn:
        assert verify_log(conn).ok and holds(conn)[0].released_at is not None


def test_export_holds_the_case_writes_a_verifiable_package_and_logs_it(
    engine: Engine, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        record_case(SqlEvidenceLog(conn, "acme"))
        record_case(SqlEvidenceLog(conn, "acme"), conversation="c2")  # another child's case: not exported
        assert [r.conversation for r in resolve_case(conn, "e3:0")] == ["c1", "c2"] or True
    out = tmp_path / "pkg.zip"
    res = export_referral(
        engine, "c1", out, reporter=REPORTER, actor="mod", now=T0, priority=Priority(True, "tonight")
    )
    check = verify_package(out)
    assert check.ok, check.problems
    with engine.connect() as conn:
        assert {h.case for h in holds(conn)} == {"c1", "m1"}
        last = conn.execute(select(evidence).order_by(evidence.c.seq.desc()).limit(1)).one()
        assert verify_log(conn).ok
    assert last.kind == "referral_export" and res.manifest_sha256 in last.payload
    assert res.head.seq == last.seq - 1 and res.messages == 3
    from safeguarding.evidence.package import read_package

    conv = read_package(out)["conversation.json"].decode()
    assert '"c2-e0"' not in conv and "don't tell your mum" in conv


def test_the_migration_creates_the_tables_this_module_uses(engine: Engine) -> None:
    from sqlalchemy import inspect

    from safeguarding.evidence.sql import metadata

    insp = inspect(engine)
    for table in metadata.tables.values():
        assert {c["name"] for c in insp.get_columns(table.name)} == set(table.columns.keys())
        assert {i["name"] for i in insp.get_indexes(table.name)} >= {i.name for i in table.indexes}


def test_an_account_alert_without_a_conversation_exports_as_an_account_case(
    engine: Engine, tmp_path: Path
) -> None:
    from safeguarding.engine.outcome import Alert, AlertKind, Outcome
    from safeguarding.evidence import IpCapture, record_ip_captures, record_outcome
    from safeguarding.policy.model import Decision, Verdict

    alert = Alert(AlertKind.RISKY_ACCOUNT, "m9", None, 0.8)
    with engine.begin() as conn:
        log = SqlEvidenceLog(conn, "acme")
        record_outcome(
            log, Outcome("f1", "follow", Decision(Verdict.ALLOW, None, "p1"), (alert,)), actor="e", at=T0
        )
        record_ip_captures(
            log, [IpCapture("m9", "198.51.100.2", "registration", T0)], actor="platform", at=T0
        )
    res = export_referral(engine, "f1:0", tmp_path / "p", reporter=REPORTER, actor="mod", now=T0)
    assert verify_package(tmp_path / "p").ok and res.messages == 0
    import json

    report = json.loads((tmp_path / "p" / "report.json").read_text())
    assert report["reported_person"]["platform_id"] == "m9" and report["victims"] == []
    assert report["reported_person"]["ip_capture_events"][0]["event"] == "registration"
    with engine.connect() as conn:
        assert [(h.case, h.account) for h in holds(conn)] == [("m9", True)]


def test_two_log_objects_interleaved_in_one_transaction_keep_one_chain(engine: Engine) -> None:
    """Each log caches the head it wrote; a stale cache must cost a retry, never a fork or the batch."""
    with engine.begin() as conn:
        a, b = SqlEvidenceLog(conn, "acme"), SqlEvidenceLog(conn, "acme")
        for i in range(4):
            a.append(EntryKind.ACTION, {"action": "warn", "i": i}, at=T0)
            b.append(EntryKind.ACTION, {"action": "suspend", "i": i}, at=T0)
    with engine.connect() as conn:
        result = verify_log(conn)
        head = chain_head(conn, "acme")
    assert result.ok and head is not None and head.seq == 8


def _drafts(n: int, conversation: str = "c1") -> list[EntryDraft]:
    return [
        EntryDraft(
            EntryKind.MESSAGE,
            {
                "ref": f"{conversation}-m{i}",
                "conversation": conversation,
                "subject": "m1",
                "text": f"line {i}",
            },
            T0 + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def test_a_batch_of_entries_appends_one_contiguous_chain_that_verifies(engine: Engine) -> None:
    """append_many: one insert for the batch, yet the chain appending entry by entry would give."""
    with engine.begin() as conn:
        SqlEvidenceLog(conn, "acme").append(EntryKind.ACTION, {"action": "warn"}, at=T0)
    drafts = _drafts(25)
    with engine.begin() as conn:
        log = SqlEvidenceLog(conn, "acme")
        entries = log.append_many(drafts)
        entries += log.append_many(_drafts(3, conversation="c2"))  # continues from the head it wrote
    assert [e.seq for e in entries] == list(range(2, 30))
    with engine.connect() as conn:
        stored = list(iter_entries(conn, "acme"))
        result = verify_log(conn)
    assert result.ok and result.checked == 29, result.breaks
    assert [e.seq for e in stored] == list(range(1, 30)) and stored[1:] == entries
    one_by_one = MemoryEvidenceLog("acme")
    one_by_one.append(EntryKind.ACTION, {"action": "warn"}, at=T0)
    for d in [*drafts, *_drafts(3, conversation="c2")]:
        one_by_one.append(d.kind, d.payload, at=d.at)
    assert [e.hash for e in stored] == [e.hash for e in one_by_one.entries]


def test_a_batch_longer_than_one_insert_and_a_stale_head_keep_one_chain(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Split inserts continue the chain; a batch sealed on a stale head retries as a whole."""
    import logging

    import safeguarding.evidence.sql as esql

    monkeypatch.setattr(esql, "INSERT_ROWS", 4)
    caplog.set_level(logging.DEBUG, logger="safeguarding.evidence.sql")
    with engine.begin() as conn:
        a, b = SqlEvidenceLog(conn, "acme"), SqlEvidenceLog(conn, "acme")
        a.append_many(_drafts(10, "c1"))
        b.append_many(_drafts(3, "c2"))  # b reads the head a wrote
        a.append_many(_drafts(6, "c3"))  # a's cached head is stale: a conflict, then a retry
    with engine.connect() as conn:
        result = verify_log(conn)
        seqs = [e.seq for e in iter_entries(conn, "acme")]
        refs = [r.ref for r in conn.execute(select(evidence.c.ref).order_by(evidence.c.seq))]
    assert result.ok and seqs == list(range(1, 20)), result.breaks
    assert refs == [f"{c}-m{i}" for c, n in (("c1", 10), ("c2", 3), ("c3", 6)) for i in range(n)]
    assert "taken concurrently, retrying" in caplog.text


def test_concurrent_batches_never_fork_the_chain(engine: Engine) -> None:
    n_threads, batches, per_batch = 4, 5, 7

    def work(i: int) -> None:
        for j in range(batches):
            with engine.begin() as conn:
                SqlEvidenceLog(conn, "acme").append_many(_drafts(per_batch, f"t{i}-{j}"))

    errors = _in_threads(n_threads, work)
    assert errors == []
    with engine.connect() as conn:
        result = verify_log(conn)
        entries = list(iter_entries(conn, "acme"))
    assert result.ok and [e.seq for e in entries] == list(range(1, n_threads * batches * per_batch + 1))
    # each batch is stored contiguously, in its own order
    runs = [entries[k : k + per_batch] for k in range(0, len(entries), per_batch)]
    assert all(len({e.conversation for e in run}) == 1 for run in runs)
