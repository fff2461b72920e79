"""The whole synthetic platform in encrypted mode, then a search of everything the server holds.

Every account gets a device; every message becomes an envelope, stamped by the server and turned into a
text-free ``message`` event for the engine (SQLite store, the real detector wired in). Afterwards the
database file, its SQL dump, every outcome, event, envelope, stamp record, key package, device alert and
every log record (all loggers, DEBUG) are searched for every sentence of the conversations: none may be
found. A positive control runs the same search over the plaintext events, so a broken search cannot pass.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pytest

from safeguarding.client import load_device_model
from safeguarding.client.demo import E2EEDemo, run_e2ee_demo
from safeguarding.detection import load_detector
from safeguarding.engine import Engine, FrozenClock, Outcome
from safeguarding.events import MessageEvent, parse_event
from safeguarding.policy import default_policy
from safeguarding.store import open_store
from safeguarding.synth.scenario import Scenario, build_scenario

SEED = 0


def sentences(scenario: Scenario) -> list[str]:
    """Every message text long enough that finding it cannot be a coincidence ("ok" is in "okay")."""
    texts = {m.text for sc in scenario.conversations for m in sc.conversation.messages}
    return sorted(t for t in texts if len(t) >= 12)


def forms(text: str) -> tuple[str, ...]:
    """The text as written and as JSON escapes it (non-ASCII, quotes)."""
    return (text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1])


def leaks(haystack: str, raw: bytes, texts: Iterable[str]) -> list[str]:
    return [t for t in texts if any(f in haystack for f in forms(t)) or t.encode("utf-8") in raw]


def run_server(demo: E2EEDemo, db: Path, full_model: Path) -> list[Outcome]:
    store = open_store(f"sqlite:///{db}")
    engine = Engine(default_policy(), store, load_detector(full_model), FrozenClock())
    results: list[Outcome] = []
    events = list(demo.events)
    for i in range(0, len(events), 40):  # batches, as the service would commit them
        for r in engine.process_batch(events[i : i + 40]):
            assert isinstance(r, Outcome), r
            results.append(r)
    records = [
        engine.conversation(c) for c in {e.conversation for e in events if isinstance(e, MessageEvent)}
    ]
    assert all(r is None or r.detector_state is None for r in records)  # the server's detector saw nothing
    store.close()
    return results


def server_view(
    demo: E2EEDemo, outcomes: list[Outcome], db: Path, caplog: pytest.LogCaptureFixture
) -> tuple[str, bytes]:
    relay = demo.relay
    parts: list[str] = [repr(e) for e in demo.events]
    parts += [o.line_json() + o.record() for o in outcomes]
    parts += [json.dumps(s.to_dict()) for s in demo.stamped]
    parts += [json.dumps(r.to_dict()) for r in relay.ledger.records.values()]
    parts += [json.dumps(p.to_dict()) for p in demo.key_packages]
    parts += [json.dumps(a.to_dict()) for a in demo.device_alerts]
    parts += [repr(v) + repr(v.reasons) for v in demo.verified_alerts]
    parts += [json.dumps(d.to_dict()) for acc in relay.sessions for d in relay.directory.devices(acc)]
    parts += [r.getMessage() + repr(r.args) + repr(getattr(r, "__dict__", {})) for r in caplog.records]
    conn = sqlite3.connect(db)
    parts += list(conn.iterdump())
    conn.close()
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))
    return "\n".join(parts), raw


def test_the_server_side_holds_no_plaintext(
    device_model: Path, full_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    scenario = build_scenario(SEED)
    demo = run_e2ee_demo(scenario, load_device_model(device_model))
    db = tmp_path / "server.db"
    outcomes = run_server(demo, db, full_model)
    texts = sentences(scenario)
    assert len(texts) > 100
    haystack, raw = server_view(demo, outcomes, db, caplog)
    assert len(caplog.records) > 0 and len(raw) > 10_000  # the search really covered logs and a database
    assert leaks(haystack, raw, texts) == []

    plaintext_events = json.dumps(scenario.to_events(include_text=True), ensure_ascii=False)
    assert leaks(plaintext_events, b"", texts) == texts  # positive control: the search finds them there

    messages = [e for e in demo.events if isinstance(e, MessageEvent)]
    assert (
        len(messages)
        == len(demo.stamped)
        == sum(len(sc.conversation.messages) for sc in scenario.conversations)
    )
    assert all(m.text is None and m.size and m.size % 64 == 16 for m in messages)


def test_policy_and_signals_decide_exactly_as_without_encryption(
    device_model: Path, full_model: Path, tmp_path: Path
) -> None:
    """Encrypted mode changes no contact decision or metadata alert: same verdicts, same alerts."""
    scenario = build_scenario(SEED)
    demo = run_e2ee_demo(scenario, load_device_model(device_model))
    encrypted = run_server(demo, tmp_path / "e2ee.db", full_model)
    plain_events = [parse_event(e) for e in scenario.to_events(include_text=False)]
    plain = Engine(default_policy(), None, None, FrozenClock()).process_batch(plain_events)
    assert len(plain) == len(encrypted)
    for p, e in zip(plain, encrypted, strict=True):
        assert isinstance(p, Outcome)
        assert (p.type, p.decision.verdict, p.decision.rule) == (e.type, e.decision.verdict, e.decision.rule)
        assert [a.line() for a in p.alerts] == [a.line() for a in e.alerts]
    assert any(a.subject == scenario.mass_contact for o in encrypted for a in o.alerts)


def test_the_child_is_protected_and_only_a_chosen_report_reveals_text(device_model: Path) -> None:
    scenario = build_scenario(SEED)
    demo = run_e2ee_demo(scenario, load_device_model(device_model), report_on_notice=True)
    grooming = next(sc.conversation.id for sc in scenario.conversations if sc.kind == "grooming")
    alert = next(a for a in demo.verified_alerts if a.conversation == grooming)
    assert alert.account == scenario.victim and 0 < alert.risk <= 1
    assert any(acc == scenario.victim and n.conversation == grooming for acc, n in demo.notices)

    sent = {
        s.envelope.message_id: str(e["text"])
        for s, e in zip(
            demo.stamped, (e for e in scenario.to_events() if e["type"] == "message"), strict=True
        )
    }
    report = next(r for r in demo.verified_reports if r.conversation == grooming)
    assert report.reporter == scenario.victim and report.accused == (scenario.groomer,)
    assert report.messages and all(m.text == sent[m.message_id] for m in report.messages)
    # the only plaintext on the server is what the child chose to reveal
    revealed = {m.text for r in demo.reports for m in r.messages}
    chosen = {m.text for r in demo.verified_reports for m in r.messages}
    assert revealed == chosen
