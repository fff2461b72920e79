"""The compact device model: under 5 MB, scoring within a small tolerance of the full model, checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from safeguarding.client import MAX_DEVICE_MODEL_BYTES, export_device_model, load_device_model
from safeguarding.client import model as device_model_module
from safeguarding.detection import Detector, DetectorConfig, load_detector
from safeguarding.detection.artifact import save_artifact
from safeguarding.detection.features import N_BUCKETS
from safeguarding.detection.model import N_DENSE, LinearWeights
from safeguarding.errors import ArtifactIntegrityError, ModelError
from safeguarding.synth import make_dataset
from safeguarding.types import Conversation

RISK_TOLERANCE = 0.01


def conversations(n: int = 120, seed: int = 23) -> list[Conversation]:
    return [s.conversation for s in make_dataset(n, seed)]


def compare(full: Detector, small: Detector, convs: list[Conversation]) -> tuple[float, int]:
    """Largest risk difference after any message, and the number of differing alert decisions."""
    worst, differ = 0.0, 0
    for c in convs:
        sf, ss = full.new_state(c.id), small.new_state(c.id)
        for m in c.messages:
            af, as_ = full.update(sf, m), small.update(ss, m)
            worst = max(worst, abs(af.risk - as_.risk))
        differ += (af.flagged, af.alert_at) != (as_.flagged, as_.alert_at)
    return worst, differ


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir())


def test_the_device_model_is_small_and_scores_like_the_full_model(full_model: Path, tmp_path: Path) -> None:
    convs = conversations()
    info = export_device_model(full_model, tmp_path / "dev", check=convs[:40])
    assert info.size_bytes == size_of(tmp_path / "dev") <= MAX_DEVICE_MODEL_BYTES
    assert info.checked_conversations == 40 and info.flag_agreement == 1.0
    assert info.max_risk_diff is not None and info.max_risk_diff <= RISK_TOLERANCE
    manifest = json.loads((tmp_path / "dev" / "device_manifest.json").read_text())
    assert manifest["text_dtype"] == "float16" and manifest["source_version"] == info.source_version
    small = load_device_model(tmp_path / "dev")
    assert small.version == info.version and small.version.endswith(".device-f16")
    worst, differ = compare(load_detector(full_model), small, convs)
    assert worst <= RISK_TOLERANCE and differ == 0


def test_a_fully_dense_model_still_fits(tmp_path: Path) -> None:
    """Worst case for size: every one of the 2^18 text weights non-zero and incompressible."""
    rng = np.random.default_rng(3)
    weights = LinearWeights(
        text=rng.normal(0, 0.8, N_BUCKETS).astype(np.float32),
        dense=rng.normal(0, 0.5, N_DENSE),
        intercept=-2.0,
        calib_a=1.0,
    )
    config = DetectorConfig(threshold=0.6, min_messages=2, min_support=1)
    src = save_artifact(
        tmp_path / "full", weights=weights, config=config, version="dense-1", tagger_arrays=None, info={}
    )
    info = export_device_model(src, tmp_path / "dev", check=conversations(30))
    assert info.size_bytes <= MAX_DEVICE_MODEL_BYTES
    assert info.size_bytes < 0.6 * size_of(src)  # float16 halves the text weights
    assert info.max_weight_error <= 0.01
    assert info.max_risk_diff is not None and info.max_risk_diff <= RISK_TOLERANCE


def test_the_bundled_model_exports_within_tolerance(tmp_path: Path) -> None:
    try:
        full = load_detector()
    except ModelError as exc:
        pytest.skip(f"no bundled model in this checkout yet: {exc}")
    info = export_device_model(None, tmp_path / "dev")
    assert info.size_bytes <= MAX_DEVICE_MODEL_BYTES
    worst, differ = compare(full, load_device_model(tmp_path / "dev"), conversations(60))
    assert worst <= RISK_TOLERANCE and differ <= 1  # a flag may flip only exactly at the threshold


def test_an_altered_device_model_is_refused(device_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "dev"
    copy.mkdir()
    for p in device_model.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    weights = copy / "device_weights.npz"
    raw = bytearray(weights.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    weights.write_bytes(bytes(raw))
    with pytest.raises(ArtifactIntegrityError, match="altered"):
        load_device_model(copy)


def test_loading_the_wrong_thing_says_what_to_do(full_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="export it with export_device_model"):
        load_device_model(full_model)
    with pytest.raises(ModelError, match="no device model"):
        load_device_model(tmp_path)


def test_an_oversized_export_is_refused(
    full_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(device_model_module, "MAX_DEVICE_MODEL_BYTES", 1000)
    with pytest.raises(ModelError, match="over the 1000 limit"):
        export_device_model(full_model, tmp_path / "dev")
    assert not (tmp_path / "dev").exists()
