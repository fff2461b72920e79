"""Client fixtures: a model trained by the project's pipeline on synthetic chats, and its device export
(the relay and devices are in ``tests/unit/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest


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
