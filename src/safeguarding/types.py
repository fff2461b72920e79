"""Core value types shared by every part of Safeguarding.

Frozen dataclasses only: they cross package boundaries instead of ``dict[str, Any]``.
Pydantic models live at the edges (service, CLI input); they convert into these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    """Grooming stages used in explanations (after O'Connell and the ChatCoder scheme)."""

    TRUST_BUILDING = "trust_building"
    INFORMATION_GATHERING = "information_gathering"
    SECRECY_ISOLATION = "secrecy_isolation"
    SEXUALISATION = "sexualisation"
    CONTROL_COERCION = "control_coercion"
    OFF_PLATFORM = "off_platform"
    MEETING = "meeting"
    GIFTS = "gifts"


STAGES: tuple[Stage, ...] = tuple(Stage)


class AgeBand(StrEnum):
    UNDER_13 = "under_13"
    AGE_13_15 = "13_15"
    AGE_16_17 = "16_17"
    ADULT = "adult"
    UNKNOWN = "unknown"


class Assurance(StrEnum):
    SELF_DECLARED = "self_declared"
    ESTIMATED = "estimated"
    VERIFIED = "verified"


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message as the detector sees it. ``time`` is kept as given (ISO, ``HH:MM`` or None)."""

    author: str
    text: str
    time: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """An ordered list of messages. One author only means: that author's message stream."""

    id: str
    messages: tuple[Message, ...]
    source: str = ""

    @property
    def authors(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for m in self.messages:
            seen.setdefault(m.author, None)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class Reason:
    """A machine-readable code plus a sentence a moderator can read."""

    code: str
    message: str
    weight: float = 0.0


@dataclass(frozen=True, slots=True)
class DrivingMessage:
    """A message that pushed a risk score up, with the stages it showed."""

    index: int
    author: str
    contribution: float
    stages: tuple[Stage, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorRisk:
    author: str
    risk: float
    n_messages: int
    stages: tuple[Stage, ...] = ()


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the streaming detector says after a message.

    ``risk`` is calibrated in [0, 1]; ``flagged`` is sticky: once the alert is raised at ``alert_at``
    (0-based index of the message after which it was raised), it stays raised.
    """

    conversation: str
    index: int
    risk: float
    flagged: bool
    alert_at: int | None
    suspect: str | None
    stages: tuple[Stage, ...]
    evidence: tuple[DrivingMessage, ...] = ()
    authors: tuple[AuthorRisk, ...] = ()
    reasons: tuple[Reason, ...] = ()
    model_version: str = ""
