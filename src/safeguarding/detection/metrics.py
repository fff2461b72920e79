"""Evaluation metrics: PAN12 problem 1, classification, ranking, early detection and calibration.

Pure numpy, no scikit-learn: ``safeguarding evaluate`` must run on the core install. Every function
returns plain Python numbers so results serialise to JSON as they are.

Conventions (the same in every function here):

- Labels are 0/1 (or bool); 1 is the positive class (predator, grooming conversation).
- **Zero division gives 0.0**: precision with no alerts, recall with no positives, F with P + R = 0 and
  the false-positive rate with no negatives are all 0.0. This is what the eRisk evaluation script and
  the eSPD evaluation code of Vogt et al. (2021) do, and it keeps ``nan`` out of reports.
- Ranking metrics that are undefined when one class is absent (ROC-AUC, average precision) return
  ``nan``; they say "not measurable", which 0.0 would hide.
- F-beta = (1 + β²)·P·R / (β²·P + R) (van Rijsbergen 1979). β = 0.5 weighs precision twice as much as
  recall; F0.5 was the official ranking measure of PAN12 problem 1 (Inches & Crestani 2012).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def f_beta(precision: float, recall: float, beta: float = 1.0) -> float:
    """F-beta = (1 + β²)·P·R / (β²·P + R); 0.0 when P = R = 0."""
    b2 = beta * beta
    den = b2 * precision + recall
    return (1.0 + b2) * precision * recall / den if den > 0 else 0.0


@dataclass(frozen=True, slots=True)
class BinaryScores:
    """Precision, recall, F1 and F0.5 of the positive class, with the confusion counts behind them."""

    precision: float
    recall: float
    f1: float
    f05: float
    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int, tn: int = 0) -> BinaryScores:
        """P = TP / (TP + FP), R = TP / (TP + FN), F from P and R; 0.0 on zero division."""
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return cls(p, r, f_beta(p, r, 1.0), f_beta(p, r, 0.5), int(tp), int(fp), int(fn), int(tn))

    @property
    def fpr(self) -> float:
        """False-positive rate FP / (FP + TN): the share of negatives that were flagged."""
        return _ratio(self.fp, self.fp + self.tn)

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def fbeta(self, beta: float) -> float:
        return f_beta(self.precision, self.recall, beta)

    def as_dict(self) -> dict[str, float]:
        """The fields plus ``fpr``, for reports."""
        return {**asdict(self), "fpr": self.fpr}


def _labels(y_true: ArrayLike, name: str = "y_true") -> NDArray[np.bool_]:
    arr = np.asarray(y_true)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0/1 or booleans")
    return arr.astype(bool)


def _floats(values: ArrayLike, n: int, name: str = "scores") -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) like y_true, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no nan or inf)")
    return arr


def binary_scores(y_true: ArrayLike, y_pred: ArrayLike) -> BinaryScores:
    """Confusion counts and P/R/F1/F0.5 of hard 0/1 predictions."""
    t, p = _labels(y_true), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} != {p.size}")
    tp = int(np.count_nonzero(t & p))
    fp = int(np.count_nonzero(~t & p))
    fn = int(np.count_nonzero(t & ~p))
    return BinaryScores.from_counts(tp, fp, fn, t.size - tp - fp - fn)


def pan12_problem1(
    predicted_predators: Iterable[str],
    true_predators: Iterable[str],
    all_authors: Iterable[str] | None = None,
) -> BinaryScores:
    """PAN12 sexual predator identification, problem 1 (Inches & Crestani 2012, CLEF overview).

    Scored over sets of author ids: with S the ids flagged as predators and T the true predator ids,
    P = |S ∩ T| / |S|, R = |S ∩ T| / |T|, F1 and F0.5 (the official ranking measure) from P and R.
    Duplicated ids count once. Zero division gives 0.0 (flagging nobody scores P = R = F = 0).

    ``tn`` needs the author universe: with ``all_authors`` it is the number of authors in
    ``all_authors ∪ S ∪ T`` neither flagged nor predators, else 0. It does not enter P, R or F.
    """
    flagged, truth = set(predicted_predators), set(true_predators)
    tp, fp, fn = len(flagged & truth), len(flagged - truth), len(truth - flagged)
    tn = len(set(all_authors) - flagged - truth) if all_authors is not None else 0
    return BinaryScores.from_counts(tp, fp, fn, tn)


def _weights(sample_weight: ArrayLike | None, n: int) -> NDArray[np.float64]:
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    w = _floats(sample_weight, n, "sample_weight")
    if (w < 0).any():
        raise ValueError("sample_weight must be >= 0")
    return w


def _sweep(
    t: NDArray[np.bool_], s: NDArray[np.float64], w: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Thresholds (distinct scores, descending) and the TP/FP weight flagged by ``score >= threshold``."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted, t_sorted, w_sorted = s[order], t[order], w[order]
    last_of_group = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tp = np.cumsum(w_sorted * t_sorted)[last_of_group]
    fp = np.cumsum(w_sorted * ~t_sorted)[last_of_group]
    return s_sorted[last_of_group], tp, fp


def roc_auc(y_true: ArrayLike, scores: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
    """Area under the ROC curve = the Mann–Whitney U statistic (Hanley & McNeil 1982).

    AUC = Σ_{i ∈ pos, j ∈ neg} w_i·w_j·([s_i > s_j] + ½·[s_i = s_j]) / (W₊·W₋): the probability that a
    random positive outscores a random negative, a tie counting one half. Unweighted this equals the
    rank form (Σ_{i ∈ pos} rank_i − n₊(n₊ + 1)/2) / (n₊·n₋) with tied scores given their average rank.
    Computed in O(n log n) as the trapezoidal area under the ROC points of the distinct thresholds.
    ``nan`` if a class is absent (or has zero weight).
    """
    t = _labels(y_true)
    s = _floats(scores, t.size)
    if t.size == 0:
        return math.nan
    _, tp, fp = _sweep(t, s, _weights(sample_weight, t.size))
    if tp[-1] <= 0 or fp[-1] <= 0:
        return math.nan
    tpr, fpr = np.r_[0.0, tp / tp[-1]], np.r_[0.0, fp / fp[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def average_precision(y_true: ArrayLike, scores: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
    """AP = Σ_k (R_k − R_{k−1})·P_k over distinct thresholds in decreasing score, R₀ = 0.

    The step-wise (non-interpolated) area under the precision–recall curve, the same definition as
    scikit-learn's ``average_precision_score``; tied scores enter as one threshold; weights scale each
    item's count. ``nan`` without positives.
    """
    t = _labels(y_true)
    s = _floats(scores, t.size)
    if t.size == 0:
        return math.nan
    _, tp, fp = _sweep(t, s, _weights(sample_weight, t.size))
    if tp[-1] <= 0:
        return math.nan
    flagged = tp + fp
    precision = np.divide(tp, flagged, out=np.zeros_like(tp), where=flagged > 0)
    return float(np.sum(np.diff(np.r_[0.0, tp / tp[-1]]) * precision))


def choose_threshold(
    y_true: ArrayLike, scores: ArrayLike, beta: float = 0.5, min_precision: float | None = None
) -> tuple[float, BinaryScores]:
    """The threshold that maximises F-beta on a **development** set; flagged means ``score >= threshold``.

    Candidates are the distinct scores. With ``min_precision`` only thresholds reaching that precision
    compete. Ties in F-beta go to the highest threshold (fewest alerts). Never call this on evaluation
    data: a threshold tuned on the test set makes every number measured there optimistic.

    Raises ``ValueError`` when the set has no positives or no threshold reaches ``min_precision``;
    silently returning a threshold that flags nobody would ship a detector that never alerts.
    """
    t = _labels(y_true)
    s = _floats(scores, t.size)
    n_pos = int(np.count_nonzero(t))
    if n_pos == 0:
        raise ValueError("cannot choose a threshold on a set without positives")
    thresholds, tp, fp = _sweep(t, s, np.ones(t.size))
    precision = tp / (tp + fp)
    recall = tp / n_pos
    b2 = beta * beta
    den = b2 * precision + recall
    fb = np.divide((1 + b2) * precision * recall, den, out=np.zeros_like(den), where=den > 0)
    if min_precision is not None:
        fb = np.where(precision >= min_precision, fb, -1.0)
        if fb.max() < 0:
            raise ValueError(f"no threshold reaches precision {min_precision} on this set")
    best = int(np.argmax(fb))  # first maximum = highest threshold
    n_tp, n_fp = int(tp[best]), int(fp[best])
    return float(thresholds[best]), BinaryScores.from_counts(n_tp, n_fp, n_pos - n_tp, t.size - n_pos - n_fp)


# --- early detection -------------------------------------------------------------------------------

P_ERISK = 0.0078
"""Penalty factor of the eRisk evaluation script (penalty 0.5 after ≈142 posts; ln 3 / 141 ≈ 0.00779)."""

MEDIAN_MESSAGES_VOGT = 90
"""Messages at which Vogt et al.'s eSPD evaluation code puts the penalty at 0.5 (median full chat)."""


def penalty_factor(half_penalty_at: float) -> float:
    """The p with latency_penalty(k) = 0.5 at k = ``half_penalty_at``: p = ln 3 / (k − 1).

    From −1 + 2 / (1 + e^{−p(k−1)}) = 0.5 ⇔ e^{−p(k−1)} = 1/3.
    """
    if half_penalty_at <= 1:
        raise ValueError("half_penalty_at must be greater than 1 message")
    return math.log(3.0) / (half_penalty_at - 1.0)


P_VOGT = penalty_factor(MEDIAN_MESSAGES_VOGT)
"""ln 3 / 89 ≈ 0.01234: the default p, as in the eSPD evaluation of Vogt, Leser & Akbik (2021)."""


def latency_penalty(k: float, p: float = P_VOGT) -> float:
    """penalty(k) = −1 + 2 / (1 + e^{−p·(k − 1)}) (Sadeque, Xu & Bethard 2018).

    k is the number of messages read when the alert was raised (k ≥ 1). penalty(1) = 0 (alert on the
    first message: no delay); it rises towards 1 for late alerts.
    """
    if k < 1:
        raise ValueError(f"k counts messages read and must be >= 1, got {k}")
    return -1.0 + 2.0 / (1.0 + math.exp(-p * (k - 1.0)))


def speed(delays: Iterable[float], p: float = P_VOGT) -> float:
    """speed = 1 − median_{i ∈ TP} penalty(k_i), over the delays k of the true-positive alerts.

    The median is taken over penalties, as in the eRisk and eSPD evaluation code (for an even count it
    averages two penalties). No true positives gives 0.0: nothing was detected, so nothing was early.
    """
    penalties = [latency_penalty(k, p) for k in delays]
    return 1.0 - float(np.median(penalties)) if penalties else 0.0


@dataclass(frozen=True, slots=True)
class LatencyScores:
    """Latency-weighted F1 and its parts. ``median_delay`` (messages read, k) is None without TPs."""

    precision: float
    recall: float
    f1: float
    speed: float
    f_latency: float
    median_delay: float | None
    tp: int
    fp: int
    fn: int
    tn: int
    p: float


def _alerts(alert_at: Sequence[int | None], n: int) -> list[int | None]:
    if len(alert_at) != n:
        raise ValueError(f"alert_at must have one entry per item ({n}), got {len(alert_at)}")
    for a in alert_at:
        if a is not None and (isinstance(a, bool) or int(a) != a or a < 0):
            raise ValueError(f"alert_at entries must be None or a 0-based index >= 0, got {a!r}")
    return list(alert_at)


def latency_weighted_f1(
    y_true: ArrayLike, alert_at: Sequence[int | None], p: float = P_VOGT
) -> LatencyScores:
    """F_latency = F1 · speed (Sadeque, Xu & Bethard 2018; eSPD: Vogt, Leser & Akbik 2021).

    ``alert_at[i]`` is the 0-based index of the message after which item i was flagged (None: never),
    so the alert came after k = alert_at + 1 messages. An item is predicted positive iff it was
    flagged at all; F1 is over items, speed over the true positives' k (see :func:`speed`).

    Vogt et al. take F1 on chat segments and speed on the full-length predator chats; to reproduce
    that, combine :func:`binary_scores` on one set with :func:`speed` on the other.
    """
    t = _labels(y_true)
    alerts = _alerts(alert_at, t.size)
    binary = binary_scores(t, np.array([a is not None for a in alerts], dtype=bool))
    delays = [a + 1 for a, y in zip(alerts, t, strict=True) if y and a is not None]
    sp = speed(delays, p)
    return LatencyScores(
        binary.precision,
        binary.recall,
        binary.f1,
        sp,
        binary.f1 * sp,
        float(np.median(delays)) if delays else None,
        binary.tp,
        binary.fp,
        binary.fn,
        binary.tn,
        p,
    )


def alert_index(risks: Sequence[float], threshold: float, min_messages: int = 1) -> int | None:
    """First 0-based index i with ``risks[i] >= threshold`` once at least ``min_messages`` were read."""
    for i in range(max(min_messages, 1) - 1, len(risks)):
        if risks[i] >= threshold:
            return i
    return None


def scores_at(
    n_messages: int,
    y_true: ArrayLike,
    alert_at: Sequence[int | None] | None = None,
    *,
    risks: Sequence[Sequence[float]] | None = None,
    threshold: float = 0.5,
    min_messages: int = 1,
) -> BinaryScores:
    """Binary scores as if reading had stopped after the first ``n_messages`` of every item.

    An item counts as flagged iff its alert was raised at an index < ``n_messages`` (alerts are sticky,
    so the first alert decides). Give either ``alert_at`` (first alert index or None per item) or
    ``risks`` (the streaming risk after each message; the alert is :func:`alert_index` with
    ``threshold`` and ``min_messages``). Items shorter than ``n_messages`` are judged on all they have.
    """
    if n_messages < 1:
        raise ValueError("n_messages must be >= 1")
    if (alert_at is None) == (risks is None):
        raise ValueError("give exactly one of alert_at or risks")
    if risks is not None:
        alert_at = [alert_index(r, threshold, min_messages) for r in risks]
    assert alert_at is not None
    t = _labels(y_true)
    alerts = _alerts(alert_at, t.size)
    return binary_scores(t, np.array([a is not None and a < n_messages for a in alerts], dtype=bool))


def scores_at_checkpoints(
    y_true: ArrayLike, alert_at: Sequence[int | None], checkpoints: Iterable[int] = (10, 50, 200)
) -> dict[int, BinaryScores]:
    """:func:`scores_at` for each checkpoint (messages read), keyed by checkpoint."""
    return {n: scores_at(n, y_true, alert_at) for n in checkpoints}


# --- calibration -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One bin of a reliability table: predicted ``mean_prob`` against observed ``frac_positive``."""

    lower: float
    upper: float
    count: int
    mean_prob: float
    frac_positive: float


def _probs(y_true: ArrayLike, probs: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    t = _labels(y_true)
    if t.size == 0:
        raise ValueError("calibration needs at least one item")
    p = _floats(probs, t.size, "probs")
    if (p < 0).any() or (p > 1).any():
        raise ValueError("probs must lie in [0, 1]")
    return t, p


def calibration_table(y_true: ArrayLike, probs: ArrayLike, n_bins: int = 10) -> list[CalibrationBin]:
    """Equal-width bins [j/n, (j+1)/n) on [0, 1] (the last one closed); only non-empty bins are listed."""
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    t, p = _probs(y_true, probs)
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    table = []
    for j in range(n_bins):
        in_bin = idx == j
        count = int(np.count_nonzero(in_bin))
        if count:
            table.append(
                CalibrationBin(
                    j / n_bins, (j + 1) / n_bins, count, float(p[in_bin].mean()), float(t[in_bin].mean())
                )
            )
    return table


def expected_calibration_error(y_true: ArrayLike, probs: ArrayLike, n_bins: int = 10) -> float:
    """ECE = Σ_b (n_b / N)·|frac_positive_b − mean_prob_b| over equal-width bins (Naeini et al. 2015;
    Guo et al. 2017)."""
    table = calibration_table(y_true, probs, n_bins)
    total = sum(b.count for b in table)
    return float(sum(b.count / total * abs(b.frac_positive - b.mean_prob) for b in table))


def brier(y_true: ArrayLike, probs: ArrayLike) -> float:
    """Brier score = (1/N)·Σ (p_i − y_i)² (Brier 1950); 0 is perfect, lower is better."""
    t, p = _probs(y_true, probs)
    return float(np.mean((p - t) ** 2))
