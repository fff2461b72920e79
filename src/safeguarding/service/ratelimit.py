"""Per-API-key rate limits: a token bucket per key, in each worker process.

A key may send ``rate`` requests per second on average and ``burst`` at once after being idle; over
that it gets 429 with ``Retry-After``. The buckets live in the worker's memory (no database round trip
on the hot path), so with N worker processes each enforces the limit divided by N — the total stays
the configured one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        *,
        share: int = 1,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.share = max(1, share)
        self._now = now
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, key: str, rate: float | None = None) -> float:
        """Take one token for ``key``; returns 0.0 if allowed, else the seconds until one is free."""
        r = (rate if rate is not None else self.rate) / self.share
        cap = (self.burst / self.share) if self.burst is not None and rate is None else 2.0 * r
        cap = max(cap, 1.0)
        now = self._now()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(cap, now)
            b.tokens = min(cap, b.tokens + (now - b.stamp) * r)
            b.stamp = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / r

    def limit_for(self, rate: float | None) -> float:
        return rate if rate is not None else self.rate
