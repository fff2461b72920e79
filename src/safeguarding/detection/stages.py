"""Grooming-stage tagging of one message: which stages (design.md §5) a line shows, for explanations.

Why two sources: the hand-written cues (:mod:`safeguarding.detection.cues`) are precise about *acts*
("how old r u", "dont tell ur mom") but blind to everything they do not spell out; the only labelled
data (161 PAN12 lines, one annotator) is far too small for a lexical model to stand alone. So a small
one-vs-rest logistic regression over hashed unigrams/bigrams *plus the cue bits* is trained on those
lines and on a few sentences written here per stage (weak supervision), and :meth:`StageTagger.tag`
returns the union of the stages the cues imply and the stages the model is confident about.

Scoring is numpy only; scikit-learn is imported inside :meth:`StageTagger.fit`. The learned weights are
plain arrays (:meth:`StageTagger.to_arrays`) that hold per-bucket weights, never text.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from safeguarding.detection.cues import CUE_STAGES, N_CUES, Cue, cue_flags, cues_of_normalised
from safeguarding.detection.features import accelerator, hashed_features, hashed_normalised, normalise
from safeguarding.errors import InputError
from safeguarding.types import STAGES, Stage

__all__ = [
    "DATASET_LABELS",
    "NEUTRAL",
    "OFFLINE",
    "StageTagger",
    "cue_stages",
    "evaluate_stages",
    "label_stages",
    "load_stage_items",
    "macro_f1",
    "rule_label",
    "seed_examples",
    "train_stage_tagger",
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


# -- weak supervision ------------------------------------------------------------------------------------
# Sentences written for this module (never copied from any data set), in the register of chat lines:
# lower case, txt-speak, typos. "|" separates sentences.
_SEEDS: dict[str, str] = {
    NEUTRAL: """
lol yeah that movie was so dumb | what r u up to | brb gotta eat dinner | did u finish the game last night
its raining here again ugh | haha ok | i like pizza more than burgers | my cat keeps sitting on the keyboard
that song is stuck in my head | wanna play minecraft later | i'm so tired today | ok cool
what kind of music do u listen to | the new update is buggy | hmm idk | gtg ttyl
i watched a show about sharks | lunch was gross | do u like dogs or cats | nothing much just chilling
""",
    "trust_building": """
you seem really sweet | i like talking to you a lot | ur so easy to talk to | youre really cute u know that
i think ur special | you can trust me | i'd never hurt you | ur way more mature than most people
i really care about u | you're so pretty in ur pic | i'm always here for you | u make me smile
i could buy you something nice | ur my favorite person to talk to | i feel like i've known u forever
ur different from other girls | u deserve someone who treats u right | i miss talking to u
""",
    "information_gathering": """
how old r u | asl | where do u live | what grade r u in | are u home alone right now
do ur parents check ur phone | what school do u go to | do u have ur own room | who do u live with
when do ur parents get home | what city r u in | do u have a bf | is ur mom home | do u have brothers
what do u look like | how tall r u | are u on ur computer in ur room | what time do u go to bed
""",
    "secrecy_isolation": """
dont tell anyone we talk | this is our secret ok | delete our chats after | ur parents wouldnt understand
keep this between us | nobody needs to know | ur friends are too immature for u | only i really get u
make sure ur mom doesnt see this | clear ur history ok | they just want to control u
if anyone asks say im a friend from school | dont tell ur friends about me | we have to be careful
ur mom would freak out if she knew | promise u wont tell
""",
    "sexualisation": """
have u ever kissed anyone | what are u wearing | r u a virgin | have u ever touched urself
send me a pic in ur bra | u make me so hard | i wanna see u naked | do u ever get horny
i want to kiss u all over | what color r ur panties | have u seen a guy naked | u ever had sex
do u sleep naked | i could teach u things | show me ur body | i'm thinking about u in bed
""",
    "control_coercion": """
answer me | why r u ignoring me | u better do it | if u dont send it ill tell everyone
u promised | do what i say | dont make me ask again | i'll post ur pics | u owe me
if u really loved me u would | last chance | u have to | i know where u live | reply now
u cant back out now | i'll be really mad
""",
    OFFLINE: """
we should meet up | can i pick u up after school | add me on snap | whats ur number | text me
i could drive to ur town | wanna hang out this weekend | can u sneak out tonight | call me
i'll get us a hotel room | meet me at the park | do u have kik | when can we meet
i'll come see u saturday | we can talk on the phone | give me ur address
""",
}


def seed_examples() -> list[tuple[str, str]]:
    """(text, label) pairs written for weak supervision: a few clear lines per dataset label."""
    out: list[tuple[str, str]] = []
    for label, block in _SEEDS.items():
        for sentence in block.replace("\n", " | ").split("|"):
            if sentence.strip():
                out.append((sentence.strip(), label))
    return out


# -- data, training and evaluation ---------------------------------------------------------------------------
def load_stage_items(path: str | Path) -> list[tuple[str, str, str]]:
    """``(text, label, conversation_id)`` of a ``grooming_stages_*.jsonl`` file (read by the corpus loader);
    a bad line or a label outside :data:`DATASET_LABELS` is an InputError."""
    from safeguarding.detection.data import load_stage_items as read_items

    items = read_items(path)
    for n, it in enumerate(items, 1):
        if it.label not in DATASET_LABELS:
            raise InputError(f"unknown label {it.label!r}", where=f"{path}: item {n}")
    return [(it.text, it.label, it.group) for it in items]


def train_stage_tagger(
    items: Sequence[tuple[str, str, str]] = (),
    *,
    use_seeds: bool = True,
    seed_weight: float = 1.0,
    **params: Any,
) -> StageTagger:
    """Fit a :class:`StageTagger` on labelled items plus (by default) :func:`seed_examples`."""
    texts = [t for t, _, _ in items]
    labels = [lab for _, lab, _ in items]
    weights = [1.0] * len(texts)
    if use_seeds:
        for text, label in seed_examples():
            texts.append(text)
            labels.append(label)
            weights.append(seed_weight)
    return StageTagger(**params).fit(texts, labels, sample_weight=weights)


def _bucket(conversation_id: str, salt: str, mod: int) -> int:
    return int(hashlib.sha256(f"{salt}:{conversation_id}".encode()).hexdigest()[:8], 16) % mod


def macro_f1(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = DATASET_LABELS
) -> dict[str, float]:
    """Per-label F1 (2TP / (2TP + FP + FN), 0 when undefined) and their unweighted mean as ``macro``."""
    out: dict[str, float] = {}
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p != lab)
        out[lab] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    out["macro"] = sum(out[lab] for lab in labels) / len(labels)
    return out


_VARIANTS = ("rules", "model", "combined", "model_ngrams_only", "model_data_only", "model_seeds_only")


def _run_split(
    train: Sequence[tuple[str, str, str]], test: Sequence[tuple[str, str, str]], params: dict[str, Any]
) -> dict[str, list[str]]:
    texts = [t for t, _, _ in test]
    full = train_stage_tagger(train, **params)
    return {
        "rules": [rule_label(cue_flags(t)) for t in texts],
        "model": full.predict(texts),
        "combined": full.predict_combined(texts),
        "model_ngrams_only": train_stage_tagger(train, **{**params, "cue_weight": 0.0}).predict(texts),
        "model_data_only": train_stage_tagger(train, use_seeds=False, **params).predict(texts),
        "model_seeds_only": train_stage_tagger((), **params).predict(texts),
    }


def evaluate_stages(
    data_path: str | Path, *, holdout_percent: int = 30, folds: int = 5, **params: Any
) -> dict[str, Any]:
    """Macro-F1 over the 7 dataset labels for rules only, model only and combined (plus ablations).

    Splits are by conversation (sha256 of the id with a salt), never by message: a 30 % hold-out and a
    grouped ``folds``-fold cross-validation (mean and standard deviation over folds). ``params`` go to
    :class:`StageTagger` (defaults otherwise). Variants: ``rules`` (cues only, :func:`rule_label`),
    ``model`` (n-grams + cue bits, trained on data + seeds), ``combined``
    (:meth:`StageTagger.predict_combined`), and ablations ``model_ngrams_only`` (cue bits off),
    ``model_data_only`` (no seeds) and ``model_seeds_only``.
    """
    items = load_stage_items(data_path)
    held = [it for it in items if _bucket(it[2], "stages-holdout", 100) < holdout_percent]
    rest = [it for it in items if _bucket(it[2], "stages-holdout", 100) >= holdout_percent]
    preds = _run_split(rest, held, params)
    gold = [lab for _, lab, _ in held]
    result: dict[str, Any] = {
        "n_items": len(items),
        "n_conversations": len({c for _, _, c in items}),
        "holdout": {"n_items": len(held), **{v: macro_f1(gold, preds[v]) for v in _VARIANTS}},
    }
    per_fold: dict[str, list[float]] = {v: [] for v in _VARIANTS}
    for k in range(folds):
        test = [it for it in items if _bucket(it[2], "stages-cv", folds) == k]
        train = [it for it in items if _bucket(it[2], "stages-cv", folds) != k]
        fold_preds = _run_split(train, test, params)
        fold_gold = [lab for _, lab, _ in test]
        for v in _VARIANTS:
            per_fold[v].append(macro_f1(fold_gold, fold_preds[v])["macro"])
    result["cv"] = {
        v: {"mean": float(np.mean(s)), "std": float(np.std(s)), "folds": [round(x, 4) for x in s]}
        for v, s in per_fold.items()
    }
    return result
