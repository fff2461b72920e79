"""Idempotency, restarts that resume exactly, one transaction per batch, determinism."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from engine_helpers import FakeDetector, Stream

from safeguarding.engine import Engine, FrozenClock, Outcome, Rejected
from safeguarding.errors import ConflictError
from safeguarding.events import Event
from safeguarding.policy import default_policy
from safeguarding.store import ChangeSet, MemoryStore

MakeEngine = Callable[..., Engine]
WORDS = ["hi", "how was school", "our secret ok", "you seem mature", "meet me alone", "bring a gift", "lol"]


def scenario(stream: Stream) -> list[Event]:
    """A mixed stream: a grooming conversation, a fan-out adult, blocks, groups, E2EE messages."""
    ev: list[Event] = [stream.account(a) for a in ("a1", "a2", "a3")]
    kids = [f"k{i}" for i in range(8)]
    ev += [stream.account(k, "13_15", timezone="Europe/London") for k in kids]
    ev += [stream.pair("follow", "k0", "a1"), stream.pair("follow", "k1", "a2")]
    for i, w in enumerate(WORDS * 2):
        ev.append(stream.msg("a1", "k0", text=w, conversation="groom", gap=timedelta(hours=1)))
        if i % 3 == 0:
            ev.append(stream.msg("k0", "a1", text="ok", conversation="groom"))
    ev += [stream.msg("a3", k, text=None, conversation=f"fan-{k}") for k in kids]  # E2EE fan-out
    ev += [stream.pair("contact_request", "a3", k) for k in kids[:4]]
    ev += [stream.pair("decline", k, "a3") for k in kids[:4]]
    ev += [stream.pair("block", "k5", "a3"), stream.pair("report", "k6", "a3", reason="creepy")]
    ev += [stream.pair("group_invite", "a2", "k1", group="g"), stream.pair("accept", "k1", "a2", group="g")]
    ev += [stream.msg("a2", "k1", text="welcome", group="g", conversation="g")]
    return ev


def lines(results: Sequence[Outcome | Rejected]) -> list[str]:
    return [json.dumps(r.line(), sort_keys=True) for r in results]


def run_all(make_engine: MakeEngine, events: list[Event], batch: int = 7) -> list[str]:
    eng = make_engine(detector=FakeDetector())
    out: list[str] = []
    for i in range(0, len(events), batch):
        out += lines(eng.process_batch(events[i : i + batch]))
    return out


def test_reprocessing_returns_stored_outcomes_and_counts_nothing_twice(
    make_engine: MakeEngine, stream: Stream
) -> None:
    events = scenario(stream)
    eng = make_engine(detector=FakeDetector())
    first = eng.process_batch(events)
    risk_before = eng.account_risk("a3", at=stream.at)
    outbox_before = eng.store.pending_outbox(1000)
    again = eng.process_batch(events)
    assert all(isinstance(r, Outcome) and r.duplicate for r in again)
    assert lines(again) == lines(first)
    eng.reset_cache()  # and from the store, not the cache
    assert eng.account_risk("a3", at=stream.at) == risk_before
    assert eng.store.pending_outbox(1000) == outbox_before
    restarted = make_engine(detector=FakeDetector())
    assert lines(restarted.process_batch(events)) == lines(first)
    assert restarted.account_risk("a3", at=stream.at) == risk_before


def test_duplicates_inside_one_batch(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    acc = stream.account("a1")
    out = eng.process_batch([acc, acc])
    assert isinstance(out[1], Outcome) and out[1].duplicate and not out[0].duplicate  # type: ignore[union-attr]


def test_same_id_different_content_is_rejected(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process(stream.account("a1", id="x"))
    [res] = eng.process_batch([stream.account("a2", id="x")])
    assert isinstance(res, Rejected) and "already used for a different event" in res.reason


def test_restart_resumes_exactly(make_engine: MakeEngine, frozen_clock: FrozenClock) -> None:
    """A new engine (a restarted process) every few events gives byte-identical outcomes to one run."""
    events = scenario(Stream())
    reference = lines(
        Engine(default_policy(), MemoryStore(), FakeDetector(), frozen_clock).process_batch(events)
    )
    out: list[str] = []
    for i in range(0, len(events), 9):
        eng = make_engine(detector=FakeDetector())
        out += lines(eng.process_batch(events[i : i + 9]))
    assert out == reference


class FailingStore(MemoryStore):
    """Fails the n-th commit, as a crash or a lost connection would."""

    def __init__(self, fail_on: int, error: type[Exception] = RuntimeError) -> None:
        super().__init__()
        self.commits = 0
        self.fail_on = fail_on
        self.error = error

    def commit(self, changes: ChangeSet) -> None:
        self.commits += 1
        if self.commits == self.fail_on:
            raise self.error("boom")
        super().commit(changes)


def test_failed_commit_leaves_no_trace_and_cache_is_dropped(frozen_clock: FrozenClock) -> None:
    events = scenario(Stream())
    reference = lines(
        Engine(default_policy(), MemoryStore(), FakeDetector(), frozen_clock).process_batch(events)
    )
    store = FailingStore(fail_on=2)
    eng = Engine(default_policy(), store, FakeDetector(), frozen_clock)
    out = lines(eng.process_batch(events[:10]))
    with pytest.raises(RuntimeError):
        eng.process_batch(events[10:20])
    assert store.processed([e.id for e in events[10:20]]) == {}
    out += lines(eng.process_batch(events[10:]))
    assert out == reference


def test_conflict_is_retried_once(frozen_clock: FrozenClock, stream: Stream) -> None:
    store = FailingStore(fail_on=1, error=ConflictError)
    eng = Engine(default_policy(), store, None, frozen_clock)
    [res] = eng.process_batch([stream.account("a1")])
    assert isinstance(res, Outcome) and store.processed(["e1"])


def test_determinism_and_the_clock(make_engine: MakeEngine, stream: Stream) -> None:
    events = scenario(stream)
    a = run_all(make_engine, events, batch=1000)
    other = Engine(
        default_policy(), MemoryStore(), FakeDetector(), FrozenClock(stream.at + timedelta(days=3))
    )
    assert lines(other.process_batch(events)) == a


def test_one_commit_per_batch(frozen_clock: FrozenClock) -> None:
    events = scenario(Stream())
    store = FailingStore(fail_on=-1)
    eng = Engine(default_policy(), store, FakeDetector(), frozen_clock)
    eng.process_batch(events)
    assert store.commits == 1
    eng.process_batch(events[:3])  # duplicates only: still one (empty) commit, nothing written twice
    assert store.commits == 2


def test_outbox_rows_match_alerts(make_engine: MakeEngine, stream: Stream) -> None:
    events = scenario(stream)
    eng = make_engine(detector=FakeDetector())
    results = eng.process_batch(events)
    alerts = [(r.event, a.kind.value) for r in results if isinstance(r, Outcome) for a in r.alerts]
    assert alerts, "the scenario should raise alerts"
    rows = [
        (json.loads(o.payload)["event"], json.loads(o.payload)["kind"])
        for o in eng.store.pending_outbox(1000)
    ]
    assert rows == alerts
    assert all(
        o.key.startswith(o_ev + ":")
        for o, (o_ev, _) in zip(eng.store.pending_outbox(1000), rows, strict=True)
    )


def test_prune_keeps_what_windows_can_reach(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    kids = [f"k{i}" for i in range(3)]
    eng.process_batch([stream.account("a1"), *[stream.account(k, "13_15") for k in kids]])
    eng.process_batch([stream.msg("a1", k) for k in kids])
    before = eng.account_risk("a1", at=stream.at)
    assert eng.prune(at=stream.at) == 0
    assert eng.account_risk("a1", at=stream.at) == before
    much_later = stream.at + timedelta(days=40)
    assert eng.prune(at=much_later) > 0
    assert eng.account_risk("a1", at=much_later).risk == 0
    assert eng.store.counters(["a1"], 0) == []
