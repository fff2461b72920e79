from __future__ import annotations

import pytest

from safeguarding.detection import Detector
from safeguarding.errors import InputError
from safeguarding.synth import make_dataset
from safeguarding.types import Conversation, Message


def _grooming(n: int = 40) -> list[Conversation]:
    return [s.conversation for s in make_dataset(n, 3) if s.label]


def test_batch_equals_streaming_and_state_roundtrip(bundled: Detector) -> None:
    for conv in _grooming()[:5]:
        batch = bundled.assess(conv)
        state = bundled.new_state(conv.id)
        half = len(conv.messages) // 2
        for m in conv.messages[:half]:
            bundled.update(state, m)
        state = bundled.load_state(bundled.dump_state(state))
        last = None
        for m in conv.messages[half:]:
            last = bundled.update(state, m)
        assert last is not None
        assert (last.risk, last.flagged, last.alert_at, last.suspect, last.stages) == (
            batch.risk,
            batch.flagged,
            batch.alert_at,
            batch.suspect,
            batch.stages,
        )


def test_alert_uses_no_later_message(bundled: Detector) -> None:
    flagged = [c for c in _grooming() if bundled.assess(c).flagged]
    assert flagged, "the bundled model should flag some synthetic escalations"
    for conv in flagged[:5]:
        full = bundled.assess(conv)
        assert full.alert_at is not None
        upto = Conversation(conv.id, conv.messages[: full.alert_at + 1])
        before = Conversation(conv.id, conv.messages[: full.alert_at])
        assert bundled.assess(upto).alert_at == full.alert_at
        assert not bundled.assess(before).flagged


def test_alert_is_explained(bundled: Detector) -> None:
    conv = next(c for c in _grooming() if bundled.assess(c).flagged)
    a = bundled.assess(conv)
    assert a.suspect in conv.authors
    assert a.stages, "an alert lists the grooming stages seen"
    assert a.evidence and all(0 <= e.index <= len(conv.messages) for e in a.evidence)
    assert all(conv.messages[e.index].author == a.suspect for e in a.evidence)
    assert any(r.code == "alert" for r in a.reasons)


def test_one_line_never_alerts(bundled: Detector) -> None:
    worst = "send me a pic of u naked and dont tell ur mom, meet me at the hotel tonight ur 13 right"
    state = bundled.new_state("c")
    a = bundled.update(state, Message("x", worst))
    assert not a.flagged
    a = bundled.update(state, Message("x", "hi"))
    assert not a.flagged


def test_state_is_small(bundled: Detector) -> None:
    conv = _grooming()[0]
    state = bundled.new_state(conv.id)
    for _ in range(5):
        for m in conv.messages:
            bundled.update(state, m)
    assert len(bundled.dump_state(state)) < 2000


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "x" * 1_000_000,
        "Привет, как дела? 你好吗",
        "😀😘🔥" * 50,
        "\x00\x01\x1b[31m\x7f",
        "\ud800 lone surrogate",
    ],
)
def test_odd_messages_never_crash(bundled: Detector, text: str) -> None:
    state = bundled.new_state("c")
    for _ in range(3):
        a = bundled.update(state, Message("a", text))
    assert 0.0 <= a.risk <= 1.0


def test_corrupt_state_is_an_input_error(bundled: Detector) -> None:
    with pytest.raises(InputError):
        bundled.load_state(b"{not json")
    with pytest.raises(InputError):
        bundled.load_state(b'{"f": 99}')


def test_group_chat_is_bounded(bundled: Detector) -> None:
    state = bundled.new_state("room")
    for i in range(500):
        bundled.update(state, Message(f"user{i}", "hello everyone"))
    assert len(state.authors) <= bundled.config.max_authors


def test_resume_after_every_message_is_exact(bundled: Detector) -> None:
    """A service persists the state after each message; resuming must change nothing."""
    for s in make_dataset(30, 17):
        conv = s.conversation
        straight = bundled.new_state(conv.id)
        resumed = bundled.new_state(conv.id)
        for m in conv.messages:
            a = bundled.update(straight, m)
            resumed = bundled.load_state(bundled.dump_state(resumed))
            b = bundled.update(resumed, m)
            assert (a.risk, a.flagged, a.alert_at, a.suspect, a.stages) == (
                b.risk,
                b.flagged,
                b.alert_at,
                b.suspect,
                b.stages,
            )
        assert bundled.dump_state(straight) == bundled.dump_state(resumed)


GROOMING_LINES = (
    "hey ur pics are so cute",
    "how old r u?",
    "ur really mature for 13",
    "r ur parents home?",
    "dont tell them we talk ok, its our secret",
    "add me on snap, ill send u robux",
)


def test_a_policy_threshold_keeps_the_persistence_rule(bundled: Detector) -> None:
    """``eligible_author`` (the engine's ``[alerts] grooming_risk``) needs the risk held at each of the
    author's last ``persistence`` messages, as the model's own threshold does."""
    from dataclasses import replace

    det = Detector(bundled.weights, replace(bundled.config, persistence=3), version=bundled.version)
    state = det.new_state("c")
    for m in GROOMING_LINES:
        det.update(state, Message("a1", m))
    s = state.authors["a1"]
    assert len(s.recent) == 3
    low = min(s.recent)
    assert low > 0.0
    assert det.eligible_author(state, low) == "a1"
    s.recent[1] = low / 2  # one message of the three under the threshold: not yet
    assert det.eligible_author(state, low) is None
    s.recent[1] = -1.0  # the evidence rule failed at that message
    assert det.eligible_author(state, 0.0) is None


def test_a_format_1_state_still_loads(bundled: Detector) -> None:
    import json

    state = bundled.new_state("c")
    for m in GROOMING_LINES:
        bundled.update(state, Message("a1", m))
    doc = json.loads(bundled.dump_state(state))
    assert doc["f"] == 2
    doc["f"] = 1
    for v in doc["a"].values():
        v[11] = 2  # format 1 kept a streak count where format 2 keeps the recent risks
    old = bundled.load_state(json.dumps(doc).encode())
    assert old.authors["a1"].recent == []
    assert old.authors["a1"].alerted == state.authors["a1"].alerted
    assert old.flagged == state.flagged
