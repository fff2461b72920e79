"""Canonical bytes for signing and MACs, and strict parsing of the JSON wire form.

Why length-prefixing: a MAC or signature over ``"a" + "bc"`` must differ from one over ``"ab" + "c"``;
joining with a separator is only safe if no field can contain it, and ids here are platform strings.
Every signed or MACed input therefore starts with a domain label (so a signature made for one purpose can
never be replayed as another) followed by length-prefixed fields.

Why strict parsing: the wire objects are the privacy boundary. An unknown field is refused rather than
ignored, so a modified app cannot smuggle message text into, say, a device alert that the server stores.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from safeguarding.e2ee.reasons import Rejection, VerificationError

MAX_ID_CHARS = 256
MAX_RECIPIENTS = 1_000

Json = str | int | float | bool | None | list["Json"] | dict[str, "Json"]
"""A JSON value as :func:`json.loads` returns it."""


def lp(domain: str, *parts: str | bytes) -> bytes:
    """``domain`` then each part as a 4-byte big-endian length and its bytes (UTF-8 for text)."""
    out = bytearray()
    for part in (domain, *parts):
        raw = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        out += len(raw).to_bytes(4, "big")
        out += raw
    return bytes(out)


def members_part(accounts: Sequence[str]) -> bytes:
    """A set of accounts as one canonical part: sorted, each length-prefixed (order never matters)."""
    return lp("set", *sorted(accounts))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def utc_iso(value: datetime) -> str:
    """The one text form of a time that is signed or MACed: UTC, microseconds, ``Z``."""
    if value.tzinfo is None:
        raise ValueError("time has no zone")
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def malformed(kind: str, reason: str) -> VerificationError:
    return VerificationError(Rejection.MALFORMED, f"{kind}: {reason}")


def check_id(kind: str, name: str, value: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_CHARS:
        raise malformed(kind, f"field {name!r} must be a string of 1-{MAX_ID_CHARS} characters")
    return value


def check_recipients(kind: str, sender: str, recipients: Sequence[str]) -> tuple[str, ...]:
    """Recipients as the engine's events require them: 1-1000, distinct, never the sender."""
    out = tuple(check_id(kind, "recipients", r) for r in recipients)
    if not 1 <= len(out) <= MAX_RECIPIENTS:
        raise malformed(kind, f"needs 1-{MAX_RECIPIENTS} recipients, got {len(out)}")
    if len(set(out)) != len(out):
        raise malformed(kind, "recipients are not distinct")
    if sender in out:
        raise malformed(kind, "the sender cannot be one of the recipients")
    return out


def check_bytes(kind: str, name: str, value: bytes, *, size: int | None = None, max_size: int = 0) -> bytes:
    if not isinstance(value, bytes):
        raise malformed(kind, f"field {name!r} must be bytes")
    if size is not None and len(value) != size:
        raise malformed(kind, f"field {name!r} must be {size} bytes, got {len(value)}")
    if max_size and len(value) > max_size:
        raise malformed(kind, f"field {name!r} is larger than {max_size} bytes")
    return value


def check_time(kind: str, name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise malformed(kind, f"field {name!r} must be a time with a zone")
    return value.astimezone(UTC)


class Reader:
    """Reads one wire object from a JSON mapping; every field must be read and no other may be present."""

    def __init__(self, kind: str, data: object) -> None:
        if not isinstance(data, Mapping):
            raise malformed(kind, f"expected a JSON object, got {type(data).__name__}")
        self.kind = kind
        self.data: Mapping[str, object] = data
        self.seen: set[str] = set()

    def _get(self, name: str, *, optional: bool = False) -> object:
        self.seen.add(name)
        if name not in self.data:
            if optional:
                return None
            raise malformed(self.kind, f"missing field {name!r}")
        return self.data[name]

    def ident(self, name: str) -> str:
        return check_id(self.kind, name, self._get(name))  # type: ignore[arg-type]

    def text(self, name: str, *, max_chars: int) -> str:
        value = self._get(name)
        if not isinstance(value, str) or len(value) > max_chars:
            raise malformed(self.kind, f"field {name!r} must be a string of at most {max_chars} characters")
        return value

    def opt_ident(self, name: str) -> str | None:
        value = self._get(name, optional=True)
        return None if value is None else check_id(self.kind, name, value)  # type: ignore[arg-type]

    def idents(self, name: str, *, max_items: int = MAX_RECIPIENTS) -> tuple[str, ...]:
        value = self._get(name)
        if not isinstance(value, list) or len(value) > max_items:
            raise malformed(self.kind, f"field {name!r} must be a list of at most {max_items} strings")
        return tuple(check_id(self.kind, name, v) for v in value)

    def blob(self, name: str, *, size: int | None = None, max_size: int = 0) -> bytes:
        value = self._get(name)
        if not isinstance(value, str):
            raise malformed(self.kind, f"field {name!r} must be base64 text")
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise malformed(self.kind, f"field {name!r} is not valid base64") from None
        return check_bytes(self.kind, name, raw, size=size, max_size=max_size)

    def time(self, name: str) -> datetime:
        value = self._get(name)
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise malformed(self.kind, f"field {name!r} must be an ISO 8601 time with a zone")
        return parsed.astimezone(UTC)

    def number(self, name: str) -> float:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise malformed(self.kind, f"field {name!r} must be a number")
        return float(value)

    def objects(self, name: str, *, max_items: int) -> list[object]:
        value = self._get(name)
        if not isinstance(value, list) or not 1 <= len(value) <= max_items:
            raise malformed(self.kind, f"field {name!r} must be a list of 1-{max_items} objects")
        return list(value)

    def done(self) -> None:
        extra = sorted(set(self.data) - self.seen)
        if extra:
            raise malformed(self.kind, f"unknown field(s) {', '.join(map(repr, extra))}")
