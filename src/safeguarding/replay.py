"""Replay an event stream through the engine: one JSON line out per event in.

This is how an operator tests a policy change on last month's events before switching it on
(``docs/replay.md``): replay the same file under the current and the proposed policy and compare the
decisions. Bad events are reported with their id and the rest proceed. Output for a batch is written
only after the batch is committed; after a crash, rerunning against the same database re-emits the
committed events' stored outcomes (nothing counted twice) and continues where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from safeguarding.engine import Engine, Outcome, Rejected
from safeguarding.errors import EventError
from safeguarding.events import Event, parse_json_line

log = logging.getLogger(__name__)


@dataclass
class ReplaySummary:
    """Counts for the operator: what was decided, by which rule, and which alerts fired."""

    events: int = 0
    rejected: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    decisions: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def add(self, result: Outcome | Rejected) -> None:
        self.events += 1
        if isinstance(result, Rejected):
            self.rejected += 1
            return
        self.duplicates += int(result.duplicate)
        self.decisions[result.decision.verdict.value] += 1
        if result.decision.rule is not None:
            self.rules[result.decision.rule] += 1
        for a in result.alerts:
            self.alerts[a.kind.value] += 1

    def lines(self) -> Iterator[str]:
        yield (
            f"{self.events} events ({self.rejected} rejected, {self.duplicates} already processed) "
            f"in {self.seconds:.2f}s, {self.rate:,.0f} events/s"
        )
        for name, counter in (("decisions", self.decisions), ("rules", self.rules), ("alerts", self.alerts)):
            if counter:
                yield f"{name}:"
                for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
                    yield f"  {n:>8}  {key}"


Item = tuple[str, Event | EventError]


def _items(lines: Iterable[str], name: str) -> Iterator[Item]:
    """``(where, event-or-error)`` per non-blank line; ``where`` is ``file:line``."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{n}"
        try:
            yield where, parse_json_line(line, where=where)
        except EventError as exc:
            yield where, exc


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _located(result: Outcome | Rejected, where: str) -> Outcome | Rejected:
    """Rejections found by the engine (e.g. an unknown account) get the input line, like parse errors."""
    if isinstance(result, Rejected) and result.where is None:
        return Rejected(result.event, f"{where}: {result.reason}", where)
    return result


def replay(
    lines: Iterable[str],
    engine: Engine,
    out: IO[str],
    *,
    batch_size: int = 1000,
    name: str = "<input>",
    on_reject: Callable[[Rejected], None] | None = None,
) -> ReplaySummary:
    """Process JSONL ``lines`` in batches (one transaction each) and write one JSON line per event."""
    summary = ReplaySummary()
    started = time.perf_counter()
    for batch in _batches(_items(lines, name), batch_size):
        results = [
            _located(r, w)
            for r, (w, _) in zip(engine.process_batch([i for _, i in batch]), batch, strict=True)
        ]
        # written only once the batch is committed: a crash never shows an outcome that was lost
        out.write("".join(r.line_json() + "\n" for r in results))
        out.flush()
        for r in results:
            summary.add(r)
            if isinstance(r, Rejected) and on_reject is not None:
                on_reject(r)
    summary.seconds = time.perf_counter() - started
    log.info("replayed %d events (%d rejected)", summary.events, summary.rejected)
    return summary
