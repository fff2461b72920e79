"""Canonical JSON and the hashes built on it.

Why canonical: a hash only proves something if anyone can recompute it from the same bytes. Keys are
sorted, there is no insignificant whitespace, text is UTF-8 (not ``\\u`` escaped), and NaN/Infinity are
refused. The chained *envelope* of an entry holds only integers and strings, so a verifier in any
language reproduces it exactly; payloads are stored as the very canonical text that was hashed, so
verifying them never depends on re-serialising numbers.
"""

from __future__ import annotations

import hashlib
import json
from typing import TypeAlias

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
"""A JSON document as Python values (what crosses the evidence API instead of ``dict[str, Any]``)."""

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry of every chain."""


def canonical_json(value: JsonValue) -> str:
    """``value`` as canonical JSON text: sorted keys, ``,``/``:`` separators, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(data: bytes | str) -> str:
    """Lower-case hex sha256 of ``data`` (text is encoded as UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def chain_hash(prev_hash: str, envelope: str) -> str:
    """``sha256(prev_hash || envelope)``: the previous entry's hex hash, then the canonical envelope.

    Hex text rather than raw bytes so that ``printf '%s%s' "$prev" "$json" | sha256sum`` reproduces it.
    """
    return sha256_hex(prev_hash + envelope)
