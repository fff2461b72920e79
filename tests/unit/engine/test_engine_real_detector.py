"""The engine with the project's real streaming detector class (the bundled model when there is one).

Without a bundled model the detector is built from seeded random weights: the scores mean nothing,
but every code path the engine relies on (update, dump/load of the state, flags) is the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from engine_helpers import Stream

from safeguarding.engine import Engine, FrozenClock, Outcome
from safeguarding.events import Event
from safeguarding.policy import default_policy
from safeguarding.store import MemoryStore

MakeEngine = Callable[..., Engine]
TEXTS = [
    "hey how was school",
    "you seem really mature for your age",
    "how old are you",
    "this is our secret ok, dont tell your mum",
    "add me on snap",
    "lol ok",
    "we should meet up, i can pick you up",
    "i can buy you a gift card",
]


@pytest.fixture(scope="module")
def detector() -> Any:
    from safeguarding.detection import load_detector
    from safeguarding.errors import ModelError

    try:
        return load_detector()
    except ModelError:
        pass
    from safeguarding.detection.model import N_DENSE, LinearWeights
    from safeguarding.detection.streaming import Detector, DetectorConfig

    rng = np.random.default_rng(7)
    weights = LinearWeights(
        text=rng.normal(0, 0.5, 1 << 12), dense=rng.normal(0, 0.5, N_DENSE), intercept=-1.0, calib_a=1.0
    )
    return Detector(
        weights, DetectorConfig(threshold=0.6, min_messages=2, min_support=1), version="test-random"
    )


def events() -> list[Event]:
    s = Stream()
    out = [s.account("a1"), s.account("a2"), s.account("k1", "13_15"), s.account("k2", "under_13")]
    out += [s.pair("follow", "k1", "a1"), s.pair("follow", "k2", "a2")]
    for i in range(40):
        text = TEXTS[i % len(TEXTS)]
        out.append(s.msg("a1", "k1", text=text, conversation="c1"))
        out.append(s.msg("k1", "a1", text="ok", conversation="c1"))
        out.append(s.msg("a2", "k2", text=None if i % 2 else text, conversation="c2"))  # partly E2EE
    return out


def lines(results: list[Any]) -> list[str]:
    return [r.line_json() for r in results]


def test_restart_with_the_real_detector_resumes_exactly(make_engine: MakeEngine, detector: Any) -> None:
    evs = events()
    reference = lines(Engine(default_policy(), MemoryStore(), detector, FrozenClock()).process_batch(evs))
    out: list[str] = []
    for i in range(0, len(evs), 11):
        out += lines(make_engine(detector=detector).process_batch(evs[i : i + 11]))
    assert out == reference


def test_only_messages_with_text_reach_the_detector(detector: Any) -> None:
    eng = Engine(default_policy(), MemoryStore(), detector, FrozenClock())
    results = eng.process_batch(events())
    assert all(isinstance(r, Outcome) for r in results)
    c1, c2 = eng.conversation("c1"), eng.conversation("c2")
    assert c1 is not None and c1.messages == 80 and c1.detector_version == detector.version
    assert c2 is not None and c2.messages == 20  # the 20 E2EE messages were not scored
    assert c1.detector_state is not None and len(c1.detector_state) < 4096


def test_a_policy_threshold_keeps_the_minimum_evidence_rule(detector: Any, frozen_clock: FrozenClock) -> None:
    """``[alerts] grooming_risk`` moves the threshold, not the rule: one line never alerts, and the alert
    names the author who met the rule."""
    from importlib import resources

    from safeguarding.engine import AlertKind
    from safeguarding.policy import parse_policy

    src = resources.files("safeguarding.policy").joinpath("default.toml").read_text()
    eager = parse_policy(src.replace("# grooming_risk = 0.8", "grooming_risk = 0.000001"))
    s = Stream()
    eng = Engine(eager, MemoryStore(), detector, frozen_clock)
    eng.process_batch([s.account("a1"), s.account("k1", "13_15"), s.pair("follow", "k1", "a1")])
    first = eng.process(s.msg("a1", "k1", text="this is our secret ok, dont tell your mum"))
    assert not [a for a in first.alerts if a.kind is AlertKind.GROOMING]  # one line: below the rule
    alerts = []
    for text in TEXTS:
        out = eng.process(s.msg("a1", "k1", text=text))
        alerts += [a for a in out.alerts if a.kind is AlertKind.GROOMING]
    assert len(alerts) == 1 and alerts[0].subject == "a1"
