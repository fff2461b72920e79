"""Operating points of the shipped model on the DEV split: precision and recall per alert threshold.

    python benchmarks/bench_operating_points.py --data ../shared/data [--model DIR]

For platforms choosing their own conversation threshold (the policy's ``[alerts] grooming_risk``): the
shipped default favours precision (F0.5); a platform that would rather see more grooming and review more
false alerts can read the price here. Computed on the dev split — the part that chose the model's own
threshold — never on the test split, so choosing from this table does not tune against held-out data.
Author level, as ``evaluate``: an author counts at k messages when he has sent at least k, and is
flagged when his risk met the threshold (with the evidence rule and the model's persistence) by then.
Not a test: it prints numbers. Record them in docs/benchmarks.md with this command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

THRESHOLDS = (0.50, 0.60, 0.70, 0.80, 0.85, 0.90, 0.93, 0.96, 0.98)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="DATA_DIR (its dev part is scored)")
    ap.add_argument("--model", type=Path, default=None, help="model directory (default: the bundled one)")
    args = ap.parse_args(argv)

    from dataclasses import replace

    from safeguarding.detection import Detector, load_detector
    from safeguarding.detection.metrics import f_beta
    from safeguarding.detection.train import EVAL_CHECKPOINTS, author_peaks, held_back_records

    det = load_detector(args.model)
    persistence = det.config.persistence
    # the same model with its threshold set aside (as training does): every author's peak risk is kept
    open_det = Detector(det.weights, replace(det.config, threshold=0.0), version=det.version)
    peaks = author_peaks(open_det, held_back_records(args.data, "dev"))[persistence]
    rows = []
    for t in THRESHOLDS:
        row: dict[str, object] = {"threshold": t}
        for k in EVAL_CHECKPOINTS:
            sel = [(y, ks[k]) for _src, y, ks in peaks if k in ks]
            tp = sum(1 for y, v in sel if y and v >= t)
            fp = sum(1 for y, v in sel if not y and v >= t)
            fn = sum(1 for y, v in sel if y and v < t)
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f05 = round(f_beta(p, r, 0.5) if tp else 0.0, 3)
            row[f"@{k}"] = {"precision": round(p, 3), "recall": round(r, 3), "f05": f05, "authors": len(sel)}
        rows.append(row)
    print(f"model {det.version}, persistence {persistence}, dev split, author level")
    print("threshold  " + "  ".join(f"P@{k:<4} R@{k:<4} F0.5@{k:<4}" for k in EVAL_CHECKPOINTS))
    for row in rows:
        cells = []
        for k in EVAL_CHECKPOINTS:
            c = row[f"@{k}"]
            assert isinstance(c, dict)
            cells.append(f"{c['precision']:<6.3f} {c['recall']:<6.3f} {c['f05']:<9.3f}")
        print(f"{row['threshold']:<9.2f}  " + "  ".join(cells))
    json.dump({"model": det.version, "persistence": persistence, "rows": rows}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
