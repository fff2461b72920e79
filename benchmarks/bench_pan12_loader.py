"""Benchmark: stream a PAN12-format XML the size of the official test corpus and report speed and memory.

    .venv/bin/python benchmarks/bench_pan12_loader.py                 # 150,000 conversations (~10 msgs)
    .venv/bin/python benchmarks/bench_pan12_loader.py -n 20000        # quicker

The file is synthetic (random ids, filler words, some ``<email/>`` elements), written to a temporary
directory that is removed afterwards. Peak RSS is the process maximum from ``getrusage``: it is
printed before and after parsing, so growth during parsing shows up as the difference.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from xml.sax.saxutils import escape

from safeguarding.detection.data import read_pan12

_WORDS = (
    "hi", "hey", "lol", "ok", "what", "are", "you", "doing", "today", "school", "game", "later",
    "cool", "yeah", "no", "maybe", "<3", "&", "fun",
)  # fmt: skip


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024  # bytes on macOS, KiB on Linux


def write_corpus(path: str, n_conversations: int, mean_messages: int, seed: int = 0) -> int:
    """Write a PAN12-format file; returns the number of messages. Streams, so memory stays small."""
    rng = random.Random(seed)
    n_messages = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<conversations>\n')
        for c in range(n_conversations):
            authors = [f"{rng.getrandbits(128):032x}" for _ in range(rng.choice((2, 2, 2, 3)))]
            fh.write(f'  <conversation id="{rng.getrandbits(128):032x}{c:x}">\n')
            for line in range(1, rng.randint(max(1, mean_messages // 2), mean_messages * 3 // 2) + 1):
                words = " ".join(rng.choices(_WORDS, k=rng.randint(1, 12)))
                text = escape(words) + (" <email/> ok" if rng.random() < 0.01 else "")
                fh.write(
                    f'    <message line="{line}">\n      <author>{rng.choice(authors)}</author>\n'
                    f"      <time>{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}</time>\n"
                    f"      <text>{text}</text>\n    </message>\n"
                )
                n_messages += 1
            fh.write("  </conversation>\n")
        fh.write("</conversations>\n")
    return n_messages


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--conversations", type=int, default=150_000)
    ap.add_argument("-m", "--messages", type=int, default=10, help="mean messages per conversation")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pan12-synthetic.xml")
        t0 = time.perf_counter()
        written = write_corpus(path, args.conversations, args.messages)
        size_mb = os.path.getsize(path) / 1e6
        print(
            f"wrote {args.conversations:,} conversations, {written:,} messages, {size_mb:.0f} MB "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        rss_before = _peak_rss_mb()
        t0 = time.perf_counter()
        n_conv = n_msg = 0
        for conv in read_pan12(path):
            n_conv += 1
            n_msg += len(conv.messages)
        dt = time.perf_counter() - t0
        assert (n_conv, n_msg) == (args.conversations, written), "reader lost data"
        print(
            f"read  {n_conv:,} conversations in {dt:.2f} s: {n_conv / dt:,.0f} conversations/s, "
            f"{n_msg / dt:,.0f} messages/s, {size_mb / dt:.0f} MB/s"
        )
        print(f"peak RSS {_peak_rss_mb():.0f} MB (before parsing {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
