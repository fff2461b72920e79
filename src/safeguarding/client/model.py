"""The compact model a device ships: the same detector, text weights in float16, under 5 MB.

Why float16 and nothing cleverer: the text weights (one per hash bucket, 2^18 of them) are almost the
whole artifact; halving their width halves the file and changes each weight by at most one part in
2,048 of its size, which moves a risk score by far less than the gap between any two alert decisions
(the export measures it on conversations you give it and writes the result into the manifest). The
dense behavioural weights and calibration stay float64: they are a few hundred numbers.

Layout of a device model directory::

    device_manifest.json   format, version, source model version and sha256, config, check results,
                           sha256 of device_weights.npz
    device_weights.npz     text (float16), dense, scalars, stage-tagger arrays (float16 coefficients)

Loading checks the sha256 first, like the full artifact, and refuses an altered file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from safeguarding.detection.artifact import (
    config_from_manifest,
    load_arrays,
    read_manifest,
    sha256_file,
    tagger_arrays,
    weights_from_arrays,
)
from safeguarding.detection.loading import bundled_model_dir
from safeguarding.detection.model import N_DENSE, dense_feature_names
from safeguarding.detection.streaming import Detector
from safeguarding.errors import ArtifactIntegrityError, ModelError
from safeguarding.types import Conversation

DEVICE_FORMAT = "safeguarding-device-model/1"
DEVICE_MANIFEST = "device_manifest.json"
DEVICE_WEIGHTS = "device_weights.npz"
MAX_DEVICE_MODEL_BYTES = 5 * 1024 * 1024
_F16_MAX = float(np.finfo(np.float16).max)


@dataclass(frozen=True, slots=True)
class DeviceModelInfo:
    """What :func:`export_device_model` wrote and measured."""

    path: Path
    version: str
    source_version: str
    size_bytes: int
    weights_sha256: str
    max_weight_error: float
    checked_conversations: int = 0
    max_risk_diff: float | None = None
    flag_agreement: float | None = None


def _compact(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    text = np.asarray(arrays["text"], dtype=np.float32)
    if text.size and float(np.max(np.abs(text))) >= _F16_MAX:
        raise ModelError("text weights exceed the float16 range; this model cannot be made compact")
    out: dict[str, np.ndarray] = {
        "text": text.astype(np.float16),
        "dense": np.asarray(arrays["dense"], dtype=np.float64),
        "scalars": np.asarray(arrays["scalars"], dtype=np.float64),
    }
    for k, v in tagger_arrays(arrays).items():
        if k == "stage_coef":
            v = np.asarray(v, dtype=np.float16)
        elif k == "stage_cols":
            v = np.asarray(v, dtype=np.int32)
        out[f"tagger__{k}"] = v
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_device_model(
    src_dir: str | Path | None,
    out_dir: str | Path,
    *,
    check: Iterable[Conversation] = (),
) -> DeviceModelInfo:
    """Write the compact device model of the artifact at ``src_dir`` (default: the bundled model).

    ``check``: conversations to stream through both models; the largest risk difference after any
    message and the share of conversations with the same alert decision (flag and ``alert_at``) are
    written into the manifest. Refuses (``ModelError``) to write a model over
    :data:`MAX_DEVICE_MODEL_BYTES`.
    """
    src = Path(src_dir) if src_dir is not None else bundled_model_dir()
    out = Path(out_dir)
    manifest, arrays = load_arrays(src)
    compact = _compact(arrays)
    buf = io.BytesIO()
    np.savez_compressed(buf, **compact)  # type: ignore[arg-type]
    weights = buf.getvalue()
    text32 = np.asarray(arrays["text"], dtype=np.float32)
    max_err = float(np.max(np.abs(compact["text"].astype(np.float32) - text32))) if text32.size else 0.0
    version = f"{manifest['version']}.device-f16"
    doc: dict[str, Any] = {
        "format": DEVICE_FORMAT,
        "version": version,
        "source_version": manifest["version"],
        "source_weights_sha256": manifest["weights_sha256"],
        "config": manifest["config"],
        "n_buckets": int(compact["text"].shape[0]),
        "dense_features": dense_feature_names(),
        "has_tagger": any(k.startswith("tagger__") for k in compact),
        "text_dtype": "float16",
        "max_weight_error": max_err,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    checked = _compare(src, compact, manifest, version, list(check))
    doc["check"] = checked
    manifest_bytes = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    size = len(weights) + len(manifest_bytes)
    if size > MAX_DEVICE_MODEL_BYTES:
        raise ModelError(f"device model would be {size} bytes, over the {MAX_DEVICE_MODEL_BYTES} limit")
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / DEVICE_WEIGHTS, weights)
    _atomic_write(out / DEVICE_MANIFEST, manifest_bytes)
    return DeviceModelInfo(
        path=out,
        version=version,
        source_version=str(manifest["version"]),
        size_bytes=size,
        weights_sha256=doc["weights_sha256"],
        max_weight_error=max_err,
        checked_conversations=int(checked["conversations"]),
        max_risk_diff=checked["max_risk_diff"],
        flag_agreement=checked["flag_agreement"],
    )


def _compare(
    src: Path,
    compact: dict[str, np.ndarray],
    manifest: dict[str, Any],
    version: str,
    conversations: list[Conversation],
) -> dict[str, Any]:
    if not conversations:
        return {"conversations": 0, "max_risk_diff": None, "flag_agreement": None}
    from safeguarding.detection.loading import load_detector

    full = load_detector(src)
    small = _detector(manifest, compact, version)
    worst, same = 0.0, 0
    for conv in conversations:
        sf, sc = full.new_state(conv.id), small.new_state(conv.id)
        af = ac = None
        for m in conv.messages:
            af, ac = full.update(sf, m), small.update(sc, m)
            worst = max(worst, abs(af.risk - ac.risk))
        if af is None or ac is None or (af.flagged, af.alert_at) == (ac.flagged, ac.alert_at):
            same += 1
    return {
        "conversations": len(conversations),
        "max_risk_diff": round(worst, 6),
        "flag_agreement": round(same / len(conversations), 6),
    }


def _detector(manifest: dict[str, Any], arrays: dict[str, np.ndarray], version: str) -> Detector:
    if arrays["dense"].shape[0] != N_DENSE or manifest.get("dense_features") != dense_feature_names():
        raise ModelError("the device model was made for a different feature set; export it again")
    tagger = None
    t_arrays = tagger_arrays(arrays)
    if t_arrays:
        from safeguarding.detection.stages import StageTagger

        tagger = StageTagger.from_arrays(t_arrays)
    weights = weights_from_arrays({**arrays, "text": np.asarray(arrays["text"], dtype=np.float32)})
    return Detector(weights, config_from_manifest(manifest), version=version, tagger=tagger)


def load_device_model(path: str | Path) -> Detector:
    """The detector of a device model directory, after checking its sha256 (no cache: a device loads
    it once at start-up, and a benchmark wants the real cost)."""
    model_dir = Path(path)
    mpath = model_dir / DEVICE_MANIFEST
    if not mpath.is_file():
        if (model_dir / "manifest.json").is_file():
            read_manifest(model_dir)  # a full artifact: say so clearly
            raise ModelError(f"{model_dir} holds a full model; export it with export_device_model first")
        raise ModelError(f"no device model at {model_dir} (missing {DEVICE_MANIFEST})")
    try:
        manifest: dict[str, Any] = json.loads(mpath.read_text())
    except ValueError as exc:
        raise ModelError(f"{mpath}: not valid JSON: {exc}") from exc
    if manifest.get("format") != DEVICE_FORMAT:
        raise ModelError(f"{mpath}: unsupported device model format {manifest.get('format')!r}")
    wpath = model_dir / DEVICE_WEIGHTS
    if not wpath.is_file():
        raise ModelError(f"no {DEVICE_WEIGHTS} in {model_dir}")
    digest = sha256_file(wpath)
    if digest != manifest.get("weights_sha256"):
        raise ArtifactIntegrityError(
            f"{wpath}: sha256 {digest} does not match the manifest; the device model was altered"
        )
    with np.load(wpath, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return _detector(manifest, arrays, str(manifest["version"]))


def device_model_info(path: str | Path) -> dict[str, Any]:
    """The manifest of a device model, for display (size, versions, check results)."""
    model_dir = Path(path)
    doc: dict[str, Any] = json.loads((model_dir / DEVICE_MANIFEST).read_text())
    doc["size_bytes"] = sum((model_dir / n).stat().st_size for n in (DEVICE_MANIFEST, DEVICE_WEIGHTS))
    return doc


__all__ = [
    "DEVICE_FORMAT",
    "MAX_DEVICE_MODEL_BYTES",
    "DeviceModelInfo",
    "device_model_info",
    "export_device_model",
    "load_device_model",
]
