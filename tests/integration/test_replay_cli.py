"""``safeguarding replay``, ``policy check`` and ``db upgrade`` from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from safeguarding.cli import main
from safeguarding.store.migrate import head_revision

ISSUE = [
    {"id": "e1", "type": "account", "account": "a1", "age_band": "adult", "assurance": "self_declared",
     "at": "2026-01-05T18:00:00Z"},
    {"id": "e2", "type": "account", "account": "k1", "age_band": "13_15", "assurance": "estimated",
     "at": "2026-01-05T18:01:00Z"},
    {"id": "e3", "type": "message", "conversation": "c1", "sender": "a1", "recipients": ["k1"], "text": "hey",
     "at": "2026-01-05T18:02:00Z"},
    {"id": "e4", "type": "follow", "actor": "k1", "target": "a1", "at": "2026-01-05T18:03:00Z"},
]  # fmt: skip


def write(path: Path, events: list[dict[str, object]], extra: list[str] = ()) -> Path:  # type: ignore[assignment]
    path.write_text("".join(json.dumps(e) + "\n" for e in events) + "".join(x + "\n" for x in extra))
    return path


def run(*args: str) -> tuple[int, list[dict[str, object]], str]:
    res = CliRunner().invoke(main, list(args))
    out = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    return res.exit_code, out, res.stderr


def test_replay_writes_the_issue_shape(tmp_path: Path) -> None:
    code, out, err = run("replay", str(write(tmp_path / "ev.jsonl", ISSUE)), "--no-text")
    assert code == 0, err
    assert out == [
        {"event": "e1", "decision": "allow", "rule": None, "reasons": [], "alerts": []},
        {"event": "e2", "decision": "allow", "rule": None, "reasons": [], "alerts": []},
        {
            "event": "e3",
            "decision": "deny",
            "rule": "minor.dm.adult_needs_follow",
            "reasons": [
                "Adults can send direct messages to under-18s only when the young person follows them.",
                "Under-18s only receive direct messages from their connections.",
            ],
            "alerts": [],
        },
        {
            "event": "e4",
            "decision": "allow",
            "rule": "default",
            "reasons": ["No rule restricts this."],
            "alerts": [],
        },
    ]


def test_bad_events_are_reported_and_the_rest_proceed(tmp_path: Path) -> None:
    bad = [
        '{"id": "b1", "type": "teleport", "at": "2026-01-05T18:04:00Z"}',
        '{"id": "b2", "type": "message", "conversation": "c1", "sender": "a1", "at": "2026-01-05T18:05:00Z"}',
        '{"id": "b3", "type": "message", "conversation": "c1", "sender": "zz", "recipients": ["k1"], '
        '"at": "2026-01-05T18:06:00Z"}',
        "not json",
        '{"id": "e5", "type": "message", "conversation": "c1", "sender": "a1", "recipients": ["k1"], '
        '"text": "hi", "at": "2026-01-05T18:07:00Z"}',
    ]
    code, out, err = run("replay", str(write(tmp_path / "ev.jsonl", ISSUE, bad)), "--no-text")
    assert code == 2
    assert [o["event"] for o in out] == ["e1", "e2", "e3", "e4", "b1", "b2", "b3", None, "e5"]
    errors = {o["event"]: o["error"] for o in out if "error" in o}
    assert "unknown event type 'teleport'" in str(errors["b1"])
    assert "missing field 'recipients'" in str(errors["b2"])
    assert "unknown account 'zz'" in str(errors["b3"]) and "ev.jsonl:7" in str(errors["b3"])
    assert "ev.jsonl:8" in str(errors[None]) and "not valid JSON" in str(errors[None])
    assert out[-1]["decision"] == "allow_with_notice"  # e5 still processed after the bad lines
    for eid in ("b1", "b2", "b3"):
        assert f"event '{eid}'" in err
    assert "4 of 9 events rejected" in err


def test_policy_change_is_visible_in_replay(tmp_path: Path) -> None:
    events = write(tmp_path / "ev.jsonl", ISSUE)
    from importlib import resources

    text = resources.files("safeguarding.policy").joinpath("default.toml").read_text()
    proposed = tmp_path / "proposed.toml"
    proposed.write_text(
        text.replace('version = "2026.01.0"', 'version = "2026.02.0-rc1"')
        + '\n[[rules]]\nid = "adult.dm.hold_unknown"\nactions = ["message"]\ndecision = "hold_for_review"\n'
        'reason = "Trial: hold adult messages to minors."\n'
        'when = { sender_band = ["adult"], recipient_band = ["minor"] }\n'
    )
    code, out, err = run("replay", str(events), "--no-text", "--policy", str(proposed), "--summary")
    assert code == 0, err
    assert out[2]["rule"] == "minor.dm.adult_needs_follow"  # deny still beats hold
    assert "decisions:" in err and "rules:" in err and "events/s" in err


def test_broken_policy_stops_before_any_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        'schema = 1\n[policy]\nid = "x"\nversion = "1"\n[[rules]]\nid = "r"\nactions = ["dm"]\n'
    )
    code, out, err = run(
        "replay", str(write(tmp_path / "ev.jsonl", ISSUE)), "--no-text", "--policy", str(broken)
    )
    assert code == 2 and out == []
    assert "invalid policy" in err and "'dm' is not one of" in err and "decision" in err


def test_replay_with_db_is_idempotent_and_output_file(tmp_path: Path) -> None:
    events = write(tmp_path / "ev.jsonl", ISSUE)
    db = f"sqlite:///{tmp_path / 'state.db'}"
    out1, out2 = tmp_path / "o1.jsonl", tmp_path / "o2.jsonl"
    assert run("replay", str(events), "--no-text", "--db", db, "-o", str(out1))[0] == 0
    assert run("replay", str(events), "--no-text", "--db", db, "-o", str(out2), "--batch-size", "1")[0] == 0
    assert out1.read_text() == out2.read_text() and len(out1.read_text().splitlines()) == 4


def test_default_replay_database_is_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFEGUARDING_DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    events = write(tmp_path / "ev.jsonl", ISSUE)
    assert run("replay", str(events), "--no-text")[0] == 0
    assert sorted(os.listdir(tmp_path)) == ["ev.jsonl"]  # neither prod.db nor safeguarding.db touched


def test_db_upgrade(db_url: str) -> None:
    for _ in range(2):  # a second upgrade is a no-op
        res = CliRunner().invoke(main, ["db", "upgrade", "--db", db_url])
        assert res.exit_code == 0, res.stderr
        assert f"database at revision {head_revision()}" in res.stdout


def test_replay_with_the_bundled_detector(tmp_path: Path) -> None:
    from safeguarding.detection import load_detector
    from safeguarding.errors import ModelError

    try:
        load_detector()
    except ModelError as exc:
        pytest.skip(f"no bundled model in this checkout yet: {exc}")
    code, out, err = run("replay", str(write(tmp_path / "ev.jsonl", ISSUE)))
    assert code == 0, err
    assert [o["decision"] for o in out] == ["allow", "allow", "deny", "allow"]
