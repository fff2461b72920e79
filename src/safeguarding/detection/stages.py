"""Grooming-stage tagging of one message: which stages (design.md §5) a line shows, for explanations.

Why two sources: the hand-written cues (:mod:`safeguarding.detection.cues`) are precise about *acts*
("how old r u", "dont tell ur mom") but blind to everything they do not spell out; the only labelled
data (161 PAN12 lines, one annotator) is far too small for a lexical model to stand alone. So a small
one-vs-rest logistic regression over hashed unigrams/bigrams *plus the cue bits* is trained on those
lines and on a few sentences written here per stage (weak supervision), and :meth:`StageTagger.tag`
returns the union of the stages the cues imply and the stages the model is confident about.

Scoring adds weight rows in plain Python, or in the C accelerator when it was built (the same sums);
scikit-learn is imported inside :meth:`StageTagger.fit`. The learned weights are plain arrays
(:meth:`StageTagger.to_arrays`) that hold per-bucket weights, never text. Training data, the seed
sentences and the evaluation protocol live in :mod:`safeguarding.detection.stage_training`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from safeguarding.detection.cues import CUE_STAGES, N_CUES, Cue, cue_flags, cues_of_normalised
from safeguarding.detection.features import accelerator, hashed_features, hashed_normalised, normalise
from safeguarding.types import STAGES, Stage

__all__ = [
    "DATASET_LABELS",
    "NEUTRAL",
    "OFFLINE",
    "StageTagger",
    "cue_stages",
    "label_stages",
    "rule_label",
]

NEUTRAL = "neutral"
OFFLINE = "offline_escalation"
DATASET_LABELS: tuple[str, ...] = (
    NEUTRAL,
    "trust_building",
    "information_gathering",
    "secrecy_isolation",
    "sexualisation",
    "control_coercion",
    OFFLINE,
)
"""The labels of the ``grooming_stages_*`` data; ``offline_escalation`` covers meeting and off_platform."""

_CUE_BITS: tuple[tuple[int, Stage], ...] = tuple((int(c), s) for c, s in CUE_STAGES.items())

# Rules-only labelling: the first cue group present wins (most specific act first, fixed a priori).
_RULE_ORDER: tuple[tuple[int, str], ...] = (
    (int(Cue.CONTROL), "control_coercion"),
    (int(Cue.SECRECY | Cue.ISOLATION), "secrecy_isolation"),
    (int(Cue.MEETING | Cue.OFF_PLATFORM), OFFLINE),
    (int(Cue.SEXUAL | Cue.PHOTO_REQUEST), "sexualisation"),
    (int(Cue.AGE_QUESTION | Cue.LOCATION_QUESTION | Cue.ALONE_QUESTION), "information_gathering"),
    (int(Cue.COMPLIMENT | Cue.AFFECTION | Cue.MATURITY | Cue.GIFTS), "trust_building"),
)


def cue_stages(cues: int) -> tuple[Stage, ...]:
    """The stages a cue bitmask implies, in :data:`~safeguarding.types.STAGES` order."""
    found = {s for bit, s in _CUE_BITS if cues & bit}
    return tuple(s for s in STAGES if s in found)


def rule_label(cues: int) -> str:
    """One dataset label from cues alone (the "rules only" baseline of the evaluation)."""
    for bits, label in _RULE_ORDER:
        if cues & bits:
            return label
    return NEUTRAL


def cue_labels(cues: int) -> set[str]:
    """Every dataset label some cue of ``cues`` points at."""
    return {label for bits, label in _RULE_ORDER if cues & bits}


def label_stages(label: str, cues: int = 0) -> tuple[Stage, ...]:
    """Stages of a label; ``offline_escalation`` is off_platform when an app/phone cue fired, else meeting."""
    if label == NEUTRAL:
        return ()
    if label == OFFLINE:
        both = cues & Cue.OFF_PLATFORM and cues & Cue.MEETING
        if both:
            return (Stage.OFF_PLATFORM, Stage.MEETING)
        return (Stage.OFF_PLATFORM,) if cues & Cue.OFF_PLATFORM else (Stage.MEETING,)
    return (Stage(label),)


class StageTagger:
    """One-vs-rest logistic regression over hashed n-grams and cue bits, scored with numpy.

    Follows scikit-learn's contract: ``__init__`` only stores parameters, :meth:`fit` returns ``self``,
    learned attributes end in ``_`` (``classes_``, ``coef_`` of shape ``(n_classes, n_buckets + N_CUES)``,
    ``intercept_``).

    ``cue_weight`` scales the cue bits against the L2-normalised n-gram vector; ``threshold`` is the
    minimum (row-normalised) probability for a model stage to enter :meth:`tag`; ``cue_boost`` is added
    to the probability of labels the cues point at when a single label is wanted (:meth:`predict_combined`).
    """

    def __init__(
        self,
        n_buckets: int = 1 << 16,
        C: float = 16.0,
        cue_weight: float = 1.0,
        threshold: float = 0.5,
        cue_boost: float = 0.25,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
        random_state: int = 0,
    ) -> None:
        self.n_buckets = n_buckets
        self.C = C
        self.cue_weight = cue_weight
        self.threshold = threshold
        self.cue_boost = cue_boost
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    # -- training ----------------------------------------------------------------------------------
    def fit(
        self, texts: Sequence[str], labels: Sequence[str], sample_weight: Sequence[float] | None = None
    ) -> StageTagger:
        """Fit on single-label examples. Needs at least two distinct labels."""
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression

        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError("StageTagger.fit needs at least two distinct labels")
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, text in enumerate(texts):
            idx, val = self._row(text)
            rows.extend([i] * len(idx))
            cols.extend(idx)
            vals.extend(val)
        x = csr_matrix((vals, (rows, cols)), shape=(len(texts), self.n_buckets + N_CUES))
        y = np.asarray(labels)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        coef = np.zeros((len(classes), self.n_buckets + N_CUES))
        intercept = np.zeros(len(classes))
        for k, label in enumerate(classes):
            clf = LogisticRegression(
                C=self.C,
                class_weight=self.class_weight,
                solver="liblinear",
                max_iter=self.max_iter,
                random_state=self.random_state,
            )
            clf.fit(x, (y == label).astype(int), sample_weight=w)
            coef[k] = clf.coef_[0]
            intercept[k] = clf.intercept_[0]
        self.classes_ = np.asarray(classes)
        self.coef_ = coef.astype(np.float32)
        self.intercept_ = intercept.astype(np.float32)
        self._prepare()
        return self

    def _prepare(self) -> None:
        # Row-major (n_features, n_classes). Scoring adds the rows of a message's features one after
        # another (in C when the accelerator was built, else in Python over the non-zero rows: adding a
        # zero row changes no bit, so both give the same sums).
        w = np.ascontiguousarray(self.coef_.T, dtype=np.float64)
        nonzero = np.flatnonzero(np.any(w != 0, axis=1))
        self._rows: dict[int, list[float]] = dict(zip(nonzero.tolist(), w[nonzero].tolist(), strict=True))
        self._n_classes = w.shape[1]
        self._bias: list[float] = self.intercept_.astype(np.float64).tolist()
        self._native = accelerator()
        self._w_bytes = w.tobytes() if self._native is not None else b""
        self._labels: list[str] = [str(c) for c in self.classes_]
        self._tags: dict[tuple[int, tuple[bool, ...]], tuple[Stage, ...]] = {}

    def _features(self, text: str) -> tuple[list[int], int, int]:
        """Distinct n-gram buckets, the feature ids of the cues that fired appended, and the cue mask
        (a training row; scoring adds weight rows instead, see :meth:`_proba_cues`)."""
        idx = list(set(hashed_features(text, self.n_buckets)))
        n_grams = len(idx)
        cues = cue_flags(text)
        for i in range(N_CUES):
            if cues >> i & 1:
                idx.append(self.n_buckets + i)
        return idx, n_grams, cues

    def _row(self, text: str) -> tuple[list[int], list[float]]:
        """Sparse feature row: binary n-gram buckets (L2-normalised), then cue bits times ``cue_weight``."""
        idx, n_grams, _ = self._features(text)
        scale = 1.0 / math.sqrt(n_grams) if n_grams else 0.0
        return idx, [scale] * n_grams + [self.cue_weight] * (len(idx) - n_grams)

    # -- scoring -----------------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("StageTagger is not fitted: call fit() or from_arrays() first")

    def _gram_sums(self, norm: str) -> tuple[list[float], int]:
        """Per class, the sum of the weight rows of the text's distinct n-gram buckets (in order of first
        occurrence), and how many distinct buckets."""
        if self._native is not None:
            out: tuple[list[float], int] | None = self._native.row_sums(
                norm, self._w_bytes, self._n_classes, self.n_buckets
            )
            if out is not None:
                return out
        return self._python_gram_sums(norm)

    def _python_gram_sums(self, norm: str) -> tuple[list[float], int]:
        distinct = list(dict.fromkeys(hashed_normalised(norm, self.n_buckets)))
        sums = [0.0] * self._n_classes
        rows = self._rows
        for b in distinct:
            row = rows.get(b)
            if row is not None:
                sums = [x + y for x, y in zip(sums, row, strict=True)]
        return sums, len(distinct)

    def _proba_cues(self, text: str, cues: int | None = None) -> tuple[list[float], int]:
        """Row-normalised probabilities (plain floats: numpy on 7-element arrays is mostly call overhead)
        and the cue mask (``cues``: the text's :func:`cue_flags`, when the caller has them already)."""
        norm = normalise(text)
        if cues is None:
            cues = cues_of_normalised(norm)[0]
        gram, n_grams = self._gram_sums(norm)
        cue = [0.0] * self._n_classes
        bits = cues
        while bits:  # the cues that fired, lowest bit first
            low = bits & -bits
            bits ^= low
            row = self._rows.get(self.n_buckets + low.bit_length() - 1)
            if row is not None:
                cue = [x + y for x, y in zip(cue, row, strict=True)]
        scale = 1.0 / math.sqrt(n_grams) if n_grams else 0.0
        cw = self.cue_weight
        logits = [b + c * cw + g * scale for b, c, g in zip(self._bias, cue, gram, strict=True)]
        p = [0.5 + 0.5 * math.tanh(0.5 * v) for v in logits]  # the logistic function, overflow-free
        total = sum(p)
        return [v / total for v in p], cues

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Row-normalised one-vs-rest probabilities, shape ``(len(texts), len(classes_))``."""
        self._check()
        out = np.empty((len(texts), len(self._labels)))
        for i, text in enumerate(texts):
            out[i] = self._proba_cues(text)[0]
        return out

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text (model only)."""
        proba = self.predict_proba(texts)
        return [self._labels[int(k)] for k in proba.argmax(axis=1)]

    def predict_combined(self, texts: Sequence[str]) -> list[str]:
        """One label per text from model and cues: probabilities plus ``cue_boost`` for cue-implied labels."""
        self._check()
        out = []
        for text in texts:
            p, cues = self._proba_cues(text)
            hinted = cue_labels(cues)
            scores = [
                v + (self.cue_boost if c in hinted else 0.0) for v, c in zip(p, self._labels, strict=True)
            ]
            out.append(self._labels[scores.index(max(scores))])
        return out

    def tag(self, text: str, cues: int | None = None) -> tuple[Stage, ...]:
        """Stages of one message: cue-implied stages plus model labels at or above ``threshold``
        (``cues``: the text's :func:`cue_flags`, when the caller has them already)."""
        self._check()
        p, cues = self._proba_cues(text, cues)
        t = self.threshold
        key = (cues, tuple([v >= t for v in p]))  # the stages depend on nothing else
        stages = self._tags.get(key)
        if stages is None:
            found = set(cue_stages(cues))
            for label, passed in zip(self._labels, key[1], strict=True):
                if passed:
                    found.update(label_stages(label, cues))
            if len(self._tags) >= 4096:
                self._tags.clear()
            stages = self._tags[key] = tuple(s for s in STAGES if s in found)
        return stages

    # -- persistence -------------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to score, as arrays for an ``npz`` artifact (no text, no vocabulary).

        Only feature columns with a non-zero weight are stored (``stage_cols``): a model trained on a few
        hundred lines touches a few thousand of the 65,536 buckets, so the arrays stay tens of kilobytes.
        """
        self._check()
        cols = np.flatnonzero(np.any(self.coef_ != 0, axis=0)).astype(np.int64)
        params = [self.n_buckets, self.C, self.cue_weight, self.threshold, self.cue_boost, N_CUES]
        return {
            "stage_cols": cols,
            "stage_coef": np.ascontiguousarray(self.coef_[:, cols]),
            "stage_intercept": self.intercept_,
            "stage_classes": self.classes_.astype(str),
            "stage_params": np.asarray(params, dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> StageTagger:
        """Rebuild a fitted tagger from :meth:`to_arrays` output; checks shapes and the cue layout."""
        params = np.asarray(arrays["stage_params"], dtype=np.float64)
        n_buckets, c, cue_weight, threshold, cue_boost, n_cues = (float(v) for v in params[:6])
        if int(n_cues) != N_CUES:
            raise ValueError(f"stage tagger was trained with {int(n_cues)} cues, this code has {N_CUES}")
        tagger = cls(
            n_buckets=int(n_buckets), C=c, cue_weight=cue_weight, threshold=threshold, cue_boost=cue_boost
        )
        cols = np.asarray(arrays["stage_cols"], dtype=np.int64)
        values = np.asarray(arrays["stage_coef"], dtype=np.float32)
        intercept = np.asarray(arrays["stage_intercept"], dtype=np.float32)
        classes = np.asarray(arrays["stage_classes"]).astype(str)
        width = tagger.n_buckets + N_CUES
        if (
            values.shape != (len(classes), len(cols))
            or intercept.shape != (len(classes),)
            or (len(cols) and (cols.min() < 0 or cols.max() >= width))
        ):
            raise ValueError(f"stage tagger arrays are inconsistent: {values.shape}, {cols.shape}")
        coef = np.zeros((len(classes), width), dtype=np.float32)
        coef[:, cols] = values
        tagger.classes_, tagger.coef_, tagger.intercept_ = classes, coef, intercept
        tagger._prepare()
        return tagger
