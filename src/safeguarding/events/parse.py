"""JSON events in, validated frozen events out: the edge where platform input is checked.

Pydantic does the field checking; this module turns its errors into one :class:`EventError` that names
the event id (and the input line when known) and says what is wrong in a sentence, because the person
reading it is an operator looking at a JSONL file, not a Python developer.

Unknown extra fields are ignored (platforms may send more than we use); an unknown ``type``, a missing
required field or a wrong value type is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from safeguarding.errors import EventError
from safeguarding.events.types import (
    EVENT_SCHEMA_VERSION,
    AcceptEvent,
    AccountEvent,
    BlockEvent,
    ContactApprovalEvent,
    ContactRequestEvent,
    DeclineEvent,
    Event,
    EventType,
    FollowEvent,
    GroupInviteEvent,
    MessageEvent,
    ParentalControlsEvent,
    ReportEvent,
    UnblockEvent,
    UnfollowEvent,
)
from safeguarding.types import AgeBand, Assurance

MAX_ID_CHARS = 256
MAX_TEXT_CHARS = 100_000
MAX_RECIPIENTS = 1_000

Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS, strip_whitespace=False)]


def _check_zone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/London')") from None
    return name


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time is out of range once converted to UTC") from None


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time has no zone; add 'Z' or an offset such as '+01:00'")
    return _utc(value)


Zone = Annotated[str | None, AfterValidator(_check_zone)]
# Times must say their zone: a naive time would silently shift night-time signals by hours.
Instant = Annotated[datetime, AfterValidator(_require_aware)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=False)

    id: Id
    v: Literal[1] = 1
    at: Instant


class _AccountIn(_In):
    type: Literal["account"]
    account: Id
    age_band: AgeBand | None = None
    birth_date: date | None = None
    assurance: Assurance = Assurance.SELF_DECLARED
    created: Instant | None = None
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)] | None = None
    timezone: Zone = None
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None

    def to_event(self) -> AccountEvent:
        band = self.age_band if self.age_band is not None else AgeBand.UNKNOWN
        return AccountEvent(
            id=self.id,
            at=self.at,
            account=self.account,
            age_band=band,
            birth_date=self.birth_date,
            assurance=self.assurance,
            created=self.created,
            country=self.country.upper() if self.country else None,
            timezone=self.timezone,
            display_name=self.display_name,
        )


class _ParentalControlsIn(_In):
    type: Literal["parental_controls"]
    account: Id
    approval_required: bool = False
    pause_non_connections: bool = False


class _PairIn(_In):
    actor: Annotated[Id, Field(validation_alias=AliasChoices("actor", "reporter"))]
    target: Annotated[Id, Field(validation_alias=AliasChoices("target", "subject"))]


class _FollowIn(_PairIn):
    type: Literal["follow"]


class _UnfollowIn(_PairIn):
    type: Literal["unfollow"]


class _ContactRequestIn(_PairIn):
    type: Literal["contact_request"]


class _AcceptIn(_PairIn):
    type: Literal["accept"]
    group: Id | None = None


class _DeclineIn(_PairIn):
    type: Literal["decline"]
    group: Id | None = None


class _BlockIn(_PairIn):
    type: Literal["block"]


class _UnblockIn(_PairIn):
    type: Literal["unblock"]


class _ReportIn(_PairIn):
    type: Literal["report"]
    reason: Annotated[str, StringConstraints(max_length=1000)] = ""
    conversation: Id | None = None


class _GroupInviteIn(_PairIn):
    type: Literal["group_invite"]
    group: Id


class _ContactApprovalIn(_PairIn):
    type: Literal["contact_approval"]
    approved: bool = True


class _MessageIn(_In):
    type: Literal["message"]
    conversation: Id
    sender: Id
    recipients: Annotated[list[Id], Field(min_length=1, max_length=MAX_RECIPIENTS)]
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)] | None = None
    group: Id | None = None
    size: Annotated[int, Field(ge=0)] | None = None

    def to_event(self) -> MessageEvent:
        return MessageEvent(
            id=self.id,
            at=self.at,
            conversation=self.conversation,
            sender=self.sender,
            recipients=tuple(self.recipients),
            text=self.text,
            group=self.group,
            size=self.size,
        )


_PAIR_TYPES: dict[str, tuple[type[_PairIn], type[Event]]] = {
    "follow": (_FollowIn, FollowEvent),
    "unfollow": (_UnfollowIn, UnfollowEvent),
    "contact_request": (_ContactRequestIn, ContactRequestEvent),
    "block": (_BlockIn, BlockEvent),
    "unblock": (_UnblockIn, UnblockEvent),
}
EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)


def _describe(err: PydanticValidationError) -> str:
    """One readable sentence per problem: ``missing field 'recipients'``, ``'at': time has no zone``."""
    parts: list[str] = []
    for e in err.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"]) or "event"
        kind = e["type"]
        if kind == "missing":
            parts.append(f"missing field {loc!r}")
        else:
            msg = str(e["msg"]).removeprefix("Value error, ")
            parts.append(f"field {loc!r}: {msg}")
    return "; ".join(parts)


def parse_event(raw: Mapping[str, Any], *, where: str | None = None) -> Event:
    """Validate one decoded JSON object and return the event; :class:`EventError` names its id."""
    if not isinstance(raw, Mapping):
        raise EventError("an event must be a JSON object", where=where)
    event_id = raw.get("id")
    eid = event_id if isinstance(event_id, str) and event_id else None
    label = f"{where}: event {eid!r}" if where and eid else where
    if eid is None:
        raise EventError("missing field 'id' (every event needs a platform-unique id)", where=where)
    kind = raw.get("type")
    if kind is None:
        raise EventError("missing field 'type'", event_id=eid, where=label)
    if kind not in EVENT_TYPES:
        raise EventError(
            f"unknown event type {kind!r} (expected one of: {', '.join(EVENT_TYPES)})",
            event_id=eid,
            where=label,
        )
    version = raw.get("v", EVENT_SCHEMA_VERSION)
    if version != EVENT_SCHEMA_VERSION:
        raise EventError(
            f"unsupported schema version {version!r} (this build reads v{EVENT_SCHEMA_VERSION})",
            event_id=eid,
            where=label,
        )
    try:
        return _convert(kind, raw)
    except PydanticValidationError as exc:
        raise EventError(_describe(exc), event_id=eid, where=label) from None
    except ValueError as exc:  # semantic checks in _convert
        raise EventError(str(exc), event_id=eid, where=label) from None


def _convert(kind: str, raw: Mapping[str, Any]) -> Event:
    if kind == "message":
        msg = _MessageIn.model_validate(raw).to_event()
        if msg.sender in msg.recipients:
            raise ValueError("the sender is also listed as a recipient")
        if len(set(msg.recipients)) != len(msg.recipients):
            raise ValueError("a recipient is listed twice")
        return msg
    if kind == "account":
        acc = _AccountIn.model_validate(raw)
        if acc.age_band is not None and acc.birth_date is not None:
            raise ValueError("give either 'age_band' or 'birth_date', not both")
        return acc.to_event()
    if kind == "parental_controls":
        pc = _ParentalControlsIn.model_validate(raw)
        return ParentalControlsEvent(
            id=pc.id,
            at=pc.at,
            account=pc.account,
            approval_required=pc.approval_required,
            pause_non_connections=pc.pause_non_connections,
        )
    if kind == "contact_approval":
        ca = _ContactApprovalIn.model_validate(raw)
        _check_pair(ca.actor, ca.target)
        return ContactApprovalEvent(
            id=ca.id, at=ca.at, actor=ca.actor, target=ca.target, approved=ca.approved
        )
    if kind in _PAIR_TYPES:
        model, cls = _PAIR_TYPES[kind]
        p = model.model_validate(raw)
        _check_pair(p.actor, p.target)
        return cls(id=p.id, at=p.at, actor=p.actor, target=p.target)  # type: ignore[call-arg]
    if kind == "accept" or kind == "decline":
        ad = (_AcceptIn if kind == "accept" else _DeclineIn).model_validate(raw)
        _check_pair(ad.actor, ad.target)
        cls2 = AcceptEvent if kind == "accept" else DeclineEvent
        return cls2(id=ad.id, at=ad.at, actor=ad.actor, target=ad.target, group=ad.group)
    if kind == "report":
        r = _ReportIn.model_validate(raw)
        _check_pair(r.actor, r.target)
        return ReportEvent(
            id=r.id, at=r.at, actor=r.actor, target=r.target, reason=r.reason, conversation=r.conversation
        )
    g = _GroupInviteIn.model_validate(raw)
    _check_pair(g.actor, g.target)
    return GroupInviteEvent(id=g.id, at=g.at, actor=g.actor, target=g.target, group=g.group)


def _check_pair(actor: str, target: str) -> None:
    if actor == target:
        raise ValueError("'actor' and 'target' are the same account")


def parse_json_line(line: str, *, where: str | None = None) -> Event:
    """Parse one JSONL line (the replay and CLI input format)."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"not valid JSON ({exc.msg} at column {exc.colno})", where=where) from None
    return parse_event(raw, where=where)


def read_jsonl(lines: Iterator[str] | list[str], *, name: str = "<input>") -> Iterator[Event | EventError]:
    """Yield an event or an :class:`EventError` per non-blank line, so one bad line never stops a stream."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_json_line(line, where=f"{name}:{n}")
        except EventError as exc:
            yield exc


def event_json_schema() -> dict[str, Any]:
    """JSON Schema of every event type (for the docs and the HTTP API's OpenAPI document)."""
    models: list[type[_In]] = [
        _AccountIn,
        _FollowIn,
        _UnfollowIn,
        _ContactRequestIn,
        _AcceptIn,
        _DeclineIn,
        _BlockIn,
        _UnblockIn,
        _ReportIn,
        _MessageIn,
        _GroupInviteIn,
        _ParentalControlsIn,
        _ContactApprovalIn,
    ]
    return {m.model_fields["type"].annotation.__args__[0]: m.model_json_schema() for m in models}  # type: ignore[union-attr]
