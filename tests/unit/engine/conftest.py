"""Engine fixtures: engines over every store, restartable over the same persisted state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import Stream

from safeguarding.engine import Engine, FrozenClock
from safeguarding.policy import Policy, default_policy
from safeguarding.store import MemoryStore, Store, open_store


@pytest.fixture
def stream() -> Stream:
    return Stream()


MakeEngine = Callable[..., Engine]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make_engine(
    request: pytest.FixtureRequest, tmp_path: Path, frozen_clock: FrozenClock
) -> Iterator[MakeEngine]:
    """``make_engine(policy=None, detector=None)``: a new engine over the *same* persisted state each call,
    which is what a process restart looks like."""
    kind = request.param
    memory = MemoryStore()
    url = f"sqlite:///{tmp_path / 'engine.db'}" if kind == "sqlite" else None
    if kind == "postgresql":
        url = str(request.getfixturevalue("pg_url"))
    opened: list[Store] = []

    def make(policy: Policy | None = None, detector: Any = None) -> Engine:
        store: Store = memory if url is None else open_store(url)
        opened.append(store)
        return Engine(policy or default_policy(), store, detector, frozen_clock)

    yield make
    for s in opened:
        s.close()
