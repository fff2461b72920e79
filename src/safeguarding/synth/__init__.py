"""Synthetic data written by the project: chats, a platform scenario and the bundled example.

Nothing here comes from real people. Use it for examples, the demo, tests and as extra (clearly labelled)
training negatives and positives; never report accuracy on it as if it were real chat.

Command line (also ``python -m safeguarding.synth``)::

    example                 the bundled example, scan-contract JSONL (src/safeguarding/examples/example.jsonl)
    dataset N [--seed S]    N labelled conversations (JSONL with kind, label, suspect, stages)
    events [--seed S]       a platform scenario as engine events (JSONL), ``--no-text`` for E2EE mode
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from datetime import timedelta

from safeguarding.synth.conversations import (
    BENIGN_KINDS,
    DEFAULT_START,
    GROOMING_KINDS,
    GROOMING_ORDER,
    KINDS,
    Participant,
    SyntheticConversation,
    age_band_for,
    generate,
    make_dataset,
)
from safeguarding.synth.scenario import (
    DEFAULT_SCENARIO_START,
    INTERACTION_TYPES,
    Account,
    Interaction,
    Scenario,
    build_scenario,
)

__all__ = [
    "BENIGN_KINDS",
    "DEFAULT_SCENARIO_START",
    "DEFAULT_START",
    "EXAMPLE_KINDS",
    "EXAMPLE_SEED",
    "GROOMING_KINDS",
    "GROOMING_ORDER",
    "INTERACTION_TYPES",
    "KINDS",
    "Account",
    "Interaction",
    "Participant",
    "Scenario",
    "SyntheticConversation",
    "age_band_for",
    "build_scenario",
    "example_conversations",
    "generate",
    "main",
    "make_dataset",
]

EXAMPLE_SEED = 2026
EXAMPLE_KINDS: tuple[str, ...] = (
    "surprise_party", "grooming", "coach", "dating_adults",
    "teens_mall", "grooming", "gamers_trading", "family",
)  # fmt: skip
"""The bundled example: six benign chats that look risky (secrets, ages, meet-ups) and two escalations."""


def example_conversations(seed: int = EXAMPLE_SEED) -> list[SyntheticConversation]:
    """The conversations of ``src/safeguarding/examples/example.jsonl`` (ids ``example-01`` ...)."""
    out = []
    for i, kind in enumerate(EXAMPLE_KINDS, start=1):
        rng = random.Random(f"safeguarding-example:{seed}:{i}")
        start = DEFAULT_START + timedelta(days=i, minutes=rng.randrange(240))
        out.append(generate(kind, rng, conversation_id=f"example-{i:02d}", start=start))
    return out


def _dump(records: Sequence[dict[str, object]]) -> None:
    for rec in records:
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Write synthetic data as JSONL to standard output; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m safeguarding.synth", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("example", help="the bundled example (scan contract)")
    ds = sub.add_parser("dataset", help="labelled synthetic conversations")
    ds.add_argument("n", type=int)
    ds.add_argument("--seed", type=int, default=0)
    ds.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds")
    ev = sub.add_parser("events", help="a platform scenario as engine events")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--benign", type=int, default=8)
    ev.add_argument("--no-text", action="store_true", help="omit message text (E2EE mode)")
    args = parser.parse_args(argv)
    if args.what == "example":
        _dump([sc.to_record() for sc in example_conversations()])
    elif args.what == "dataset":
        kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            parser.error(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
        _dump([sc.to_record(labels=True) for sc in make_dataset(args.n, args.seed, kinds)])
    else:
        _dump(build_scenario(args.seed, n_benign=args.benign).to_events(include_text=not args.no_text))
    return 0
