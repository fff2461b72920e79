"""Retention of the tables beside the log (message text, referral packages) on SQLite and PostgreSQL:
held data survives, unheld old data is deleted, recent data is kept, evidence entries never go."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from evidence_helpers import T0, record_case
from sqlalchemy import Connection, Engine, func, insert, select

from safeguarding.evidence.retention import RetentionPolicy
from safeguarding.evidence.sql import SqlEvidenceLog, evidence, holds, place_hold, release_hold, verify_log
from safeguarding.store import moderation as mod
from safeguarding.store import schema as t
from safeguarding.store import upgrade_database
from safeguarding.store.retention import run_all
from safeguarding.store.sql import create_db_engine

POLICY = RetentionPolicy(evidence_days=30)
OLD, RECENT = T0, T0 + timedelta(days=40)
NOW = T0 + timedelta(days=45)  # OLD is past the 30 days, RECENT is not


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    upgrade_database(db_url)
    eng = create_db_engine(db_url)
    yield eng
    eng.dispose()


def add_messages(conn: Connection, tenant: str, conversation: str, at: datetime, n: int = 3) -> None:
    conn.execute(
        insert(mod.messages),
        [
            {"tenant": tenant, "id": f"{conversation}-m{i}", "conversation": conversation, "sender": "a1",
             "recipients": json.dumps(["k1"]), "grp": None, "at": at + timedelta(minutes=i), "text": "hi"}
            for i in range(n)
        ],
    )  # fmt: skip


def add_alert(conn: Connection, tenant: str, key: str, conversation: str | None, subject: str) -> None:
    conn.execute(
        insert(t.alerts).values(
            tenant=tenant, key=key, kind="grooming", subject=subject, conversation=conversation, risk=0.9,
            stages="", reasons="[]", event_id=key.split(":")[0], event_at=OLD, created_at=OLD,
        )
    )  # fmt: skip


def add_package(conn: Connection, tenant: str, pid: str, case: str, at: datetime) -> None:
    mod.save_package(
        conn, package_id=pid, tenant=tenant, case_key=case, created_at=at, actor="moderator:u1",
        manifest_sha256="0" * 64, data=b"PK",
    )  # fmt: skip


def left(conn: Connection) -> tuple[set[str], set[str]]:
    conversations = {r[0] for r in conn.execute(select(mod.messages.c.conversation).distinct())}
    return conversations, {r[0] for r in conn.execute(select(mod.packages.c.package_id))}


def seed(engine: Engine) -> int:
    """acme: c1 held (old), c2 unheld (old), c3 recent; account case a9 held; zeta's c1 not held."""
    with engine.begin() as conn:
        for conv, at in (("c1", OLD), ("c2", OLD), ("c3", RECENT)):
            add_messages(conn, "acme", conv, at)
            add_alert(conn, "acme", f"{conv}-e1:0", conv, "a1")
        add_messages(conn, "zeta", "c1", OLD)  # same id on another platform: its own case, not held
        add_alert(conn, "acme", "f1:0", None, "a9")
        add_package(conn, "acme", "p-held", "c1-e1:0", OLD)
        add_package(conn, "acme", "p-old", "c2-e1:0", OLD)
        add_package(conn, "acme", "p-recent", "c3-e1:0", RECENT)
        add_package(conn, "acme", "p-account", "f1:0", OLD)
        add_package(conn, "acme", "p-conv-id", "c1", OLD)  # a case key that is a conversation id
        record_case(SqlEvidenceLog(conn, "acme"), conversation="c1", at=OLD)
        record_case(SqlEvidenceLog(conn, "acme"), conversation="c2", at=OLD)
        place_hold(conn, "acme", "c1", reason="referral", actor="mod", at=OLD)
        hold = place_hold(conn, "acme", "a9", reason="referral", actor="mod", at=OLD, account=True)
    return hold.id


def test_held_data_survives_old_data_goes_recent_data_stays(engine: Engine) -> None:
    seed(engine)
    with engine.connect() as conn:
        entries_before = conn.execute(select(func.count()).select_from(evidence)).scalar_one()
    with engine.begin() as conn:
        dry = run_all(conn, POLICY, NOW, dry_run=True)
    with engine.connect() as conn:
        assert left(conn) == ({"c1", "c2", "c3"}, {"p-held", "p-old", "p-recent", "p-account", "p-conv-id"})
    with engine.begin() as conn:
        report = run_all(conn, POLICY, NOW)
    assert dry.tables == report.tables
    by_table = {x.table: x for x in report.tables}
    msgs, pkgs = by_table["sg_messages"], by_table["sg_referral_packages"]
    assert (msgs.removed, msgs.kept_on_hold, msgs.kept_young) == (6, 3, 3)  # c2 and zeta's c1 go
    assert (pkgs.removed, pkgs.kept_on_hold, pkgs.kept_young) == (1, 3, 1)
    with engine.connect() as conn:
        conversations, packages = left(conn)
        zeta = conn.execute(select(func.count()).where(mod.messages.c.tenant == "zeta")).scalar_one()
        entries_after = conn.execute(select(func.count()).select_from(evidence)).scalar_one()
        assert verify_log(conn).ok
    assert conversations == {"c1", "c3"} and zeta == 0
    assert packages == {"p-held", "p-recent", "p-account", "p-conv-id"}
    # evidence entries are never deleted: the purge clears payloads in place and adds its own entries — one
    # for the evidence log, one per tenant and table it deleted rows from (what, how many, never the rows)
    assert entries_after == entries_before + 4 and report.evidence.cleared > 0
    with engine.connect() as conn:
        sealed = [
            (r.chain, json.loads(r.payload))
            for r in conn.execute(select(evidence.c.chain, evidence.c.payload).where(
                evidence.c.kind == "retention_purge"))
        ]  # fmt: skip
    tables = {(chain, p["table"]): p["deleted"] for chain, p in sealed if "table" in p}
    assert tables == {
        ("acme", "sg_messages"): 3,
        ("zeta", "sg_messages"): 3,
        ("acme", "sg_referral_packages"): 1,
    }
    assert [p["packages"] for _, p in sealed if p.get("table") == "sg_referral_packages"] == [["p-old"]]
    lines = report.lines()
    assert "removed 6 rows of sg_messages (older than 30 days); kept 3 on legal hold, 3 younger" in lines
    assert any("never deleted" in line for line in lines)


def test_a_released_hold_protects_for_the_minimum_period_then_lets_go(engine: Engine) -> None:
    account_hold = seed(engine)
    with engine.begin() as conn:
        c1_hold = next(h for h in holds(conn) if h.case == "c1")
        release_hold(conn, c1_hold.id, actor="mod", at=NOW, reason="closed")
        release_hold(conn, account_hold, actor="mod", at=NOW, reason="closed")
        within = run_all(conn, POLICY, NOW + timedelta(days=1))
    assert {x.table: x.kept_on_hold for x in within.tables} == {"sg_messages": 3, "sg_referral_packages": 3}
    with engine.begin() as conn:
        after = run_all(conn, POLICY, OLD + timedelta(days=366))
    assert {x.table: x.removed for x in after.tables} == {"sg_messages": 6, "sg_referral_packages": 4}
    with engine.connect() as conn:
        assert left(conn) == (set(), set()) and verify_log(conn).ok
