"""The C accelerator of the text score must agree with the Python path to the bit, on any text."""

from __future__ import annotations

import os
import random
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguarding.detection import load_detector
from safeguarding.detection.features import TextScorer, hashed_normalised, normalise, python_hashed
from safeguarding.synth import make_dataset


@pytest.fixture(scope="module")
def speedups() -> ModuleType:
    """The built extension (skips where it was not built; CI checks that it was, below)."""
    return pytest.importorskip("safeguarding.detection._speedups")


@pytest.fixture(scope="module")
def scorer(speedups: ModuleType) -> TextScorer:
    s = TextScorer(load_detector().weights.text)
    if not s.native:
        pytest.skip("SAFEGUARDING_PURE_PYTHON is set")
    return s


def test_ci_builds_the_accelerator() -> None:
    """CI sets SAFEGUARDING_EXPECT_NATIVE: a silently failed build would otherwise only show as speed
    (this test must not depend on the ``speedups`` fixture, which skips when there is no extension)."""
    if os.environ.get("SAFEGUARDING_EXPECT_NATIVE"):
        assert TextScorer(np.zeros(8)).native


# Letters of several scripts, digits, apostrophes, punctuation, emoji, control and space characters,
# an underscore (a word character that is no token), upper case (skipped) and a lone surrogate.
ALPHABET = "abz09'' _-.,!?\t\n\x00\x1c\x7fAZéßЖж中文😀👍🏽\u200b\u00a0\u2019\ud800"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60) | st.text(max_size=40))
def test_random_text_matches_python(scorer: TextScorer, text: str) -> None:
    assert scorer.dot(text) == scorer.python_dot(text)
    norm = normalise(text)
    assert scorer.dot(norm) == scorer.python_dot(norm)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60) | st.text(max_size=40), st.sampled_from([1 << 16, 1 << 18, 7]))
def test_buckets_match_python(text: str, n_buckets: int) -> None:
    assert hashed_normalised(text, n_buckets) == python_hashed(text, n_buckets)


def test_chat_matches_python(scorer: TextScorer) -> None:
    texts = [m.text for s in make_dataset(200, seed=3) for m in s.conversation.messages]
    for t in texts:
        norm = normalise(t)
        assert scorer.dot(norm) == scorer.python_dot(norm)
    assert any(scorer.dot(normalise(t)) != 0.0 for t in texts)


def test_long_text_uses_the_heap_path_and_matches(scorer: TextScorer) -> None:
    rng = random.Random(7)
    words = ["hey", "u", "ok", "lol", "don't", "x", "?", "!", "😀", "wat's", "r"]
    for n in (255, 256, 257, 600, 1999, 4000):
        text = " ".join(rng.choice(words) for _ in range(n))
        assert scorer.dot(text) == scorer.python_dot(text)
        assert hashed_normalised(text, 1 << 16) == python_hashed(text, 1 << 16)


def test_over_the_length_cap_falls_back_to_python(scorer: TextScorer, speedups: ModuleType) -> None:
    weights = np.asarray(load_detector().weights.text, dtype=np.float64).tobytes()
    huge = "ab " * 5000
    assert speedups.text_dot(huge, weights, scorer.n_buckets) is None
    assert speedups.buckets(huge, 1 << 16) is None
    assert hashed_normalised(huge) == python_hashed(huge)
    assert scorer.dot(huge) == scorer.python_dot(huge)


def test_wrong_weights_size_falls_back(speedups: ModuleType) -> None:
    assert speedups.text_dot("hello", b"\0" * 8 * 3, 4) is None
    with pytest.raises(TypeError):
        speedups.text_dot(b"hello", b"\0" * 32, 4)  # type: ignore[arg-type]


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80) | st.text(max_size=40))
def test_stage_tagger_sums_match_python(text: str) -> None:
    tagger = load_detector().tagger
    assert tagger is not None
    norm = normalise(text)
    assert tagger._gram_sums(norm) == tagger._python_gram_sums(norm)


def test_stage_tagger_on_chat_matches_python() -> None:
    tagger = load_detector().tagger
    assert tagger is not None
    texts = [m.text for s in make_dataset(100, seed=5) for m in s.conversation.messages]
    long = " ".join(texts[:400])  # past the stack buffers
    for t in [*texts, long]:
        norm = normalise(t)
        assert tagger._gram_sums(norm) == tagger._python_gram_sums(norm)
    assert any(tagger._gram_sums(normalise(t))[0] != [0.0] * len(tagger._labels) for t in texts)
