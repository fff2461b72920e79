"""Text normalisation and hashed token features.

Tokens are hashed into a fixed number of buckets with CRC-32, so the shipped model holds weights per
bucket and never a vocabulary: no training sentence can be read back out of it. CRC-32 (not ``hash``)
keeps the buckets identical across processes and machines.

The functions here sit on the hot path of streaming scoring (tens of thousands of messages a second on
one core), hence the small caches and the plain loops.
"""

from __future__ import annotations

import re
import unicodedata
from zlib import crc32

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
    """:func:`hashed_features` of text already passed through :func:`normalise`."""
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
