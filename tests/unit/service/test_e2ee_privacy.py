"""Issue 7's proof: the whole demo conversation played encrypted through the running service, then every
table, every file the service wrote, the evidence log and the DEBUG log searched for the conversation's
sentences. Text is found only inside verified reports, and there exactly the messages the child chose
to report."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, KeywordDetector, Service, running, settings_for
from sqlalchemy import MetaData, Table, inspect, select
from test_e2ee_api import KEY, HttpUplink

from safeguarding.engine import FrozenClock
from safeguarding.service.e2ee_demo import play_e2ee
from safeguarding.synth.scenario import build_scenario


@pytest.fixture(scope="module")
def detector() -> Any:
    from safeguarding.detection import load_detector

    return load_detector()  # the bundled model, as devices run it


@pytest.fixture
def e2ee(db_url: str, frozen_clock: FrozenClock) -> Iterator[Service]:
    with running(settings_for(db_url, franking_key=KEY), frozen_clock, KeywordDetector()) as svc:
        svc.add_tenant("acme")
        yield svc


def sentences(text: str) -> set[str]:
    """The text and its sentences of at least 12 characters (what a leak would be recognised by)."""
    parts = {p.strip() for p in re.split(r"(?<=[.!?])\s+", text)} | {text.strip()}
    return {p for p in parts if len(p) >= 12}


def forms(sentence: str) -> tuple[str, ...]:
    """How a sentence may be written down: as is, and inside JSON (escaped quotes; non-ASCII as is or as
    ``\\uXXXX``), so a leak stored as JSON is found too."""
    return tuple({sentence, json.dumps(sentence)[1:-1], json.dumps(sentence, ensure_ascii=False)[1:-1]})


def contains(haystack: str, sentence: str) -> bool:
    return any(f in haystack for f in forms(sentence))


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def dump(svc: Service) -> list[tuple[str, str]]:
    """``(table, row as text)`` for every row of every table in the database."""
    engine = svc.ctx.sql.engine
    out = []
    with engine.connect() as conn:
        for name in inspect(engine).get_table_names():
            table = Table(name, MetaData(), autoload_with=conn)
            for row in conn.execute(select(table)):
                cells = [_text(v) for v in row]
                out.append((name, "\x1f".join(cells)))
    return out


def test_the_encrypted_demo_leaves_no_plaintext_outside_verified_reports(
    e2ee: Service, detector: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    scenario = build_scenario(0, start=e2ee.clock.now())
    play = play_e2ee(scenario, detector, HttpUplink(e2ee))

    # the demo did what it shows: messages relayed, a device alert and a verified report as alerts
    assert play.messages == sum(len(c.conversation.messages) for c in scenario.conversations)
    assert play.rejected == 0 and play.deliveries > 0
    assert [a["status"] for a in play.device_alerts] == ["accepted"]
    assert [r["status"] for r in play.reports] == ["accepted"]
    kinds = {
        a["kind"]
        for a in e2ee.client.get("/v1/alerts?limit=500", headers=e2ee.key_headers("acme")).json()["alerts"]
    }
    assert {"device_grooming", "verified_report"} <= kinds

    # what the reporter revealed, as a moderator reads it
    e2ee.admin = {"Authorization": f"Bearer {e2ee.login(ADMIN_EMAIL, ADMIN_PASSWORD)}"}  # days have passed
    mod = e2ee.add_person("acme", "moderator", "mod")
    report = e2ee.client.get(
        f"/v1/e2ee/reports/{play.reports[0]['report_id']}", headers={"Authorization": mod["Authorization"]}
    ).json()
    revealed = {m["text"] for m in report["messages"]}
    assert revealed and len(revealed) == play.reports[0]["messages"]
    allowed = set().union(*(sentences(t) for t in revealed))

    texts = {m.text for c in scenario.conversations for m in c.conversation.messages}
    secret = set().union(*(sentences(t) for t in texts))
    assert len(secret) > 100

    # 1. every table (the evidence log, sg_evidence, included)
    rows = dump(e2ee)
    assert any(name == "sg_e2ee_stamps" for name, _ in rows)
    found: dict[str, set[str]] = {}
    for name, row in rows:
        for s in secret:
            if contains(row, s):
                found.setdefault(name, set()).add(s)
    assert set(found) == {"sg_e2ee_reports"}, {k: sorted(v)[:3] for k, v in found.items()}
    # ... and there exactly the reported messages: a sentence of an unreported message may appear only
    # where it is also a sentence of a reported one
    assert found["sg_e2ee_reports"] == allowed & secret
    report_rows = [row for name, row in rows if name == "sg_e2ee_reports"]
    assert len(report_rows) == 1

    # 2. every file the service wrote (the SQLite database and its journal, when that is the store)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaked = {s for s in secret if any(f.encode() in data for f in forms(s))}
            assert leaked <= allowed, (path.name, sorted(leaked - allowed)[:3])

    # 3. the log, at DEBUG, holds no sentence at all (not even the reported ones)
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert caplog.records  # the service did log
    assert not {s for s in secret if contains(logged, s)}
