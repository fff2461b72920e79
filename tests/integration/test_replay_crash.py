"""kill -9 during a replay: no committed event is lost, and a rerun counts nothing twice."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguarding.engine import Engine, FrozenClock
from safeguarding.policy import default_policy
from safeguarding.replay import replay
from safeguarding.store import MemoryStore, open_store

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-c", "from safeguarding.cli import main; main()"]


def make_events(n_messages: int, seed: int = 7) -> list[str]:
    """A deterministic stream with adults, minors, follows, fan-out, blocks, reports and bad lines."""
    rnd = random.Random(seed)
    at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    lines: list[dict[str, object]] = []

    def add(kind: str, **f: object) -> None:
        nonlocal at
        at += timedelta(seconds=rnd.randint(1, 40))
        lines.append(
            {"id": f"ev{len(lines)}", "type": kind, "at": at.isoformat().replace("+00:00", "Z"), **f}
        )

    adults = [f"a{i}" for i in range(40)]
    kids = [f"k{i}" for i in range(80)]
    for a in adults:
        add("account", account=a, age_band="adult")
    for k in kids:
        add(
            "account",
            account=k,
            age_band=rnd.choice(["under_13", "13_15", "16_17"]),
            timezone="Europe/London",
        )
    for k in kids:
        add("follow", actor=k, target=rnd.choice(adults))
    people = adults + kids
    for i in range(n_messages):
        s, r = rnd.sample(people, 2)
        roll = rnd.random()
        if roll < 0.03:
            add("block", actor=r, target=s)
        elif roll < 0.05:
            add("report", actor=r, target=s, reason="x")
        elif roll < 0.08:
            add("contact_request", actor=s, target=r)
        elif i % 500 == 250:
            lines.append({"id": f"bad{i}", "type": "message", "at": "2026-01-05T08:00:00Z"})  # missing fields
        else:
            add(
                "message", conversation=f"c{min(s, r)}-{max(s, r)}", sender=s, recipients=[r], text="hi there"
            )
    return [json.dumps(x) for x in lines]


def reference(lines: list[str], name: str) -> tuple[list[str], MemoryStore]:
    store = MemoryStore()
    engine = Engine(default_policy(), store, None, FrozenClock())

    class Sink:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, s: str) -> int:
            self.parts.append(s)
            return len(s)

        def flush(self) -> None:
            pass

    sink = Sink()
    replay(lines, engine, sink, batch_size=1000, name=name)  # type: ignore[arg-type]
    return "".join(sink.parts).splitlines(), store


def test_kill_9_then_rerun_is_exact(db_url: str, tmp_path: Path) -> None:
    lines = make_events(12_000)
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    expected, ref_store = reference(lines, str(events))

    crashed_out = tmp_path / "crashed.jsonl"
    cmd = [*CLI, "replay", str(events), "--no-text", "--db", db_url, "--batch-size", "25"]
    proc = subprocess.Popen([*cmd, "-o", str(crashed_out)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if crashed_out.exists() and crashed_out.read_text().count("\n") >= 1500:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the replay finished before it could be killed"
    partial = crashed_out.read_text().splitlines()
    partial = (
        partial[: len(partial) - 1] if partial and not crashed_out.read_text().endswith("\n") else partial
    )
    assert 1500 <= len(partial) < len(lines)
    assert partial == expected[: len(partial)]  # what was written was committed, and is right

    store = open_store(db_url)
    valid_ids = {json.loads(x)["id"] for x in lines if not json.loads(x)["id"].startswith("bad")}
    committed = set(store.processed(sorted(valid_ids)))
    written = {json.loads(x)["event"] for x in partial} & valid_ids
    assert written <= committed  # no event shown as done was lost
    assert len(committed) < len(valid_ids)
    store.close()

    rerun_out = tmp_path / "rerun.jsonl"
    rerun = subprocess.run([*cmd, "-o", str(rerun_out)], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 2, rerun.stderr  # the deliberately bad lines
    assert rerun_out.read_text().splitlines() == expected

    # nothing counted twice: signal windows and outbox equal those of one clean, uninterrupted run
    store = open_store(db_url)
    accounts = [f"a{i}" for i in range(40)] + [f"k{i}" for i in range(80)]
    assert sorted(store.counters(accounts, 0)) == sorted(ref_store.counters(accounts, 0))
    assert sorted(store.members(accounts, 0)) == sorted(ref_store.members(accounts, 0))
    assert [o.key for o in store.pending_outbox(10_000)] == [o.key for o in ref_store.pending_outbox(10_000)]
    assert set(store.processed(sorted(valid_ids))) == valid_ids
    store.close()
