"""The grooming model's featurisation and scoring: one linear model over an author's message stream.

Why this shape: an author's score is a logistic function of

* the mean of his messages' L2-normalised hashed n-gram vectors (``text``), and
* a small dense vector of behavioural features kept as counters (``dense``): how often he asks the other
  side's age, location or whether they are alone, asks for secrecy, photos, a meeting or a move to another
  app, offers gifts; whether *another* participant said they are a minor; whether he said he is one.

Both parts are linear in per-message quantities, so a stream keeps only running sums: the text part is a
scalar sum of per-message dot products, the dense part a few integer counters. Each message costs O(1)
and the state is a few hundred bytes, yet streaming scores equal batch scores exactly (same code).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from safeguarding.detection.cues import CUE_STAGES, N_CUES, Cue, cues_of_normalised
from safeguarding.detection.features import hashed_counts, normalise

# A second-person statement of a minor's age or youth ("ur 13", "you're only 14", "at your age").
_YOU_MINOR_RE = re.compile(
    r"\b(?:you(?:'re| are| r)?|ur|u r|u)\s+(?:only\s+|just\s+|like\s+)?(?:1[0-7]|[5-9])\b"
    r"(?!\s*(?:min|hour|sec|day|%|:))"
    r"|\b(?:at|for) (?:your|ur) age\b|\byou(?:'re| are)? (?:so |too )?young\b|\bur (?:so |too )?young\b"
)

MINOR_MAX_AGE = 17

CUE_LIST: tuple[Cue, ...] = tuple(Cue(1 << i) for i in range(N_CUES))

STAGE_BITS: tuple[int, ...] = tuple(
    sum(int(c) for c, s in CUE_STAGES.items() if s == st) for st in dict.fromkeys(CUE_STAGES.values())
)

_INTERACTION_CUES: tuple[str, ...] = (
    "SEXUAL",
    "PHOTO_REQUEST",
    "MEETING",
    "SECRECY",
    "OFF_PLATFORM",
    "ALONE_QUESTION",
    "GIFTS",
)


def dense_feature_names() -> list[str]:
    """Names of the dense features, in vector order (used for explanations and the model card)."""
    names = [f"rate:{c.name}" for c in CUE_LIST]
    names += [f"any:{c.name}" for c in CUE_LIST]
    names += [
        "log_messages",
        "distinct_stages",
        "self_minor",
        "self_adult",
        "you_minor_rate",
        "partner_minor",
        "partner_adult",
        "share_of_messages",
    ]
    names += [f"partner_minor*rate:{n}" for n in _INTERACTION_CUES]
    names += [f"self_adult*rate:{n}" for n in _INTERACTION_CUES]
    names += [f"partner_adult*rate:{n}" for n in _INTERACTION_CUES]
    names += [f"self_minor*rate:{n}" for n in _INTERACTION_CUES]
    return names


N_DENSE = len(dense_feature_names())
_INTERACTION_IDX = tuple(CUE_LIST.index(Cue[n]) for n in _INTERACTION_CUES)


@dataclass(frozen=True, slots=True)
class MessageFeatures:
    """What one message contributes: hashed n-gram counts and their inverse L2 norm (the message's
    L2-normalised vector is ``counts * inv_norm``), cue bitmask, self-stated age."""

    counts: dict[int, int]
    inv_norm: float
    cues: int
    age: int | None
    you_minor: bool

    @property
    def vector(self) -> dict[int, float]:
        return {b: v * self.inv_norm for b, v in self.counts.items()}


def message_cues(norm: str) -> tuple[int, int | None, bool]:
    """The behavioural half of one normalised message: cue bitmask, self-stated age, "you are a minor"."""
    you_minor = bool(_YOU_MINOR_RE.search(norm)) if ("u" in norm) else False
    cues, age = cues_of_normalised(norm)
    return cues, age, you_minor


def featurise(text: str, n_buckets: int) -> MessageFeatures:
    """Everything the model reads from one message, from one normalisation pass (training rows; the
    streaming detector reads the same through :func:`message_cues` and a :class:`TextScorer`)."""
    norm = normalise(text)
    cues, age, you_minor = message_cues(norm)
    counts, sq = hashed_counts(norm, n_buckets)
    return MessageFeatures(counts, 1.0 / math.sqrt(sq) if sq else 0.0, cues, age, you_minor)


def stage_count(mask: int) -> int:
    return sum(1 for bits in STAGE_BITS if mask & bits)


def dense_vector(
    n: int,
    cue_counts: list[int],
    cue_mask: int,
    self_minor: bool,
    self_adult: bool,
    you_minor: int,
    partner_minor: bool,
    partner_adult: bool,
    share: float,
) -> list[float]:
    """The dense behavioural features of one author at one moment (see :func:`dense_feature_names`)."""
    inv = 1.0 / n if n else 0.0
    rates = [c * inv for c in cue_counts]
    out = rates + [1.0 if c else 0.0 for c in cue_counts]
    out += [
        math.log1p(n),
        stage_count(cue_mask) / 8.0,
        float(self_minor),
        float(self_adult),
        you_minor * inv,
        float(partner_minor),
        float(partner_adult),
        share,
    ]
    pm = float(partner_minor)
    sa = float(self_adult)
    out += [pm * rates[i] for i in _INTERACTION_IDX]
    out += [sa * rates[i] for i in _INTERACTION_IDX]
    pa = float(partner_adult)
    sm = float(self_minor)
    out += [pa * rates[i] for i in _INTERACTION_IDX]
    out += [sm * rates[i] for i in _INTERACTION_IDX]
    return out


def is_minor_age(age: int | None) -> bool:
    return age is not None and age <= MINOR_MAX_AGE


def is_adult_age(age: int | None) -> bool:
    return age is not None and age > MINOR_MAX_AGE


@dataclass(frozen=True)
class LinearWeights:
    """Learned parameters: text weights per hash bucket, dense weights, intercept and Platt calibration."""

    text: np.ndarray
    dense: np.ndarray
    intercept: float
    calib_a: float = 1.0
    calib_b: float = 0.0

    @property
    def n_buckets(self) -> int:
        return int(self.text.shape[0])

    def calibrate(self, margin: float) -> float:
        """Platt-scaled probability from the raw linear margin."""
        z = self.calib_a * margin + self.calib_b
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


class FastScorer:
    """The linear model evaluated from an author's running sums instead of his dense feature vector.

    ``dense_vector(...) @ w`` expands into per-cue sums that change only when a cue fires, so an update
    costs a handful of additions. Algebraically identical to the training features (a test checks it).
    """

    def __init__(self, weights: LinearWeights) -> None:
        dw = [float(x) for x in weights.dense]
        idx = {n: i for i, n in enumerate(dense_feature_names())}

        def w(name: str) -> float:
            return dw[idx[name]] if name in idx else 0.0

        self.intercept = weights.intercept
        # per cue index: (bit, rate weight, any weight, pm*, sa*, pa*, sm* interaction weights)
        self.per_cue: list[tuple[int, float, float, float, float, float, float]] = [
            (
                int(c),
                w(f"rate:{c.name}"),
                w(f"any:{c.name}"),
                w(f"partner_minor*rate:{c.name}"),
                w(f"self_adult*rate:{c.name}"),
                w(f"partner_adult*rate:{c.name}"),
                w(f"self_minor*rate:{c.name}"),
            )
            for c in CUE_LIST
        ]
        self.w_log = w("log_messages")
        self.w_stages = w("distinct_stages") / 8.0
        self.w_self_minor = w("self_minor")
        self.w_self_adult = w("self_adult")
        self.w_you = w("you_minor_rate")
        self.w_partner_minor = w("partner_minor")
        self.w_partner_adult = w("partner_adult")
        self.w_share = w("share_of_messages")
        self._stage_cache: dict[int, int] = {}
        self.any_w = [t[2] for t in self.per_cue]
        self._mask_cache: dict[int, tuple[tuple[int, ...], float, float, float, float, float]] = {}

    def of_mask(self, mask: int) -> tuple[tuple[int, ...], float, float, float, float, float]:
        """For a message's cue bitmask: the cue indices it sets and the summed rate and interaction
        weights (rate, partner-minor, self-adult, partner-adult, self-minor)."""
        hit = self._mask_cache.get(mask)
        if hit is None:
            rows = [(i, t) for i, t in enumerate(self.per_cue) if mask & t[0]]
            hit = self._mask_cache[mask] = (
                tuple(i for i, _ in rows),
                sum(t[1] for _, t in rows),
                sum(t[3] for _, t in rows),
                sum(t[4] for _, t in rows),
                sum(t[5] for _, t in rows),
                sum(t[6] for _, t in rows),
            )
        return hit

    def stages(self, mask: int) -> int:
        n = self._stage_cache.get(mask)
        if n is None:
            n = self._stage_cache[mask] = stage_count(mask)
        return n
