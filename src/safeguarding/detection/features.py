"""Text normalisation and hashed token features.

Tokens are hashed into a fixed number of buckets with CRC-32, so the shipped model holds weights per
bucket and never a vocabulary: no training sentence can be read back out of it. CRC-32 (not ``hash``)
keeps the buckets identical across processes and machines.

The functions here sit on the hot path of streaming scoring (tens of thousands of messages a second on
one core), hence the small caches and the plain loops, and :class:`TextScorer`'s optional C accelerator
(``_speedups.c``, built at install when a C compiler is there; bit-identical results, a test checks it).
"""

from __future__ import annotations

import functools
import math
import os
import re
import unicodedata
from collections.abc import Callable
from types import ModuleType
from zlib import crc32

import numpy as np

N_BUCKETS = 1 << 18
"""Default hashing space; a model artifact records the value it was trained with."""

MAX_CHARS = 2000
"""Only the first characters of a message are scored: a 1 MB message costs the same as a long one."""

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\s\w]", re.UNICODE)
_REPEAT3_RE = re.compile(r"(.)\1\1")
_REPEAT_RE = re.compile(r"(.)\1{2,}")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalise(text: str) -> str:
    """Lower-case, NFKC-fold, typographic apostrophes to ``'``, control characters to spaces, and letters
    repeated 3+ times squeezed to two: ``"Heyyyy   CUTIE!!!"`` becomes ``"heyy   cutie!!"``.

    Each costly step runs only when a cheap test says it would change something: this is on the hot path.
    """
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    text = text.lower()
    if not text.isprintable():
        text = _CONTROL_RE.sub(" ", text)
    if _REPEAT3_RE.search(text):
        text = _REPEAT_RE.sub(r"\1\1", text)
    return text


def tokens(text: str) -> list[str]:
    """Word tokens (with a trailing ``'s``-style clitic) and single punctuation/emoji symbols."""
    return _TOKEN_RE.findall(normalise(text))


_CACHE_LIMIT = 1 << 18
_caches: dict[int, dict[str, int]] = {}


def _bucket(token: str, n_buckets: int) -> int:
    return crc32(token.encode("utf-8", "surrogatepass")) % n_buckets


def hashed_features(text: str, n_buckets: int = N_BUCKETS) -> list[int]:
    """Bucket ids of unigrams and bigrams (with sentence boundary markers) of ``text``.

    Repeated buckets are kept; callers decide whether to count or binarise them.
    """
    return hashed_normalised(normalise(text), n_buckets)


def hashed_normalised(norm: str, n_buckets: int = N_BUCKETS) -> list[int]:
    """:func:`hashed_features` of text already passed through :func:`normalise` (in C when the
    accelerator was built: the same list)."""
    native = accelerator()
    if native is not None:
        out: list[int] | None = native.buckets(norm, n_buckets)
        if out is not None:
            return out
    return python_hashed(norm, n_buckets)


def python_hashed(norm: str, n_buckets: int = N_BUCKETS) -> list[int]:
    """The pure-Python :func:`hashed_normalised` (the reference the accelerator must match)."""
    toks = _TOKEN_RE.findall(norm)
    cache = _caches.get(n_buckets)
    if cache is None or len(cache) > _CACHE_LIMIT:
        cache = _caches[n_buckets] = {}
    get = cache.get
    out: list[int] = []
    prev = "<s>"
    for t in toks:
        b = get(t)
        if b is None:
            b = cache[t] = _bucket(t, n_buckets)
        out.append(b)
        bigram = prev + " " + t
        b = get(bigram)
        if b is None:
            b = cache[bigram] = _bucket(bigram, n_buckets)
        out.append(b)
        prev = t
    if toks:
        out.append(_bucket(prev + " </s>", n_buckets))
    return out


def hashed_counts(
    norm: str, n_buckets: int = N_BUCKETS, hashed: Callable[[str, int], list[int]] | None = None
) -> tuple[dict[int, int], int]:
    """Bucket counts of :func:`hashed_normalised` (in order of first occurrence) and the sum of their
    squares (the squared L2 norm of the message's count vector)."""
    counts: dict[int, int] = {}
    get = counts.get
    sq = 0
    for b in (hashed or hashed_normalised)(norm, n_buckets):
        c = get(b, 0)
        counts[b] = c + 1
        sq += 2 * c + 1  # (c+1)^2 - c^2
    return counts, sq


@functools.cache
def accelerator() -> ModuleType | None:
    """The C accelerator, unless it was not built or ``SAFEGUARDING_PURE_PYTHON`` is set (read once)."""
    if os.environ.get("SAFEGUARDING_PURE_PYTHON", "").strip() not in ("", "0"):
        return None
    try:
        from safeguarding.detection import _speedups
    except ImportError:  # installed without a C compiler: the Python path gives the same numbers
        return None
    return _speedups


class TextScorer:
    """The text half of a message's score: its L2-normalised hashed n-gram vector dotted with the model's
    text weights, from normalised text. Uses the C accelerator when it was built (a text past its length
    cap falls back here) unless ``SAFEGUARDING_PURE_PYTHON`` is set; both paths agree to the bit.
    """

    def __init__(self, weights: np.ndarray) -> None:
        w64 = np.ascontiguousarray(weights, dtype=np.float64)
        self.n_buckets = int(w64.shape[0])
        self._native = accelerator()
        # The accelerator reads the bytes; the Python path a list of floats (8 MB for 2^18 buckets),
        # built only when that path first runs.
        self._weights_bytes = w64.tobytes()
        self._weights_list: list[float] | None = None if self._native is not None else w64.tolist()

    @property
    def native(self) -> bool:
        """Whether the C accelerator is in use."""
        return self._native is not None

    def dot(self, norm: str) -> float:
        if self._native is not None:
            r: float | None = self._native.text_dot(norm, self._weights_bytes, self.n_buckets)
            if r is not None:
                return r
        return self.python_dot(norm)

    def python_dot(self, norm: str) -> float:
        """The pure-Python computation (the reference the accelerator must match)."""
        counts, sq = hashed_counts(norm, self.n_buckets, python_hashed)
        tw = self._weights_list
        if tw is None:
            tw = self._weights_list = np.frombuffer(self._weights_bytes, dtype=np.float64).tolist()
        dot = 0.0
        for b, v in counts.items():
            dot += tw[b] * v
        return dot * (1.0 / math.sqrt(sq) if sq else 0.0)
