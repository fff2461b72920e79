"""Sliding-window counters per account, in hour buckets.

A window is a set of rows keyed ``(account, counter, bucket)`` where ``bucket`` is the hour since the
Unix epoch. Summing the buckets that fall inside a window gives a sliding count with one-hour
granularity, and the rows are what the store persists — small, and updated by *adding deltas*, so two
workers adding to the same row never lose an update.

Idempotency on event id is the engine's job (an event is recorded as processed in the same transaction
as its counter deltas, so a replayed event is skipped as a whole). Distinct counters ("how many
different minors") keep their members, which makes them idempotent on their own as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

BUCKET_SECONDS = 3600


def bucket_of(when: datetime) -> int:
    """The hour bucket holding ``when`` (timezone-aware)."""
    return int(when.timestamp()) // BUCKET_SECONDS


def window_start(now_bucket: int, window_hours: int) -> int:
    """First bucket inside a window of ``window_hours`` ending with (and including) ``now_bucket``."""
    return now_bucket - window_hours + 1


class WindowView(Protocol):
    """Read access to one account's windows; what a :class:`~safeguarding.signals.Signal` reads."""

    def count(self, counter: str, since_bucket: int, until_bucket: int) -> int:
        """Sum of ``counter`` over buckets ``since_bucket..until_bucket`` (both included)."""
        ...

    def distinct(self, counter: str, since_bucket: int, until_bucket: int) -> int:
        """Number of different members of ``counter`` over the same range."""
        ...


@dataclass(slots=True)
class AccountWindows:
    """All counters of one account. Mutable: this is working state, not a value crossing boundaries."""

    counts: dict[str, dict[int, int]] = field(default_factory=dict)
    members: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    version: int = 0
    """Bumped on every change, so callers can memoise values derived from the windows."""

    def add(self, counter: str, bucket: int, n: int = 1) -> None:
        per = self.counts.setdefault(counter, {})
        per[bucket] = per.get(bucket, 0) + n
        self.version += 1

    def add_member(self, counter: str, bucket: int, member: str) -> bool:
        """Record ``member`` in ``bucket``; False when it was already there (nothing changed)."""
        per = self.members.setdefault(counter, {})
        seen = per.setdefault(bucket, set())
        if member in seen:
            return False
        seen.add(member)
        self.version += 1
        return True

    def count(self, counter: str, since_bucket: int, until_bucket: int) -> int:
        per = self.counts.get(counter)
        if not per:
            return 0
        return sum(n for b, n in per.items() if since_bucket <= b <= until_bucket)

    def distinct(self, counter: str, since_bucket: int, until_bucket: int) -> int:
        per = self.members.get(counter)
        if not per:
            return 0
        inside = [s for b, s in per.items() if since_bucket <= b <= until_bucket]
        if len(inside) == 1:
            return len(inside[0])
        return len(set().union(*inside)) if inside else 0

    def prune(self, before_bucket: int) -> None:
        """Forget buckets older than ``before_bucket`` (they can no longer fall inside any window)."""
        for table in (self.counts, self.members):
            for per in table.values():
                for b in [b for b in per if b < before_bucket]:
                    del per[b]

    def rows(self) -> Iterator[tuple[str, int, int]]:
        for counter, per in self.counts.items():
            for b, n in per.items():
                yield counter, b, n

    def member_rows(self) -> Iterator[tuple[str, int, str]]:
        for counter, per in self.members.items():
            for b, s in per.items():
                for m in s:
                    yield counter, b, m

    @classmethod
    def from_rows(
        cls, counts: Iterable[tuple[str, int, int]], members: Iterable[tuple[str, int, str]] = ()
    ) -> AccountWindows:
        w = cls()
        for counter, b, n in counts:
            per = w.counts.setdefault(counter, {})
            per[b] = per.get(b, 0) + n
        for counter, b, m in members:
            w.members.setdefault(counter, {}).setdefault(b, set()).add(m)
        return w
