r"""Stage-tagger benchmark: macro-F1 of rules, model and combined, per-class F1, and throughput, in one run.

    .venv/bin/python benchmarks/bench_stages.py \
        ../shared/data/grooming_stages_pan12_ugurluer/grooming_stages_train.jsonl

Prints macro-F1 over the 7 dataset labels on a 30 % hold-out (split by conversation id) and over a
grouped 5-fold cross-validation, for cue rules only, the model, model+cues combined and three ablations;
per-class F1 on the hold-out; and messages per CPU second of ``cue_flags`` and ``StageTagger.tag`` on
one core (best of several passes over the data's messages, which are never printed). Not a test: record the
numbers in docs/stages.md with this command line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from safeguarding.detection.cues import cue_flags
from safeguarding.detection.stage_training import evaluate_stages, load_stage_items, train_stage_tagger
from safeguarding.detection.stages import DATASET_LABELS


def _rate(fn: Callable[[str], object], texts: Sequence[str], passes: int = 5) -> float:
    """Messages per CPU second, best of ``passes`` (CPU time, since the machine may be shared)."""
    best = float("inf")
    for _ in range(passes):
        t0 = time.process_time()
        for t in texts:
            fn(t)
        best = min(best, time.process_time() - t0)
    return len(texts) / best


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="grooming_stages_*.jsonl")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    res = evaluate_stages(args.data)
    took = time.perf_counter() - t0
    n_held = res["holdout"]["n_items"]
    print(f"items {res['n_items']}  conversations {res['n_conversations']}  hold-out items {n_held}")
    print(f"{'variant':20s} {'hold-out':>9s} {'5-fold CV (mean ± sd)':>22s}")
    for v, cv in res["cv"].items():
        print(f"{v:20s} {res['holdout'][v]['macro']:9.3f} {cv['mean']:14.3f} ± {cv['std']:.3f}")
    print("\nper-class F1 on the hold-out")
    print(f"{'label':24s}" + "".join(f"{v[:10]:>11s}" for v in ("rules", "model", "combined")))
    for lab in DATASET_LABELS:
        print(
            f"{lab:24s}" + "".join(f"{res['holdout'][v][lab]:11.3f}" for v in ("rules", "model", "combined"))
        )

    items = load_stage_items(args.data)
    texts = [t for t, _, _ in items] * 20
    tagger = train_stage_tagger(items)
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"\nthroughput on one core ({len(texts)} messages, mean {mean_len:.0f} chars)")
    print(f"  cue_flags        {_rate(cue_flags, texts):>10,.0f} messages/s")
    print(f"  StageTagger.tag  {_rate(tagger.tag, texts):>10,.0f} messages/s")
    print(f"(evaluation took {took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
