"""Fixtures shared by the unit tests of encrypted mode (`client/`, `e2ee/`): an in-memory relay (directory,
stamp ledger, server key) and devices on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safeguarding.client import ClientSession
from safeguarding.client.demo import LocalRelay
from safeguarding.e2ee import ServerKey, ServerKeyRing
from safeguarding.engine import FrozenClock

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


@pytest.fixture
def relay() -> LocalRelay:
    return LocalRelay(ServerKeyRing(ServerKey.generate("k-2026-01")), FrozenClock(T0))


@pytest.fixture
def pair(relay: LocalRelay) -> tuple[ClientSession, ClientSession]:
    """An adult ``a1`` and a child ``k1`` in conversation ``c1``."""
    a, k = relay.device("a1"), relay.device("k1")
    relay.open(a, "c1", ["a1", "k1"])
    return a, k
