"""Device benchmark: the compact model's size and load time, and per-message latency on the device.

    python benchmarks/bench_device.py                     # the bundled model (or a synthetic one)
    python benchmarks/bench_device.py --model path/to/model --conversations 400

Exports the full artifact to the compact device model (float16 text weights), then measures on one core:

* size of the device model on disk (must be <= 5 MB) against the full artifact;
* load time of the device model (median of several cold loads: sha256 check, npz read, detector build);
* per-message latency (p50 / p99 / mean, microseconds) of the on-device detector update, and of the
  whole receive path a phone runs per incoming message (AEAD decryption, signature and franking checks,
  detector update), plus the sender's encrypt+frank+sign and the server's accept+stamp;
* the largest risk difference between the compact and the full model over the benchmark stream.

Synthetic conversations only (``safeguarding.synth``). Without a bundled model, a model is trained on
synthetic chat first (the numbers then describe speed, not accuracy). Not a test: it prints numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from safeguarding.client import export_device_model, load_device_model
from safeguarding.client.demo import LocalRelay
from safeguarding.detection import Detector, load_detector
from safeguarding.errors import ModelError
from safeguarding.synth import make_dataset
from safeguarding.types import Conversation


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    us = sorted(s * 1e6 for s in samples_s)
    pick = lambda q: us[min(len(us) - 1, int(q * len(us)))]  # noqa: E731
    return {"p50": pick(0.50), "p99": pick(0.99), "mean": statistics.fmean(us), "n": float(len(us))}


def source_model(arg: str | None, scratch: Path) -> tuple[Path | None, str]:
    if arg:
        return Path(arg), arg
    try:
        load_detector()
        return None, "bundled model"
    except ModelError:
        from safeguarding.detection.train import TrainOptions, train

        (scratch / "data").mkdir()
        train(
            scratch / "data", scratch / "synthetic-model", TrainOptions(seed=0, synthetic_conversations=300)
        )
        return scratch / "synthetic-model", "model trained on synthetic chat (no bundled model here)"


def detector_latency(det: Detector, convs: Sequence[Conversation]) -> list[float]:
    out: list[float] = []
    clock = time.perf_counter
    for c in convs:
        state = det.new_state(c.id)
        for m in c.messages:
            t0 = clock()
            det.update(state, m)
            out.append(clock() - t0)
    return out


def max_risk_diff(full: Detector, small: Detector, convs: Sequence[Conversation]) -> float:
    worst = 0.0
    for c in convs:
        sf, ss = full.new_state(c.id), small.new_state(c.id)
        for m in c.messages:
            worst = max(worst, abs(full.update(sf, m).risk - small.update(ss, m).risk))
    return worst


def path_latency(det: Detector, convs: Sequence[Conversation]) -> dict[str, list[float]]:
    """Send (encrypt, frank, sign), server accept (stamp), receive (decrypt, verify, detect) per message."""
    relay = LocalRelay()
    send_s: list[float] = []
    accept_s: list[float] = []
    recv_s: list[float] = []
    clock = time.perf_counter
    for n, c in enumerate(convs):
        authors = list(dict.fromkeys(m.author for m in c.messages))
        if len(authors) < 2:
            continue
        names = {a: f"c{n}-{a}" for a in authors}
        sessions = {a: relay.device(names[a], det) for a in authors}
        relay.open(sessions[authors[0]], c.id, list(names.values()))
        for m in c.messages:
            sender = sessions[m.author]
            t0 = clock()
            out = sender.send(c.id, m.text)
            t1 = clock()
            stamped = relay.upload(out.envelope)
            t2 = clock()
            for r in stamped.envelope.recipients:
                session = relay.sessions[r]
                t3 = clock()
                session.receive(stamped)
                recv_s.append(clock() - t3)
            send_s.append(t1 - t0)
            accept_s.append(t2 - t1)
    return {"send": send_s, "accept": accept_s, "receive": recv_s}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="full model directory (default: the bundled model)")
    ap.add_argument("--conversations", type=int, default=300, help="synthetic conversations to stream")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--loads", type=int, default=7, help="cold loads to time")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        src, label = source_model(args.model, scratch)
        convs = [s.conversation for s in make_dataset(args.conversations, args.seed)]
        t0 = time.perf_counter()
        info = export_device_model(src, scratch / "device")
        export_s = time.perf_counter() - t0
        full_size = sum(p.stat().st_size for p in (src or _bundled()).iterdir() if p.is_file())
        loads = []
        for _ in range(args.loads):
            t0 = time.perf_counter()
            small = load_device_model(scratch / "device")
            loads.append(time.perf_counter() - t0)
        full = load_detector(src)
        n_msgs = sum(len(c.messages) for c in convs)
        det_small = percentiles(detector_latency(small, convs))
        det_full = percentiles(detector_latency(full, convs))
        paths = {k: percentiles(v) for k, v in path_latency(small, convs[: max(1, len(convs) // 3)]).items()}
        diff = max_risk_diff(full, small, convs)

    print(f"source: {label} (version {info.source_version})")
    print(f"stream: {len(convs)} synthetic conversations, {n_msgs} messages, seed {args.seed}")
    print(f"device model: {info.size_bytes:,} bytes ({info.size_bytes / 2**20:.2f} MiB; limit 5 MiB); "
          f"full artifact {full_size:,} bytes; export {export_s * 1e3:.0f} ms")  # fmt: skip
    print(f"device model load: median {statistics.median(loads) * 1e3:.1f} ms over {args.loads} cold loads")
    print(f"max |risk(compact) - risk(full)| over the stream: {diff:.2e}")
    print(f"{'per message (µs)':<40}{'p50':>9}{'p99':>9}{'mean':>9}{'n':>8}")
    rows = [
        ("detector update, compact model", det_small),
        ("detector update, full model", det_full),
        ("send: encrypt + frank + sign", paths["send"]),
        ("server: accept + stamp", paths["accept"]),
        ("receive: decrypt + verify + detect", paths["receive"]),
    ]
    for name, p in rows:
        print(f"{name:<40}{p['p50']:>9.1f}{p['p99']:>9.1f}{p['mean']:>9.1f}{int(p['n']):>8}")
    return 0


def _bundled() -> Path:
    from safeguarding.detection import bundled_model_dir

    return bundled_model_dir()


if __name__ == "__main__":
    sys.exit(main())
