"""``safeguarding evidence verify``, ``referral export|verify`` and ``retention run`` end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert, select, text

from safeguarding.cli import main
from safeguarding.engine.outcome import Alert, AlertKind, Outcome
from safeguarding.events.types import MessageEvent
from safeguarding.evidence import record_messages, record_outcome
from safeguarding.evidence.sql import SqlEvidenceLog, evidence
from safeguarding.policy.model import Decision, Verdict
from safeguarding.store import upgrade_database
from safeguarding.store.moderation import messages
from safeguarding.store.sql import create_db_engine

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
REPORTER_ENV = {
    "SAFEGUARDING_REPORTER_COMPANY": "Example Games Ltd",
    "SAFEGUARDING_REPORTER_FIRST_NAME": "Sam",
    "SAFEGUARDING_REPORTER_LAST_NAME": "Safety",
    "SAFEGUARDING_REPORTER_EMAIL": "safety@example.invalid",
}


def seed(url: str, at: datetime = T0) -> None:
    """Two conversations, each with three messages and a grooming alert (keys c1-e2:0, c2-e2:0)."""
    upgrade_database(url)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        log = SqlEvidenceLog(conn, "acme")
        for conv in ("c1", "c2"):
            msgs = [
                MessageEvent(f"{conv}-e{i}", at + timedelta(minutes=i), conv, a, (b,), t)
                for i, (a, b, t) in enumerate(
                    [("m1", "k1", "hi"), ("k1", "m1", "hello"), ("m1", "k1", "meet me, keep it secret")]
                )
            ]
            record_messages(log, msgs, actor="engine", at=at)
            conn.execute(
                insert(messages),
                [{"tenant": "acme", "id": m.id, "conversation": conv, "sender": m.sender,
                  "recipients": json.dumps(m.recipients), "grp": None, "at": m.at, "text": m.text}
                 for m in msgs],
            )  # fmt: skip
            alert = Alert(AlertKind.GROOMING, "m1", conv, 0.9, ("meeting",))
            decision = Decision(Verdict.HOLD_FOR_REVIEW, "r", "p1")
            outcome = Outcome(f"{conv}-e2", "message", decision, (alert,))
            record_outcome(log, outcome, actor="engine", at=at, conversation=conv, subject="m1")
    engine.dispose()


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def url(db_url: str) -> str:
    seed(db_url)
    return db_url


def test_verify_passes_then_fails_naming_the_altered_row(url: str) -> None:
    res = cli("evidence", "verify", "--db", url)
    assert res.exit_code == 0, res.stderr
    assert "ok: 10 entries verified" in res.stdout and "chain acme: head 10" in res.stdout
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE sg_evidence SET payload = replace(payload, 'secret', 'quiet') WHERE seq = 3")
        )
    engine.dispose()
    res = cli("evidence", "verify", "--db", url)
    assert res.exit_code == 1
    assert "first broken entry chain 'acme' entry 3: payload altered" in res.stderr


def test_export_and_verify_a_package_then_detect_tampering(url: str, tmp_path: Path) -> None:
    out = tmp_path / "referral"
    res = cli("referral", "export", "c1-e2:0", "--db", url, "-o", str(out),
              "--imminent-danger", "meeting tonight", env=REPORTER_ENV)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "3 messages" in res.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "conversation.json", "evidence.json", "manifest.json", "report.json"
    ]  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["priority"]["imminent_danger"] and report["case"]["conversation"] == "c1"
    assert cli("referral", "verify", str(out)).exit_code == 0
    assert cli("evidence", "verify", "--db", url).exit_code == 0  # holds and export are chained too
    conv = out / "conversation.json"
    conv.write_text(conv.read_text().replace("keep it secret", "see you"))
    res = cli("referral", "verify", str(out))
    assert res.exit_code == 1 and "conversation.json: sha256 differs" in res.stderr


def test_export_refuses_without_reporter_details_and_unknown_cases(url: str, tmp_path: Path) -> None:
    res = cli("referral", "export", "c1", "--db", url, "-o", str(tmp_path / "p.zip"))
    assert res.exit_code == 2 and "SAFEGUARDING_REPORTER_" in res.stderr
    res = cli("referral", "export", "nope", "--db", url, "-o", str(tmp_path / "p.zip"), env=REPORTER_ENV)
    assert res.exit_code == 1 and "no evidence for case" in res.stderr
    assert not (tmp_path / "p.zip").exists()


def test_export_merges_the_platforms_copy_of_the_conversation(url: str, tmp_path: Path) -> None:
    line = {"id": "c1", "messages": [{"author": "m1", "text": "first contact", "time": "2026-01-04T10:00:00Z",
                                      "recipients": ["k1"]}]}  # fmt: skip
    src = tmp_path / "c1.jsonl"
    src.write_text(json.dumps(line) + "\n")
    out = tmp_path / "p.zip"
    res = cli(
        "referral", "export", "c1", "--db", url, "-o", str(out), "--conversation", str(src), env=REPORTER_ENV
    )
    assert res.exit_code == 0, res.stderr
    assert "4 messages" in res.stdout and cli("referral", "verify", str(out)).exit_code == 0
    bad = tmp_path / "naive.jsonl"
    bad.write_text(
        json.dumps({"id": "c1", "messages": [{"author": "m1", "text": "x", "time": "2026-01-04T10:00"}]})
    )
    res = cli("referral", "export", "c1", "--db", url, "-o", str(tmp_path / "q"), "--conversation", str(bad),
              env=REPORTER_ENV)  # fmt: skip
    assert res.exit_code == 2 and "no time zone" in res.stderr


def test_retention_run_reports_and_spares_the_held_case(url: str, tmp_path: Path) -> None:
    assert (
        cli("referral", "export", "c1", "--db", url, "-o", str(tmp_path / "p"), env=REPORTER_ENV).exit_code
        == 0
    )
    res = cli("retention", "run", "--db", url, "--dry-run", "--evidence-days", "30")
    assert res.exit_code == 0, res.stderr
    assert (
        "would remove the payloads of 5 evidence entries" in res.stdout
        and "chain acme: entries 6-10" in res.stdout
    )
    assert "would remove 3 rows of sg_messages (older than 30 days); kept 3 on legal hold" in res.stdout
    res = cli("retention", "run", "--db", url, "--evidence-days", "30")
    assert res.exit_code == 0 and "removed the payloads of 5 evidence entries" in res.stdout
    assert (
        "removed 3 rows of sg_messages" in res.stdout
        and "removed 0 rows of sg_referral_packages" in res.stdout
    )
    assert cli("retention", "run", "--db", url, "--evidence-days", "30").stdout.startswith(
        "removed the payloads of 0"
    )
    engine = create_db_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(evidence.c.seq, evidence.c.payload).order_by(evidence.c.seq)).all()
    engine.dispose()
    assert all(r.payload for r in rows[:5]) and not any(r.payload for r in rows[5:10])
    res = cli("evidence", "verify", "--db", url)
    assert res.exit_code == 0 and "5 purged by retention" in res.stdout


def test_list_and_release_a_legal_hold(url: str, tmp_path: Path) -> None:
    assert (
        cli("referral", "export", "c1", "--db", url, "-o", str(tmp_path / "p"), env=REPORTER_ENV).exit_code
        == 0
    )
    res = cli("evidence", "holds", "--db", url)
    assert res.exit_code == 0, res.stderr
    [line] = [x for x in res.stdout.splitlines() if "\tconversation c1\t" in x]
    hold_id, chain, case = line.split("\t")[:3]
    assert chain == "acme" and case == "conversation c1" and "active" in line
    res = cli("evidence", "release-hold", hold_id, "--reason", "case closed", "--actor", "mod", "--db", url)
    assert res.exit_code == 0 and "released hold" in res.stdout and "protected until" in res.stdout
    after = cli("evidence", "holds", "--db", url).stdout
    assert next(x for x in after.splitlines() if x.startswith(f"{hold_id}\t")).count("released ") == 1
    missing = cli("evidence", "release-hold", "999", "--reason", "x", "--actor", "y", "--db", url)
    assert missing.exit_code == 1 and "no legal hold 999" in missing.stderr
    assert cli("evidence", "verify", "--db", url).exit_code == 0  # the release is sealed in the chain
