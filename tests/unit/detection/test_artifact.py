from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from safeguarding.detection import bundled_model_dir, load_detector
from safeguarding.detection.artifact import MANIFEST_FILE, WEIGHTS_FILE, sha256_file
from safeguarding.detection.stages import DATASET_LABELS
from safeguarding.detection.train import TrainOptions, TrainResult, train
from safeguarding.errors import ArtifactIntegrityError, ModelError


def test_bundled_model_is_intact_and_small() -> None:
    d = bundled_model_dir()
    manifest = json.loads((d / MANIFEST_FILE).read_text())
    assert manifest["weights_sha256"] == sha256_file(d / WEIGHTS_FILE)
    total = sum(p.stat().st_size for p in d.iterdir())
    assert total < 15 * 1024 * 1024
    assert (d / "MODEL_CARD.md").is_file()
    assert 0.0 < manifest["config"]["threshold"] < 1.0


def test_tampered_weights_are_refused(tiny_model: TrainResult, tmp_path: Path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(tiny_model.out_dir, copy)
    data = bytearray((copy / WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError):
        load_detector(copy)


def test_missing_artifact_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        load_detector(tmp_path)


def test_no_training_text_in_artifact(
    tiny_model: TrainResult, tiny_data: Path, markers: tuple[str, ...]
) -> None:
    """Hashed features: neither the marker words nor any training sentence can be read back."""
    blobs = []
    for p in tiny_model.out_dir.iterdir():
        raw = p.read_bytes()
        blobs.append(raw)
        if p.name == WEIGHTS_FILE:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                blobs.extend(z.read(n) for n in z.namelist())
            with np.load(p, allow_pickle=False) as arrays:
                for k in arrays.files:
                    a = arrays[k]
                    if a.dtype.kind == "U":  # only the stage tagger's class names are strings
                        assert set(a.tolist()) <= {*DATASET_LABELS}, k
                    else:
                        assert a.dtype.kind in "fiub", k
    haystack = b"\n".join(blobs).lower()
    for word in markers:
        assert word.encode() not in haystack
    sentences = [
        line
        for line in (tiny_data / "grooming_stages_pan12_ugurluer" / "grooming_stages_train.jsonl")
        .read_text()
        .splitlines()
    ]
    for line in sentences:
        text = json.loads(line)["text"].lower()
        if len(text) > 15:
            assert text.encode() not in haystack


def test_training_is_reproducible(
    tiny_model: TrainResult, tiny_data: Path, tmp_path: Path, tiny_options: TrainOptions
) -> None:
    again = train(tiny_data, tmp_path / "again", tiny_options)
    assert sha256_file(again.out_dir / WEIGHTS_FILE) == sha256_file(tiny_model.out_dir / WEIGHTS_FILE)
    assert again.config == tiny_model.config


def test_trained_model_separates_synthetic_grooming(tiny_model: TrainResult) -> None:
    from safeguarding.detection.metrics import roc_auc
    from safeguarding.synth import make_dataset

    det = load_detector(tiny_model.out_dir)
    data = make_dataset(60, 999)
    auc = roc_auc([s.label for s in data], [det.assess(s.conversation).risk for s in data])
    assert auc > 0.8


def test_root_model_card_is_the_bundled_one() -> None:
    root = Path(__file__).resolve().parents[3] / "MODEL_CARD.md"
    if root.is_file():  # absent when the package is installed without the source tree
        assert root.read_text() == (bundled_model_dir() / "MODEL_CARD.md").read_text()
