"""Canonical bytes for signing and MACs, and strict parsing of the JSON wire form.

Why length-prefixing: a MAC or signature over ``"a" + "bc"`` must differ from one over ``"ab" + "c"``;
joining with a separator is only safe if no field can contain it, and ids here are platform strings.
Every signed or MACed input therefore starts with a domain label (so a signature made for one purpose can
never be replayed as another) followed by length-prefixed fields.

Why strict parsing: the wire objects are the privacy boundary. An unknown field is refused rather than
ignored, so a modified app cannot smuggle message text into, say, a device alert that the server stores.

Why declarative: each wire dataclass says once, in its fields' ``metadata`` (:data:`ID`, :func:`blob` ...),
how a field travels; :func:`to_wire` and :func:`from_wire` walk the fields in declaration order, so the
JSON keys, their order and their encodings follow from that one declaration and cannot drift between
writing and reading (``tests/unit/e2ee/test_e2ee_wire_format.py`` pins the bytes).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import Field, dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from safeguarding.e2ee.reasons import Rejection, VerificationError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

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

    def value(self, name: str) -> object:
        """The raw value (``None`` if absent), for a nested object whose own reader checks it."""
        return self._get(name, optional=True)

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


@dataclass(frozen=True, slots=True)
class Wire:
    """How one field of a wire dataclass travels: ``dump`` to JSON, ``load`` back with a :class:`Reader`."""

    dump: Callable[[Any], Json]
    load: Callable[[Reader, str], object]


WIRE = "wire"


def wire(dump: Callable[[Any], Json], load: Callable[[Reader, str], object]) -> Mapping[str, Wire]:
    """A field's ``metadata``: ``name: str = field(metadata=wire(...))``, or one of the shapes below."""
    return {WIRE: Wire(dump, load)}


ID = wire(str, Reader.ident)  # str() also writes a StrEnum as its value
OPT_ID = wire(lambda v: v, Reader.opt_ident)
TIME = wire(utc_iso, Reader.time)
NUMBER = wire(lambda v: v, Reader.number)
INTEGER = wire(lambda v: v, lambda r, name: int(r.number(name)))


def idents(*, max_items: int = MAX_RECIPIENTS) -> Mapping[str, Wire]:
    return wire(lambda v: [str(x) for x in v], lambda r, name: r.idents(name, max_items=max_items))


IDS = idents()


def blob(*, size: int | None = None, max_size: int = 0) -> Mapping[str, Wire]:
    return wire(b64, lambda r, name: r.blob(name, size=size, max_size=max_size))


def free_text(*, max_chars: int) -> Mapping[str, Wire]:
    return wire(lambda v: v, lambda r, name: r.text(name, max_chars=max_chars))


def nested(cls: type[WireObject]) -> Mapping[str, Wire]:
    """One wire object inside another; it is read (and refused) by its own type."""
    return wire(lambda v: v.to_dict(), lambda r, name: cls.from_dict(r.value(name)))


def nested_list(cls: type[WireObject], *, max_items: int) -> Mapping[str, Wire]:
    """A list of 1-``max_items`` wire objects of one type."""
    return wire(
        lambda v: [m.to_dict() for m in v],
        lambda r, name: tuple(cls.from_dict(m) for m in r.objects(name, max_items=max_items)),
    )


T = TypeVar("T", bound="DataclassInstance")


def to_wire(obj: DataclassInstance) -> dict[str, Json]:
    """Every field of ``obj`` in declaration order, each written as its ``metadata`` says."""
    return {f.name: f.metadata[WIRE].dump(getattr(obj, f.name)) for f in fields(obj)}


def from_wire(cls: type[T], what: str, data: object) -> T:
    """Read a ``cls`` (called ``what`` in errors): fields in declaration order, then no unknown field."""
    r = Reader(what, data)
    out = cls(**{f.name: f.metadata[WIRE].load(r, f.name) for f in fields(cls)})
    r.done()
    return out


class WireObject:
    """Base of the wire dataclasses: ``to_dict``/``from_dict`` from the fields' ``metadata``."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    wire_name: ClassVar[str]
    """What refusals call this type (``"envelope"``, ``"device alert"`` ...)."""

    def to_dict(self) -> dict[str, Json]:
        return to_wire(self)

    @classmethod
    def from_dict(cls, data: object) -> Self:
        return from_wire(cls, cls.wire_name, data)
