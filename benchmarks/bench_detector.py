"""Detector benchmark: throughput and accuracy side by side with a keyword baseline, in one run.

    python benchmarks/bench_detector.py    # throughput, load time and memory on synthetic chat
    python benchmarks/bench_detector.py --data ../shared/data \
        --lookalikes benchmarks/data/lookalikes_dev.jsonl

Prints messages/s of streaming on one core (the detector and the baseline), model load time, peak RSS,
and, given data, author-level F0.5 at 10/50/200 messages and conversation ROC-AUC on the *test* part of
DATA_DIR (never used for training or for any choice) and on the hand-written look-alikes.
The detector uses its C accelerator of the text score when it was built (``text_accelerator`` in the
output); ``SAFEGUARDING_PURE_PYTHON=1`` measures the pure-Python path.
Not a test: it prints numbers. Record them in docs/benchmarks.md with this command line.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from safeguarding.detection.baseline import KeywordBaseline
from safeguarding.detection.data import LabelledConversation
from safeguarding.detection.metrics import binary_scores, roc_auc
from safeguarding.types import Conversation


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_conversations(n: int, seed: int = 0) -> list[Conversation]:
    from safeguarding.synth import make_dataset

    return [s.conversation for s in make_dataset(n, seed)]


def throughput(convs: Sequence[Conversation], model: Path | None) -> dict[str, float]:
    from safeguarding.detection import load_detector

    t0 = time.perf_counter()
    det = load_detector(model)
    load_s = time.perf_counter() - t0
    n_msgs = sum(len(c.messages) for c in convs)
    t0 = time.perf_counter()
    for c in convs:
        state = det.new_state(c.id)
        for m in c.messages:
            det.update(state, m)
    det_s = time.perf_counter() - t0
    base = KeywordBaseline()
    t0 = time.perf_counter()
    for c in convs:
        base.score_stream([m.text for m in c.messages])
    base_s = time.perf_counter() - t0
    state_bytes = max(len(det.dump_state(_final_state(det, c))) for c in convs[:50])
    return {
        "messages": n_msgs,
        "model_load_s": round(load_s, 3),
        "detector_msgs_per_s": round(n_msgs / det_s),
        "baseline_msgs_per_s": round(n_msgs / base_s),
        "max_state_bytes": state_bytes,
        # the C accelerator of the text score (SAFEGUARDING_PURE_PYTHON=1 measures without it)
        "text_accelerator": det.accelerated,
    }


def _final_state(det: object, conv: Conversation) -> object:
    from safeguarding.detection import Detector

    assert isinstance(det, Detector)
    state = det.new_state(conv.id)
    for m in conv.messages:
        det.update(state, m)
    return state


def stream_throughput(det: object, recs: Sequence[LabelledConversation]) -> dict[str, float]:
    """CPU time of the detector alone on the test split's real chat (cold, then with warm caches)."""
    from safeguarding.detection import Detector

    assert isinstance(det, Detector)
    convs = [r.conversation for r in recs if not r.source.startswith("synthetic")]
    n = sum(len(c.messages) for c in convs)
    out: dict[str, float] = {"messages": n}
    for name in ("cold_msgs_per_s", "warm_msgs_per_s"):
        t0 = time.process_time()
        for c in convs:
            state = det.new_state(c.id)
            for m in c.messages:
                det.update(state, m)
        out[name] = round(n / (time.process_time() - t0))
    return out


def baseline_eval(records: Sequence[LabelledConversation], threshold: float) -> dict[str, object]:
    """Keyword baseline, author level at 10/50/200 messages, plus conversation AUC."""
    base = KeywordBaseline()
    out: dict[str, object] = {}
    for k in (10, 50, 200):
        y, s = [], []
        for r in records:
            by_author: dict[str, list[str]] = {}
            for m in r.conversation.messages:
                by_author.setdefault(m.author, []).append(m.text)
            for a, texts in by_author.items():
                if len(texts) >= k:
                    y.append(int(a in r.positive_authors))
                    s.append(base.score_author(texts[:k]))
        if y and 0 < sum(y) < len(y):
            b = binary_scores(y, [v >= threshold for v in s])
            out[str(k)] = {
                "precision": round(b.precision, 4),
                "recall": round(b.recall, 4),
                "f05": round(b.f05, 4),
                "auc": round(roc_auc(y, s), 4),
                "authors": len(y),
            }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="DATA_DIR (e.g. ../shared/data); its test part is scored")
    ap.add_argument("--lookalikes", type=Path, help="labelled look-alike JSONL")
    ap.add_argument("--model", type=Path, help="model directory (default: bundled)")
    ap.add_argument("--synthetic", type=int, default=400, help="synthetic conversations for throughput")
    ap.add_argument(
        "--baseline-threshold",
        type=float,
        default=0.2,
        help="keyword fraction that flags an author (fixed a priori, not tuned)",
    )
    args = ap.parse_args(argv)
    random.seed(0)
    report: dict[str, object] = {"when": datetime.now(UTC).isoformat(timespec="seconds")}
    convs = synthetic_conversations(args.synthetic)
    report["throughput_synthetic"] = throughput(convs, args.model)
    from safeguarding.detection import evaluate as ev
    from safeguarding.detection import load_detector

    det = load_detector(args.model)
    if args.data is not None:
        from safeguarding.detection.train import held_back_records

        recs = list(held_back_records(args.data, "test"))
        t0 = time.perf_counter()
        report["detector_test"] = ev.evaluate_records(det, recs)
        dt = time.perf_counter() - t0
        n = sum(len(r.conversation.messages) for r in recs)
        report["throughput_test"] = {"messages": n, "detector_msgs_per_s_incl_eval": round(n / dt)}
        report["baseline_test"] = baseline_eval(recs, args.baseline_threshold)
        report["throughput_chat_streams"] = stream_throughput(det, recs)
    if args.lookalikes is not None:
        report["detector_lookalikes"] = ev.evaluate_lookalikes(det, args.lookalikes)
    report["peak_rss_mb"] = round(_peak_mb(), 1)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
