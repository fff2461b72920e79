"""The platform events the engine consumes, as frozen dataclasses.

These are the *inside* form of an event: already validated, times timezone-aware (UTC), ids plain
strings. The JSON form and its validation live in :mod:`safeguarding.events.parse`; the schema is
documented in ``docs/events.md``. Event type names are fixed because tools outside the project rely on
them; fields may be added (with defaults) without a schema version bump.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from safeguarding.types import AgeBand, Assurance

EVENT_SCHEMA_VERSION = 1
"""Version of the JSON event schema. An event may carry ``"v": 1``; other values are rejected."""


class EventType(StrEnum):
    ACCOUNT = "account"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    CONTACT_REQUEST = "contact_request"
    ACCEPT = "accept"
    DECLINE = "decline"
    BLOCK = "block"
    UNBLOCK = "unblock"
    REPORT = "report"
    MESSAGE = "message"
    GROUP_INVITE = "group_invite"
    PARENTAL_CONTROLS = "parental_controls"
    CONTACT_APPROVAL = "contact_approval"


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """An account was created or its profile changed (a later event for the same account replaces it).

    ``age_band`` is derived from ``birth_date`` at each decision when a birth date is given, so a
    17-year-old becomes an adult on their birthday without a new event.
    """

    id: str
    at: datetime
    account: str
    age_band: AgeBand = AgeBand.UNKNOWN
    birth_date: date | None = None
    assurance: Assurance = Assurance.SELF_DECLARED
    created: datetime | None = None
    country: str | None = None
    timezone: str | None = None
    display_name: str | None = None
    """What a linked parent sees as the contact's name (the platform's public name, not a real name)."""

    type = EventType.ACCOUNT


@dataclass(frozen=True, slots=True)
class PairEvent:
    """Base shape of every event between two parties: ``actor`` does something to ``target``."""

    id: str
    at: datetime
    actor: str
    target: str


@dataclass(frozen=True, slots=True)
class FollowEvent(PairEvent):
    type = EventType.FOLLOW


@dataclass(frozen=True, slots=True)
class UnfollowEvent(PairEvent):
    type = EventType.UNFOLLOW


@dataclass(frozen=True, slots=True)
class ContactRequestEvent(PairEvent):
    type = EventType.CONTACT_REQUEST


@dataclass(frozen=True, slots=True)
class AcceptEvent(PairEvent):
    """``actor`` accepts ``target``'s contact request, or ``target``'s invite to ``group`` when set."""

    group: str | None = None

    type = EventType.ACCEPT


@dataclass(frozen=True, slots=True)
class DeclineEvent(PairEvent):
    """``actor`` declines ``target``'s contact request (or group invite when ``group`` is set)."""

    group: str | None = None

    type = EventType.DECLINE


@dataclass(frozen=True, slots=True)
class BlockEvent(PairEvent):
    type = EventType.BLOCK


@dataclass(frozen=True, slots=True)
class UnblockEvent(PairEvent):
    type = EventType.UNBLOCK


@dataclass(frozen=True, slots=True)
class ReportEvent(PairEvent):
    """``actor`` (the reporter) reports ``target`` (the subject)."""

    reason: str = ""
    conversation: str | None = None

    type = EventType.REPORT


@dataclass(frozen=True, slots=True)
class GroupInviteEvent(PairEvent):
    group: str = ""

    type = EventType.GROUP_INVITE


@dataclass(frozen=True, slots=True)
class ParentalControlsEvent:
    """The controls a linked parent (or the platform) set for a child's account; they apply from ``at``.

    ``approval_required``: a new adult may message the child only after a parent approved them.
    ``pause_non_connections``: nobody outside the child's connections may contact them at all.
    """

    id: str
    at: datetime
    account: str
    approval_required: bool = False
    pause_non_connections: bool = False

    type = EventType.PARENTAL_CONTROLS


@dataclass(frozen=True, slots=True)
class ContactApprovalEvent(PairEvent):
    """A parent of ``actor`` (the child) approved, or refused, contact from ``target`` (an adult)."""

    approved: bool = True

    type = EventType.CONTACT_APPROVAL


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A message. ``text`` is None in end-to-end-encrypted mode: signals and policy still apply.

    ``group`` is set for messages in a group chat; without it the message is a direct message to each
    recipient.
    """

    id: str
    at: datetime
    conversation: str
    sender: str
    recipients: tuple[str, ...]
    text: str | None = None
    group: str | None = None
    size: int | None = None

    type = EventType.MESSAGE

    @property
    def direct(self) -> bool:
        return self.group is None


Event = (
    AccountEvent
    | FollowEvent
    | UnfollowEvent
    | ContactRequestEvent
    | AcceptEvent
    | DeclineEvent
    | BlockEvent
    | UnblockEvent
    | ReportEvent
    | GroupInviteEvent
    | MessageEvent
    | ParentalControlsEvent
    | ContactApprovalEvent
)
"""Any event the engine understands."""


def accounts_of(event: Event) -> tuple[str, ...]:
    """Every account an event names (all must be known before the event, except in ``account``)."""
    if isinstance(event, AccountEvent | ParentalControlsEvent):
        return (event.account,)
    if isinstance(event, MessageEvent):
        return (event.sender, *event.recipients)
    return (event.actor, event.target)
