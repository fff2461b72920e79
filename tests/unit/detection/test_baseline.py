"""The keyword strawman: hand-computed running scores, whole-word matching, robustness."""

from __future__ import annotations

import pytest

from safeguarding.detection.baseline import DEFAULT_KEYWORDS, KeywordBaseline

TEXTS = ["hi there", "how old are you?", "lol", "it's our secret ok"]


@pytest.fixture
def kb() -> KeywordBaseline:
    return KeywordBaseline()


def test_hits_in_order(kb: KeywordBaseline) -> None:
    assert kb.hits("How old are you? Let's meet at the mall") == ("how old are you", "meet")
    assert kb.hits("hello") == ()


@pytest.mark.parametrize("text", ["nice camera", "the meeting is at 5", "Essex is nice", "classic"])
def test_whole_words_only(kb: KeywordBaseline, text: str) -> None:
    assert not kb.has_keyword(text)


@pytest.mark.parametrize("text", ["MEEEEET me", "how  old\tare you", "add me on Snapchat!", "RoBuX?"])
def test_normalised_matches(kb: KeywordBaseline, text: str) -> None:
    assert kb.has_keyword(text)


def test_score_stream_hand_values(kb: KeywordBaseline) -> None:
    # keyword flags 0, 1, 0, 1 -> running fractions 0/1, 1/2, 1/3, 2/4
    assert kb.score_stream(TEXTS) == pytest.approx([0.0, 0.5, 1 / 3, 0.5])
    assert kb.score_stream([]) == []


def test_score_author(kb: KeywordBaseline) -> None:
    assert kb.score_author(TEXTS) == 0.5
    assert kb.score_author(TEXTS) == kb.score_stream(TEXTS)[-1]
    assert kb.score_author([]) == 0.0


def test_first_alert(kb: KeywordBaseline) -> None:
    assert kb.first_alert(TEXTS, threshold=0.5) == 1
    assert kb.first_alert(TEXTS, threshold=0.5, min_messages=3) == 3  # 1/3 at n=3, 2/4 at n=4
    assert kb.first_alert(TEXTS, threshold=0.9) is None
    assert kb.first_alert([], threshold=0.1) is None


def test_first_alert_uses_no_later_message(kb: KeywordBaseline) -> None:
    at = kb.first_alert(TEXTS, threshold=0.5, min_messages=3)
    assert at is not None
    assert kb.first_alert(TEXTS[: at + 1], threshold=0.5, min_messages=3) == at
    assert kb.first_alert(TEXTS[:at], threshold=0.5, min_messages=3) is None


def test_custom_keywords() -> None:
    kb = KeywordBaseline(["free pizza", "  "])
    assert kb.keywords == ("free pizza", "  ")
    assert kb.hits("FREE   pizza today") == ("free pizza",)
    assert not kb.has_keyword("how old are you")
    with pytest.raises(ValueError):
        KeywordBaseline([])
    with pytest.raises(ValueError):
        KeywordBaseline([" ", ""])


def test_default_list_covers_the_stages() -> None:
    for phrase in ("how old are you", "our secret", "meet", "snapchat", "robux"):
        assert phrase in DEFAULT_KEYWORDS


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀🙈 secret 🤫", "\x00\x07ctrl\x1b", "Wie alt bist du?", "x" * 1_000_000, "meet " * 200_000],
)
def test_odd_input_never_crashes(kb: KeywordBaseline, text: str) -> None:
    scores = kb.score_stream([text, text])
    assert all(0.0 <= s <= 1.0 for s in scores)
