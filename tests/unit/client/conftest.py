"""Encrypted-mode fixtures: an in-memory relay (directory, stamp ledger, server key) and devices on it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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


@pytest.fixture(scope="session")
def full_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real artifact trained by the project's pipeline on synthetic chats only (hermetic, ~2 s).

    Not the bundled model on purpose: these tests must not change meaning when the shipped model is
    retrained; ``test_client_model`` also checks the bundled one when the checkout has it.
    """
    from safeguarding.detection.train import TrainOptions, train

    root = tmp_path_factory.mktemp("e2ee-model")
    (root / "data").mkdir()
    train(root / "data", root / "full", TrainOptions(seed=0, synthetic_conversations=300))
    return root / "full"


@pytest.fixture(scope="session")
def device_model(full_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from safeguarding.client import export_device_model

    out = tmp_path_factory.mktemp("e2ee-device") / "device"
    export_device_model(full_model, out)
    return out
