"""Load a detector from a model directory, the bundled one by default (lazily, once per process)."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

from safeguarding.detection.artifact import (
    config_from_manifest,
    load_arrays,
    tagger_arrays,
    weights_from_arrays,
)
from safeguarding.detection.streaming import Detector
from safeguarding.errors import ModelError

BUNDLED_MODEL = "grooming"

_lock = threading.Lock()
_cache: dict[Path, Detector] = {}


def bundled_model_dir() -> Path:
    return Path(str(resources.files("safeguarding") / "models" / BUNDLED_MODEL))


def load_detector(path: str | Path | None = None) -> Detector:
    """The detector stored at ``path`` (default: the model shipped in the package).

    The sha256 of the weights is checked against the manifest; an altered artifact raises
    :class:`~safeguarding.errors.ArtifactIntegrityError`. Loaded detectors are cached per path.
    """
    model_dir = Path(path).resolve() if path is not None else bundled_model_dir()
    with _lock:
        det = _cache.get(model_dir)
        if det is None:
            det = _cache[model_dir] = _load(model_dir)
        return det


def _load(model_dir: Path) -> Detector:
    if not model_dir.is_dir():
        raise ModelError(f"no model directory at {model_dir}")
    manifest, arrays = load_arrays(model_dir)
    tagger = None
    t_arrays = tagger_arrays(arrays)
    if t_arrays:
        from safeguarding.detection.stages import StageTagger

        tagger = StageTagger.from_arrays(t_arrays)
    return Detector(
        weights_from_arrays(arrays),
        config_from_manifest(manifest),
        version=str(manifest["version"]),
        tagger=tagger,
    )
