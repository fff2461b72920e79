"""Training rows and the streaming detector must compute the same model: no train/serve skew."""

from __future__ import annotations

import numpy as np
import pytest

from safeguarding.detection import load_detector
from safeguarding.detection.data import LabelledConversation
from safeguarding.detection.model import CUE_LIST
from safeguarding.detection.train import TrainResult
from safeguarding.detection.training import Rows, add_conversation
from safeguarding.synth import make_dataset


def test_streaming_margin_equals_training_features(tiny_model: TrainResult) -> None:
    det = load_detector(tiny_model.out_dir)
    w = det.weights
    bits = [int(c) for c in CUE_LIST]
    for s in make_dataset(12, 21):
        rec = LabelledConversation(s.conversation, "synthetic", s.conversation.id)
        rows = Rows(n_buckets=w.n_buckets)
        add_conversation(rows, rec, checkpoints=(1, 3, 5, 10), n_cues=len(bits), cue_bits=bits)
        text = rows.text_matrix()
        dense = rows.dense_matrix()
        expected = np.asarray(text @ w.text.astype(np.float64)).ravel() + dense @ w.dense + w.intercept
        # replay the stream and read each author's margin at the same checkpoints
        state = det.new_state(s.conversation.id)
        got: list[float] = []
        seen: dict[str, int] = {}
        for m in s.conversation.messages:
            det.update(state, m)
            seen[m.author] = seen.get(m.author, 0) + 1
            if seen[m.author] in (1, 3, 5, 10):
                got.append(state.authors[m.author].margin)
        finals = [state.authors[a].margin for a, n in seen.items() if n not in (1, 3, 5, 10)]
        np.testing.assert_allclose(got + finals, expected, rtol=1e-5, atol=1e-4)


def test_hard_negatives_get_more_weight_and_the_classes_keep_their_mass() -> None:
    from safeguarding.detection.training import source_balanced_weights, with_hard_negatives

    labels = [1, 1, 0, 0, 0, 0, 0, 0]
    sources = ["pj", "pj", "pj", "pj", "chat", "chat", "irc", "irc"]
    base = source_balanced_weights(labels, sources)
    w = with_hard_negatives(base, labels, sources, frozenset({"pj"}), 4.0)
    y = np.asarray(labels)
    assert w[y == 1].sum() == pytest.approx(base[y == 1].sum())
    assert w[y == 0].sum() == pytest.approx(base[y == 0].sum())
    assert list(w[:2]) == list(base[:2])  # positives of a hard source are not touched
    # each hard negative now weighs 4x an easy one (they weighed the same per source share before)
    assert w[2] / w[4] == pytest.approx(4.0 * base[2] / base[4])
    assert with_hard_negatives(base, labels, sources, frozenset({"pj"}), 1.0) is base
