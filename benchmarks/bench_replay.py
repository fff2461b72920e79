"""Replay throughput: events/s through the engine, with and without text scoring, per store.

    .venv/bin/python benchmarks/bench_replay.py                     # SQLite (+ memory baseline)
    .venv/bin/python benchmarks/bench_replay.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/bench_replay.py --events 50000 --batch-size 2000 --profile

The events are synthetic and made here (deterministic, seeded): accounts of every age band, follows,
contact requests, blocks and reports, and mostly messages (about 25 per conversation) whose text mixes
everyday chat with grooming-like lines; 10% of conversations are between accounts that are not
connected (their messages to minors are denied and feed the signals), and 2% of adults are "groomers"
who only approach children they are not connected with. So the detector, the signals and the policy
all do real work. The timing covers
the whole replay path: JSON parsing, the engine, one commit per batch, and writing the output lines.
Goal (issue 3): >= 5,000 events/s on SQLite with text scoring, on a 2-core machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from safeguarding.engine import Engine, FrozenClock
from safeguarding.policy import default_policy
from safeguarding.replay import replay
from safeguarding.store import MemoryStore, Store, open_store

GOAL = 5000.0
CHAT = [
    "hey how are you", "lol same", "did you finish the homework", "see you at practice tomorrow",
    "that game last night was crazy", "my mum says I can't come", "what time is the match",
    "haha no way", "can you send me the notes", "good luck on your test", "I'm so tired today",
    "wanna play later", "did you see the new video", "ok bye", "happy birthday!!",
]  # fmt: skip
RISKY = [
    "you seem really mature for your age", "how old are you", "are your parents home",
    "this is our little secret ok", "don't tell anyone we talk", "add me on snap",
    "send me a pic", "I can buy you a gift card", "we should meet up sometime", "you can trust me",
]  # fmt: skip


def make_events(n: int, seed: int = 1, text: bool = True) -> list[str]:
    """About ``n`` events: a few percent accounts and relationships, the rest messages."""
    rnd = random.Random(seed)
    at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    out: list[str] = []
    n_acc = max(50, n // 25)
    adults = [f"a{i}" for i in range(n_acc // 2)]
    kids = [f"k{i}" for i in range(n_acc - n_acc // 2)]
    bands = ["under_13", "13_15", "16_17"]

    def emit(kind: str, **f: Any) -> None:
        nonlocal at
        at += timedelta(milliseconds=rnd.randint(50, 900))
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        out.append(json.dumps({"id": f"ev{len(out)}", "type": kind, "at": stamp, **f}))

    for a in adults:
        emit("account", account=a, age_band="adult", timezone="Europe/London")
    for k in kids:
        emit("account", account=k, age_band=rnd.choice(bands), timezone="Europe/London")
    for k in kids:
        emit("follow", actor=k, target=rnd.choice(adults))
        friend = rnd.choice(kids)
        if friend != k:
            emit("follow", actor=k, target=friend)
    groomers = set(rnd.sample(adults, max(1, len(adults) // 50)))
    people = adults + kids
    # Conversations are pairs that talk for a while (about 25 messages each), as on a real platform.
    # Most pairs are connected (the younger one follows the other); 10% are not, so their messages to
    # minors are denied and feed the signals; groomers approach children they are not connected with.
    pairs: list[tuple[str, str]] = []
    while len(pairs) < max(10, n // 25):
        s = rnd.choice(people)
        r = rnd.choice(kids) if s in groomers or rnd.random() < 0.5 else rnd.choice(people)
        if r == s:
            continue
        pairs.append((s, r))
        if s not in groomers and rnd.random() < 0.9:
            emit("follow", actor=r, target=s)
            emit("follow", actor=s, target=r)
    while len(out) < n:
        s, r = rnd.choice(pairs)
        if rnd.random() < 0.4:
            s, r = r, s
        roll = rnd.random()
        if roll < 0.01:
            emit("contact_request", actor=s, target=r)
        elif roll < 0.015:
            emit("block", actor=r, target=s)
        elif roll < 0.02:
            emit("report", actor=r, target=s, reason="uncomfortable")
        else:
            msg: dict[str, Any] = {"conversation": "-".join(sorted((s, r))), "sender": s, "recipients": [r]}
            if text:
                msg["text"] = rnd.choice(RISKY if s in groomers and rnd.random() < 0.4 else CHAT)
            emit("message", **msg)
    return out[:n]


class Null(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


def with_schema(url: str, schema: str) -> str:
    from urllib.parse import quote

    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"


def run(store: Store, lines: list[str], detector: Any, batch_size: int, profile: bool) -> tuple[float, float]:
    """(events per wall-clock second, events per CPU second of this process)."""
    engine = Engine(default_policy(), store, detector, FrozenClock())
    prof = cProfile.Profile() if profile else None
    cpu = time.process_time()
    started = time.perf_counter()
    if prof:
        prof.enable()
    summary = replay(lines, engine, Null(), batch_size=batch_size, name="bench")
    if prof:
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    assert summary.rejected == 0, summary.rejected
    return len(lines) / elapsed, len(lines) / cpu


def random_detector() -> Any:
    """The real streaming detector class with seeded random weights: same work per message, no meaning."""
    import numpy as np

    from safeguarding.detection.model import N_DENSE, LinearWeights
    from safeguarding.detection.streaming import Detector, DetectorConfig

    rng = np.random.default_rng(0)
    weights = LinearWeights(
        text=rng.normal(0, 0.3, 1 << 18), dense=rng.normal(0, 0.3, N_DENSE), intercept=-2.0
    )
    return Detector(weights, DetectorConfig(), version="random")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=30_000)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--pg", default=os.environ.get("SAFEGUARDING_BENCH_DATABASE_URL"), help="PostgreSQL URL")
    ap.add_argument("--model", type=Path, help="detector model directory (default: the bundled model)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument(
        "--random-weights",
        action="store_true",
        help="no model artifact: time the real detector code with seeded random weights (speed only)",
    )
    ap.add_argument("--stores", default="memory,sqlite,postgresql")
    args = ap.parse_args()

    detector: Any = None
    if args.random_weights:
        detector = random_detector()
        load_note = "detector with RANDOM weights (speed of the code path only)"
    else:
        try:
            from safeguarding.detection import load_detector

            detector = load_detector(args.model)
            load_note = f"detector {detector.version}"
        except Exception as exc:  # the benchmark still measures the metadata path
            load_note = f"no detector ({exc}); text rows skipped"
    print(f"{args.events:,} events, batch {args.batch_size}, {os.cpu_count()} CPUs, {load_note}")
    with_text, without = make_events(args.events, text=True), make_events(args.events, text=False)
    rows: list[tuple[str, str, float, float]] = []
    wanted = args.stores.split(",")
    for store_name in ("memory", "sqlite", "postgresql"):
        if store_name not in wanted or (store_name == "postgresql" and not args.pg):
            continue
        for mode, lines, det in (("text", with_text, detector), ("no text", without, None)):
            if mode == "text" and detector is None:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                schema = f"bench_{uuid.uuid4().hex[:8]}"
                store: Store
                if store_name == "memory":
                    store = MemoryStore()
                elif store_name == "sqlite":
                    store = open_store(f"sqlite:///{tmp}/bench.db")
                else:
                    from sqlalchemy import create_engine, text

                    from safeguarding.store.sql import normalise_url

                    admin = create_engine(normalise_url(args.pg), isolation_level="AUTOCOMMIT")
                    with admin.connect() as c:
                        c.execute(text(f"CREATE SCHEMA {schema}"))
                    store = open_store(with_schema(args.pg, schema))
                try:
                    rate, cpu_rate = run(store, lines, det, args.batch_size, args.profile)
                finally:
                    store.close()
                    if store_name == "postgresql":
                        with admin.connect() as c:
                            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                        admin.dispose()
            rows.append((store_name, mode, rate, cpu_rate))
            print(f"  {store_name:<10} {mode:<8} {rate:>10,.0f} events/s", flush=True)
    print()
    print(f"{'store':<10} {'mode':<8} {'events/s':>10} {'vs goal':>8} {'per CPU-s':>10}")
    for store_name, mode, rate, cpu_rate in rows:
        print(f"{store_name:<10} {mode:<8} {rate:>10,.0f} {rate / GOAL:>7.2f}x {cpu_rate:>10,.0f}")
    print("(per CPU-s: events per second of this process's CPU time; PostgreSQL's own work is not in it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
