"""How model 1.2.0's hard-negative weight was chosen, on the DEV split only (the test part is dropped right
after loading, never featurised or scored).

    python benchmarks/bench_hard_negatives.py --data ../shared/data      # ~4 minutes on 2 cores

Candidates: weight 1 (source balancing alone, model 1.1.0's training), 2 and 4: the negatives of
``train.HARD_NEGATIVE_SOURCES`` multiplied by the weight, the negative class renormalised
(``training.with_hard_negatives``); C fixed at 16. Protocol per candidate: fit on train rows; stream dev
once in raw-margin space (peaks of the margin over p consecutive eligible messages; Platt is monotone, so
risk peaks are calibrated margin peaks, checked against ``author_peaks`` on a dev subset); 6 seeded
halvings of the dev groups, the same for every candidate: Platt and threshold/persistence
(``choose_threshold``) chosen on one half, P/R/F0.5 at 10/50/200 scored on the other; paired differences
against weight 1. The rule, fixed before the run: a candidate ships if its mean F0.5 gain over 10/50/200
exceeds the sd of the paired differences and F0.5 at 10 does not fall by more than 0.01.
Also all of dev at each candidate's own full-dev choice, with whole-stream false alerts and recall by source.

Prints counts and metrics only, never message text. Not a test: record results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import time
from pathlib import Path

import numpy as np

from safeguarding.detection.metrics import f_beta
from safeguarding.detection.model import CUE_LIST, LinearWeights
from safeguarding.detection.streaming import Detector, DetectorConfig
from safeguarding.detection.train import (
    EVAL_CHECKPOINTS,
    HARD_NEGATIVE_SOURCES,
    PERSISTENCE_GRID,
    TrainOptions,
    _fit,
    _platt,
    _stack,
    author_peaks,
    choose_threshold,
    load_records,
    part_of,
)
from safeguarding.detection.training import build_rows, source_balanced_weights, with_hard_negatives

C_FIXED = 16.0
HARD_NEG = tuple(sorted(HARD_NEGATIVE_SOURCES))
MULTS = (1, 2, 4)
N_HALVINGS = 6
T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", flush=True)


# --- streaming in margin space ---------------------------------------------------------------------
# one entry per (record, author): (group, source, y, n_messages, {k: [peak per p]}, [final peak per p])
Entry = tuple[str, str, int, int, dict[int, list[float]], list[float]]
NEG = -math.inf


def margin_peaks(det: Detector, records) -> list[Entry]:
    """As `author_peaks`, but peaks of the raw margin (calibration-free) plus the end-of-stream peak."""
    out: list[Entry] = []
    longest = max(PERSISTENCE_GRID)
    for rec in records:
        state = det.new_state(rec.conversation.id)
        recent: dict[str, list[float]] = {}
        peak: dict[str, list[float]] = {}
        at: dict[str, dict[int, list[float]]] = {}
        nmsg: dict[str, int] = {}
        for m in rec.conversation.messages:
            det.update(state, m)
            nmsg[m.author] = nmsg.get(m.author, 0) + 1
            s = state.authors.get(m.author)
            if s is None:
                continue
            r = recent.setdefault(m.author, [])
            r.append(s.margin if det.eligible(s) else NEG)
            del r[:-longest]
            pk = peak.setdefault(m.author, [NEG] * len(PERSISTENCE_GRID))
            for i, p in enumerate(PERSISTENCE_GRID):
                if len(r) >= p:
                    pk[i] = max(pk[i], min(r[-p:]))
            if s.n in EVAL_CHECKPOINTS:
                at.setdefault(m.author, {})[s.n] = list(pk)
        for author, n in nmsg.items():
            y = int(author in rec.positive_authors)
            out.append((rec.group, rec.source, y, n, at.get(author, {}), peak.get(author, [NEG] * 3)))
    return out


def calib(m: np.ndarray, a: float, b: float) -> np.ndarray:
    assert a > 0
    z = a * m + b
    with np.errstate(over="ignore"):
        return np.where(np.isneginf(m), 0.0, 1.0 / (1.0 + np.exp(-z)))


def to_peaks(entries: list[Entry], a: float, b: float, p_idx: int):
    """`author_peaks`-format list for persistence index p_idx, calibrated with (a, b)."""
    out = []
    for _g, src, y, _n, ks, _fin in entries:
        if not ks:
            continue
        vals = calib(np.asarray([ks[k][p_idx] for k in ks]), a, b)
        out.append((src, y, {k: float(v) for k, v in zip(ks, vals, strict=True)}))
    return out


def choose(entries: list[Entry], a: float, b: float) -> tuple[float, int, dict[int, tuple[float, float]]]:
    choices = {p: choose_threshold(to_peaks(entries, a, b, i)) for i, p in enumerate(PERSISTENCE_GRID)}
    persistence = max(PERSISTENCE_GRID, key=lambda p: (choices[p][1], -p))
    return choices[persistence][0], persistence, choices


def score(
    entries: list[Entry], a: float, b: float, t: float, p: int
) -> dict[int, tuple[float, float, float, int]]:
    i = PERSISTENCE_GRID.index(p)
    res = {}
    for k in EVAL_CHECKPOINTS:
        sel = [(y, ks[k][i]) for _g, _s, y, _n, ks, _f in entries if k in ks]
        y = np.asarray([s[0] for s in sel]) == 1
        flag = calib(np.asarray([s[1] for s in sel]), a, b) >= t
        tp, fp, fn = int((y & flag).sum()), int((~y & flag).sum()), int((y & ~flag).sum())
        pr = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        res[k] = (pr, rc, f_beta(pr, rc, 0.5) if tp else 0.0, len(sel))
    return res


def by_source(entries: list[Entry], a: float, b: float, t: float, p: int) -> dict[str, dict[str, float]]:
    """Whole-stream (sticky) alerts per source: recall on predators, false-alert rate on the others."""
    i = PERSISTENCE_GRID.index(p)
    out: dict[str, dict[str, float]] = {}
    for src in sorted({e[1] for e in entries}):
        es = [e for e in entries if e[1] == src]
        flag = calib(np.asarray([e[5][i] for e in es]), a, b) >= t
        y = np.asarray([e[2] for e in es]) == 1
        out[src] = {
            "authors": len(es),
            "pos": int(y.sum()),
            "recall": float(flag[y].mean()) if y.any() else float("nan"),
            "fa": int(flag[~y].sum()),
            "fa_rate": float(flag[~y].mean()) if (~y).any() else float("nan"),
        }
    return out


def weights_of(coef: np.ndarray, icpt: float, nb: int, a: float = 1.0, b: float = 0.0) -> LinearWeights:
    return LinearWeights(coef[:nb].astype(np.float32), coef[nb:], icpt, a, b)


def hardneg_weights(labels: list[int], sources: list[str], m: float) -> np.ndarray:
    base = source_balanced_weights(labels, sources)
    return with_hard_negatives(base, labels, sources, HARD_NEGATIVE_SOURCES, float(m))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="DATA_DIR (its train and dev parts are used)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    opts = TrainOptions()
    np.random.seed(opts.seed)
    say(f"C fixed at {C_FIXED}; hard-negative sources {HARD_NEG}")
    cfg0 = DetectorConfig(threshold=0.0, min_messages=opts.min_messages, min_support=opts.min_support)
    cue_bits = [int(c) for c in CUE_LIST]
    nb = opts.n_buckets

    recs = list(load_records(args.data, opts))
    train_recs = [r for r in recs if part_of(r) == "train"]
    dev_recs = [r for r in recs if part_of(r) == "dev"]
    del recs  # the test part is dropped here, never featurised or scored
    say(f"records: {len(train_recs)} train, {len(dev_recs)} dev")
    rtr = build_rows(train_recs, n_buckets=nb, n_cues=len(cue_bits), cue_bits=cue_bits)
    rdv = build_rows(dev_recs, n_buckets=nb, n_cues=len(cue_bits), cue_bits=cue_bits)
    say(f"rows: {len(rtr)} train, {len(rdv)} dev")
    xtr, xdv = _stack(rtr), _stack(rdv)
    ytr, ydv = np.asarray(rtr.label), np.asarray(rdv.label)
    gdv, sdv = np.asarray(rdv.group), np.asarray(rdv.source)
    wdv = source_balanced_weights(rdv.label, rdv.source)

    neg = ytr == 0
    hard = neg & np.isin(np.asarray(rtr.source), HARD_NEG)
    n_neg_src = len(set(np.asarray(rtr.source)[neg]))
    say(
        f"train negatives: {int(neg.sum())} rows from {n_neg_src} sources; "
        f"hard-negative rows {int(hard.sum())}"
    )

    groups = sorted(set(rdv.group))
    halvings = []
    for h in range(N_HALVINGS):
        g = groups[:]
        random.Random(1000 + h).shuffle(g)
        halvings.append(set(g[: len(g) // 2]))

    results: dict[int, dict] = {}
    for m in MULTS:
        w = hardneg_weights(rtr.label, rtr.source, m)
        share = float(w[hard].sum() / w[neg].sum())
        assert abs(w[~neg].sum() - source_balanced_weights(rtr.label, rtr.source)[~neg].sum()) < 1e-6
        t = time.perf_counter()
        coef, icpt = _fit(xtr, ytr, w, C_FIXED, opts.seed)
        fit_s = time.perf_counter() - t
        say(f"m={m}: hard-neg share of negative mass {share:.3f}; fit {fit_s:.1f}s")
        mdv = xdv @ coef + icpt
        det = Detector(
            LinearWeights(coef[:nb].astype(np.float32), coef[nb:], icpt, 1.0, 0.0), cfg0, version=f"hn{m}"
        )
        t = time.perf_counter()
        dev_e = margin_peaks(det, dev_recs)
        stream_s = time.perf_counter() - t
        if m == 1:  # check the margin-peak trick against author_peaks on a dev subset
            sub = dev_recs[:: max(1, len(dev_recs) // 300)]
            a0, b0 = _platt(mdv, ydv, wdv)
            ref = author_peaks(
                Detector(
                    LinearWeights(coef[:nb].astype(np.float32), coef[nb:], icpt, a0, b0), cfg0, version="c"
                ),
                sub,
            )
            mine = margin_peaks(det, sub)
            worst = 0.0
            for i, p in enumerate(PERSISTENCE_GRID):
                ra = sorted((s, y, tuple(sorted(ks.items()))) for s, y, ks in ref[p])
                rb = sorted((s, y, tuple(sorted(ks.items()))) for s, y, ks in to_peaks(mine, a0, b0, i))
                assert len(ra) == len(rb)
                for x, z in zip(ra, rb, strict=True):
                    assert x[:2] == z[:2] and [k for k, _ in x[2]] == [k for k, _ in z[2]]
                    worst = max([worst] + [abs(u[1] - v[1]) for u, v in zip(x[2], z[2], strict=True)])
            say(f"margin-peak trick vs author_peaks on {len(sub)} dev records: max |risk diff| {worst:.1e}")
        # full dev choice (as train.py)
        a_f, b_f = _platt(mdv, ydv, wdv)
        t_f, p_f, ch_f = choose(dev_e, a_f, b_f)
        full = score(dev_e, a_f, b_f, t_f, p_f)
        src = by_source(dev_e, a_f, b_f, t_f, p_f)
        halv = []
        for cg in halvings:
            rm = np.asarray([x in cg for x in gdv])
            a_h, b_h = _platt(mdv[rm], ydv[rm], source_balanced_weights(ydv[rm].tolist(), sdv[rm].tolist()))
            t_h, p_h, _ = choose([e for e in dev_e if e[0] in cg], a_h, b_h)
            r = score([e for e in dev_e if e[0] not in cg], a_h, b_h, t_h, p_h)
            halv.append((t_h, p_h, r))
        results[m] = dict(
            fit_s=fit_s, stream_s=stream_s, share=share, t=t_f, p=p_f, ch=ch_f, full=full, src=src, halv=halv
        )
        say(
            f"m={m}: stream {stream_s:.1f}s; full-dev t={t_f} p={p_f}; "
            f"halvings (t,p) {[(x[0], x[1]) for x in halv]}"
        )

    K = EVAL_CHECKPOINTS
    print(
        "\n== dev scoring halves, mean over 6 (P R F0.5±sd) at k="
        + "|".join(map(str, K))
        + "; Favg=mean over k =="
    )
    F = {}
    for m, R in results.items():
        arr = np.asarray(
            [[[h[2][k][j] for j in range(3)] for k in K] for h in R["halv"]]
        )  # halving x k x (P,R,F)
        F[m] = arr[:, :, 2]
        mu, sd = arr.mean(0), arr.std(0, ddof=1)
        favg = F[m].mean(1)
        cells = " | ".join(
            f"{mu[i, 0]:.3f} {mu[i, 1]:.3f} {mu[i, 2]:.3f}±{sd[i, 2]:.3f}" for i in range(len(K))
        )
        print(f"{'base' if m == 1 else f'm={m}':<6}{cells} | Favg {favg.mean():.4f}±{favg.std(ddof=1):.4f}")
    print("\n== paired F0.5 differences vs baseline over the same 6 halvings: mean (sd) ==")
    for m in MULTS[1:]:
        d = F[m] - F[1]
        davg = d.mean(1)
        cells = " ".join(f"k{k}:{d[:, i].mean():+.4f}({d[:, i].std(ddof=1):.4f})" for i, k in enumerate(K))
        ok = davg.mean() > davg.std(ddof=1) and d[:, 0].mean() >= -0.01
        print(
            f"m={m}: {cells} | avg {davg.mean():+.4f}({davg.std(ddof=1):.4f}) "
            f"per-halving {np.round(davg, 3).tolist()} -> {'SHIP' if ok else 'no'}"
        )
    print("\n== all dev at own full-dev choice (in-sample): t p | P R F0.5 at k | fit s ==")
    for m, R in results.items():
        cells = " | ".join(f"{R['full'][k][0]:.3f} {R['full'][k][1]:.3f} {R['full'][k][2]:.3f}" for k in K)
        print(
            f"{'base' if m == 1 else f'm={m}':<6}t={R['t']:.2f} p={R['p']} | {cells} | "
            f"fit {R['fit_s']:.1f}s share {R['share']:.3f}"
        )
    print("\n== by source, whole stream: FA count(rate of neg authors) / recall, base -> m=2 -> m=4 ==")
    for s in results[1]["src"]:
        xs = [results[m]["src"][s] for m in MULTS]
        if not any(x["fa"] for x in xs) and not xs[0]["pos"]:
            continue
        fa = " -> ".join(f"{x['fa']}({x['fa_rate']:.3f})" for x in xs)
        rc = " -> ".join(f"{x['recall']:.3f}" for x in xs) if xs[0]["pos"] else "-"
        print(
            f"  {s:<26}neg {xs[0]['authors'] - xs[0]['pos']:>5} pos {xs[0]['pos']:>3}  FA {fa}  recall {rc}"
        )
    quiet = [
        s
        for s in results[1]["src"]
        if not any(results[m]["src"][s]["fa"] for m in MULTS) and not results[1]["src"][s]["pos"]
    ]
    print(f"  ({len(quiet)} other negative-only sources: 0 false alerts for every candidate)")
    print(f"total wall {time.perf_counter() - T0:.1f}s")


if __name__ == "__main__":
    main()
