"""Metrics against hand-computed values (worked out in the comments) and, where it exists, scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest

from safeguarding.detection.metrics import (
    MEDIAN_MESSAGES_VOGT,
    P_ERISK,
    P_VOGT,
    BinaryScores,
    CalibrationBin,
    alert_index,
    average_precision,
    binary_scores,
    brier,
    calibration_table,
    choose_threshold,
    expected_calibration_error,
    f_beta,
    latency_penalty,
    latency_weighted_f1,
    pan12_problem1,
    penalty_factor,
    roc_auc,
    scores_at,
    scores_at_checkpoints,
    speed,
)

approx = pytest.approx


# --- F-beta and binary scores ----------------------------------------------------------------------


def test_f_beta_hand_values() -> None:
    # P = 0.5, R = 1: F1 = 2·0.5/1.5 = 2/3; F0.5 = 1.25·0.5 / (0.25·0.5 + 1) = 0.625/1.125 = 5/9
    assert f_beta(0.5, 1.0, 1.0) == approx(2 / 3)
    assert f_beta(0.5, 1.0, 0.5) == approx(5 / 9)
    assert f_beta(0.0, 0.0, 0.5) == 0.0


def test_from_counts_hand_values() -> None:
    # P = 3/4, R = 3/5, F1 = 2·0.45/1.35 = 2/3, F0.5 = 1.25·0.45/(0.1875 + 0.6) = 0.5625/0.7875 = 5/7
    s = BinaryScores.from_counts(tp=3, fp=1, fn=2, tn=4)
    assert (s.precision, s.recall) == (0.75, 0.6)
    assert s.f1 == approx(2 / 3)
    assert s.f05 == approx(5 / 7)
    assert s.fbeta(0.5) == approx(s.f05)
    assert s.fpr == approx(1 / 5)
    assert s.n == 10
    assert s.as_dict()["fpr"] == approx(0.2)


@pytest.mark.parametrize(
    ("tp", "fp", "fn", "tn"),
    [(0, 0, 0, 5), (0, 0, 3, 0), (0, 4, 0, 0), (0, 0, 0, 0)],
)
def test_zero_division_gives_zero(tp: int, fp: int, fn: int, tn: int) -> None:
    s = BinaryScores.from_counts(tp, fp, fn, tn)
    assert (s.precision, s.recall, s.f1, s.f05) == (0.0, 0.0, 0.0, 0.0)
    assert not any(math.isnan(v) for v in s.as_dict().values())


def test_binary_scores_counts() -> None:
    s = binary_scores([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    assert (s.tp, s.fp, s.fn, s.tn) == (2, 1, 1, 1)
    assert s.precision == approx(2 / 3)
    assert binary_scores([True, False], np.array([True, True])).fp == 1


def test_binary_scores_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        binary_scores([1, 2], [1, 0])
    with pytest.raises(ValueError):
        binary_scores([1, 0, 1], [1, 0])


# --- PAN12 problem 1 --------------------------------------------------------------------------------


def test_pan12_problem1_hand_values() -> None:
    # S = {a, b, c, x}, T = {a, b, d}: TP = 2, FP = 2, FN = 1 -> P = 1/2, R = 2/3,
    # F1 = 2·(1/3)/(7/6) = 4/7, F0.5 = 1.25·(1/3)/(0.125 + 2/3) = 10/19
    everyone = ["a", "b", "c", "d", "e", "f", "g", "h", "x"]
    s = pan12_problem1(["a", "b", "c", "x", "a"], ["a", "b", "d"], everyone)
    assert (s.tp, s.fp, s.fn) == (2, 2, 1)
    assert s.tn == 4  # e, f, g, h
    assert s.precision == approx(0.5)
    assert s.recall == approx(2 / 3)
    assert s.f1 == approx(4 / 7)
    assert s.f05 == approx(10 / 19)


def test_pan12_problem1_edge_cases() -> None:
    nobody = pan12_problem1([], ["a", "b"])
    assert (nobody.precision, nobody.recall, nobody.f05, nobody.tn) == (0.0, 0.0, 0.0, 0)
    perfect = pan12_problem1(iter(["p"]), ("p",))
    assert (perfect.precision, perfect.recall, perfect.f1, perfect.f05) == (1.0, 1.0, 1.0, 1.0)


# --- ranking ----------------------------------------------------------------------------------------


def test_roc_auc_hand_values() -> None:
    # pairs (pos, neg): (.35, .1) win, (.35, .4) loss, (.8, .1) win, (.8, .4) win -> 3/4
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == approx(0.75)


def test_roc_auc_ties_count_half() -> None:
    # pos .5 vs neg .5 -> 1/2; pos .5 vs neg .2 -> 1; pos .9 beats both -> 2; total 3.5/4
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == approx(0.875)
    assert roc_auc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]) == approx(0.5)


def test_roc_auc_one_class_is_nan() -> None:
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))
    assert math.isnan(roc_auc([0, 0], [0.2, 0.3]))


def test_roc_auc_rejects_nan_scores() -> None:
    with pytest.raises(ValueError):
        roc_auc([0, 1], [0.1, float("nan")])


def test_average_precision_hand_values() -> None:
    # thresholds .9 (P 1, R .5), .8 (P .5, R .5), .7 (P 2/3, R 1), .1 (P .5, R 1)
    # AP = .5·1 + 0·.5 + .5·2/3 + 0 = 5/6
    assert average_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == approx(5 / 6)
    # a tie enters as one threshold: .5 (P 1/2, R 1/2), .1 (P 2/3, R 1) -> .25 + 1/3 = 7/12
    assert average_precision([1, 0, 1], [0.5, 0.5, 0.1]) == approx(7 / 12)
    assert math.isnan(average_precision([0, 0], [0.5, 0.1]))


def test_ranking_matches_sklearn_on_random_ties() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 2, 200)
        s = np.round(rng.random(200), 1)  # many ties
        assert roc_auc(y, s) == approx(sk.roc_auc_score(y, s))
        assert average_precision(y, s) == approx(sk.average_precision_score(y, s))
        w = rng.random(200) * 3
        assert roc_auc(y, s, w) == approx(sk.roc_auc_score(y, s, sample_weight=w))
        assert average_precision(y, s, w) == approx(sk.average_precision_score(y, s, sample_weight=w))


def test_sample_weight_hand_values() -> None:
    # weight 2 on the positive at .35 (which loses to the negative at .4):
    # pairs: .35 beats .1 (2·1), loses to .4 (0), .8 beats both (1·2) -> 4 / (3·2) = 2/3
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], [1, 1, 2, 1]) == approx(2 / 3)
    # integer weights act as repeated items
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], [1, 1, 2, 1]) == approx(
        roc_auc([0, 0, 1, 1, 1], [0.1, 0.4, 0.35, 0.35, 0.8])
    )
    assert average_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], [1, 3, 1, 1]) == approx(
        average_precision([1, 0, 0, 0, 1, 0], [0.9, 0.8, 0.8, 0.8, 0.7, 0.1])
    )
    assert math.isnan(roc_auc([0, 1], [0.2, 0.3], [1, 0]))
    assert math.isnan(roc_auc([], []))
    with pytest.raises(ValueError):
        roc_auc([0, 1], [0.2, 0.3], [1, -1])


# --- threshold choice -------------------------------------------------------------------------------


Y = [1, 1, 0, 1, 0, 0]
S = [0.9, 0.8, 0.7, 0.6, 0.3, 0.1]


def test_choose_threshold_f05() -> None:
    # F0.5 per threshold: .9 -> 5/7, .8 -> (P 1, R 2/3) 10/11, .7 -> 2/3, .6 -> 15/19, ...
    t, s = choose_threshold(Y, S)
    assert t == 0.8
    assert (s.tp, s.fp, s.fn, s.tn) == (2, 0, 1, 3)
    assert s.f05 == approx(10 / 11)


def test_choose_threshold_f1_and_min_precision() -> None:
    # F1: .9 -> 1/2, .8 -> 4/5, .7 -> 2/3, .6 -> (P 3/4, R 1) 6/7, .3 -> 3/4, .1 -> 2/3
    t, s = choose_threshold(Y, S, beta=1.0)
    assert t == 0.6
    assert s.f1 == approx(6 / 7)
    t, s = choose_threshold(Y, S, beta=1.0, min_precision=0.9)
    assert t == 0.8
    assert s.precision == 1.0


def test_choose_threshold_tie_goes_to_highest_threshold() -> None:
    # .9 -> P 1, R 1/2; .6 -> P 1/2, R 1: both F1 = 2/3
    t, _ = choose_threshold([1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6], beta=1.0)
    assert t == 0.9


def test_choose_threshold_refuses_impossible() -> None:
    with pytest.raises(ValueError, match="precision"):
        choose_threshold(Y, S, min_precision=1.01)
    with pytest.raises(ValueError, match="positives"):
        choose_threshold([0, 0], [0.1, 0.2])


# --- early detection --------------------------------------------------------------------------------


def test_penalty_sign_conventions() -> None:
    assert latency_penalty(1) == 0.0  # alert on the first message: no penalty
    assert latency_penalty(MEDIAN_MESSAGES_VOGT) == approx(0.5)
    values = [latency_penalty(k) for k in (1, 2, 10, 100, 1000, 10_000)]
    assert values == sorted(values)
    assert 0.99 < values[-2] < 1.0
    assert values[-1] <= 1.0
    with pytest.raises(ValueError):
        latency_penalty(0)


def test_penalty_factors() -> None:
    assert math.log(3) / 89 == approx(P_VOGT)
    assert abs(P_VOGT - 0.012344) < 1e-6
    # eRisk's 0.0078 puts the half-penalty near 142 posts
    assert latency_penalty(142, P_ERISK) == approx(0.5, abs=0.002)
    assert penalty_factor(142) == approx(P_ERISK, abs=1e-5)
    with pytest.raises(ValueError):
        penalty_factor(1)


def test_speed() -> None:
    assert speed([1, 1, 1]) == 1.0
    assert speed([1, 90]) == approx(0.75)  # 1 - median(0, .5)
    assert speed([1, 90, 1000]) == approx(0.5)
    assert speed([]) == 0.0


def test_latency_weighted_f1_hand_values() -> None:
    # TP alerts after 1 and 90 messages, one missed predator, one false alert, one quiet negative
    r = latency_weighted_f1([1, 1, 1, 0, 0], [0, 89, None, 5, None])
    assert (r.tp, r.fp, r.fn, r.tn) == (2, 1, 1, 1)
    assert r.f1 == approx(2 / 3)
    assert r.speed == approx(0.75)
    assert r.f_latency == approx(0.5)
    assert r.median_delay == approx(45.5)
    assert r.p == P_VOGT


def test_latency_weighted_f1_without_true_positives() -> None:
    r = latency_weighted_f1([1, 0], [None, 3])
    assert (r.f1, r.speed, r.f_latency, r.median_delay) == (0.0, 0.0, 0.0, None)


@pytest.mark.parametrize("bad", [[-1, None], [True, None], [1.5, None], [0]])
def test_alert_at_validation(bad: list[int | None]) -> None:
    with pytest.raises(ValueError):
        latency_weighted_f1([1, 0], bad)


def test_scores_at_from_alerts() -> None:
    y, alerts = [1, 1, 0, 0], [5, 60, 3, None]
    at10 = scores_at(10, y, alerts)
    assert (at10.tp, at10.fp, at10.fn, at10.tn) == (1, 1, 1, 1)
    at200 = scores_at(200, y, alerts)
    assert (at200.tp, at200.fp, at200.fn, at200.tn) == (2, 1, 0, 1)
    # boundary: an alert at index 9 is raised within the first 10 messages, index 10 is not
    assert scores_at(10, [1], [9]).tp == 1
    assert scores_at(10, [1], [10]).tp == 0
    checkpoints = scores_at_checkpoints(y, alerts)
    assert sorted(checkpoints) == [10, 50, 200]
    assert checkpoints[50] == scores_at(50, y, alerts)


def test_scores_at_from_risks() -> None:
    risks = [[0.1, 0.9], [0.2, 0.3, 0.6], [0.7], [0.1]]
    y = [1, 1, 0, 0]
    s = scores_at(2, y, risks=risks, threshold=0.5)  # alerts at 1, 2, 0, never
    assert (s.tp, s.fp, s.fn, s.tn) == (1, 1, 1, 1)
    s = scores_at(3, y, risks=risks, threshold=0.5, min_messages=2)  # alerts at 1, 2, never, never
    assert (s.tp, s.fp, s.fn, s.tn) == (2, 0, 0, 2)
    with pytest.raises(ValueError):
        scores_at(3, y)
    with pytest.raises(ValueError):
        scores_at(3, y, [1, 1, 1, 1], risks=risks)
    with pytest.raises(ValueError):
        scores_at(0, y, [1, 1, 1, 1])


def test_alert_index() -> None:
    assert alert_index([0.1, 0.6, 0.2], 0.5) == 1
    assert alert_index([0.9, 0.1, 0.6], 0.5, min_messages=2) == 2
    assert alert_index([0.1], 0.5) is None
    assert alert_index([], 0.5) is None


# --- calibration ------------------------------------------------------------------------------------


def test_calibration_table_and_ece_hand_values() -> None:
    y = [0, 1, 1, 0, 1]
    p = [0.05, 0.15, 0.95, 0.92, 1.0]  # 1.0 falls into the last bin
    table = calibration_table(y, p)
    assert [b.count for b in table] == [1, 1, 3]
    assert table[0] == CalibrationBin(0.0, 0.1, 1, 0.05, 0.0)
    assert table[2].lower == approx(0.9)
    assert table[2].mean_prob == approx((0.95 + 0.92 + 1.0) / 3)
    assert table[2].frac_positive == approx(2 / 3)
    # ECE = .2·.05 + .2·.85 + .6·|2/3 - 2.87/3| = .01 + .17 + .174 = .354
    assert expected_calibration_error(y, p) == approx(0.354)
    # Brier = (.0025 + .7225 + .0025 + .8464 + 0) / 5
    assert brier(y, p) == approx(1.5739 / 5)


def test_calibration_perfect_and_invalid() -> None:
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0
    assert brier([0, 1], [0.0, 1.0]) == 0.0
    with pytest.raises(ValueError):
        brier([0, 1], [0.5, 1.2])
    with pytest.raises(ValueError):
        calibration_table([], [])
    with pytest.raises(ValueError):
        calibration_table([0], [0.5], n_bins=0)
