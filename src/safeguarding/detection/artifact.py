"""The model artifact: weights, configuration, version, data fingerprint, dev metrics and a sha256.

Layout of a model directory::

    manifest.json   version, config, feature names, data fingerprint, dev metrics, sha256 of weights.npz
    weights.npz     text weights per hash bucket (float32), dense weights, stage-tagger arrays
    MODEL_CARD.md   data, metrics by source, failure modes, intended use

Only numbers are stored: hashed buckets instead of a vocabulary, so no training sentence can be read back.
Loading checks the sha256 first and refuses an altered file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from safeguarding.detection.model import N_DENSE, LinearWeights, dense_feature_names
from safeguarding.detection.streaming import DetectorConfig
from safeguarding.errors import ArtifactIntegrityError, ModelError

ARTIFACT_FORMAT = 1
WEIGHTS_FILE = "weights.npz"
MANIFEST_FILE = "manifest.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder and rename: a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_artifact(
    out_dir: Path,
    *,
    weights: LinearWeights,
    config: DetectorConfig,
    version: str,
    tagger_arrays: dict[str, np.ndarray] | None,
    info: dict[str, Any],
    model_card: str | None = None,
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {
        "text": weights.text.astype(np.float32),
        "dense": weights.dense.astype(np.float64),
        "scalars": np.asarray([weights.intercept, weights.calib_a, weights.calib_b], dtype=np.float64),
    }
    for k, v in (tagger_arrays or {}).items():
        arrays[f"tagger__{k}"] = v
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    _atomic_write(out_dir / WEIGHTS_FILE, buf.getvalue())
    manifest = {
        "format": ARTIFACT_FORMAT,
        "version": version,
        "config": asdict(config),
        "n_buckets": weights.n_buckets,
        "dense_features": dense_feature_names(),
        "has_tagger": bool(tagger_arrays),
        "weights_sha256": sha256_file(out_dir / WEIGHTS_FILE),
        **info,
    }
    _atomic_write(out_dir / MANIFEST_FILE, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    if model_card is not None:
        _atomic_write(out_dir / "MODEL_CARD.md", model_card.encode())
    return out_dir


def read_manifest(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MANIFEST_FILE
    if not path.is_file():
        raise ModelError(f"no model artifact at {model_dir} (missing {MANIFEST_FILE})")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise ModelError(f"{path}: not valid JSON: {exc}") from exc
    if manifest.get("format") != ARTIFACT_FORMAT:
        raise ModelError(f"{path}: unsupported artifact format {manifest.get('format')!r}")
    return manifest


def load_arrays(model_dir: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read the manifest and the weights, after checking the weights' sha256."""
    manifest = read_manifest(model_dir)
    wpath = model_dir / WEIGHTS_FILE
    if not wpath.is_file():
        raise ModelError(f"no {WEIGHTS_FILE} in {model_dir}")
    digest = sha256_file(wpath)
    if digest != manifest.get("weights_sha256"):
        raise ArtifactIntegrityError(
            f"{wpath}: sha256 {digest} does not match the manifest ({manifest.get('weights_sha256')}); "
            "the artifact was altered or is incomplete"
        )
    with np.load(wpath, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    if arrays["dense"].shape[0] != N_DENSE or manifest.get("dense_features") != dense_feature_names():
        raise ModelError(f"{model_dir}: model was trained with a different feature set; retrain it")
    return manifest, arrays


def weights_from_arrays(arrays: dict[str, np.ndarray]) -> LinearWeights:
    sc = arrays["scalars"]
    return LinearWeights(
        text=arrays["text"],
        dense=arrays["dense"],
        intercept=float(sc[0]),
        calib_a=float(sc[1]),
        calib_b=float(sc[2]),
    )


def config_from_manifest(manifest: dict[str, Any]) -> DetectorConfig:
    return DetectorConfig(**manifest["config"])


def tagger_arrays(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k.removeprefix("tagger__"): v for k, v in arrays.items() if k.startswith("tagger__")}
