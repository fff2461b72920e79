"""Bodies a platform's servers exchange with the service: events, contact decisions, alerts, risk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from safeguarding.policy.model import Action, Verdict
from safeguarding.types import Reason

Id = Annotated[str, StringConstraints(min_length=1, max_length=256)]


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def check_instant(value: datetime) -> datetime:
    """A time with a zone, within 1970-2199 (what a platform can mean; also what the store can hold)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time has no zone; add 'Z' or an offset such as '+01:00'")
    if not EARLIEST <= value < LATEST:
        raise ValueError("time out of range (1970 to 2199)")
    return value


Instant = Annotated[datetime, AfterValidator(check_instant)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReasonOut(_Out):
    code: str
    message: str
    weight: float = 0.0

    @classmethod
    def of(cls, r: Reason) -> ReasonOut:
        return cls(code=r.code, message=r.message, weight=r.weight)


# -- contact decisions ---------------------------------------------------------------------------------


class ContactDecisionIn(_In):
    """May ``sender`` do ``action`` to ``recipient``? (``suggest``: may the recipient be shown?)"""

    action: Action
    sender: Id
    recipient: Id
    group: Id | None = None
    conversation: Id | None = Field(default=None, description="lets a flagged conversation weigh in")
    at: Instant | None = Field(default=None, description="when; default now")


class ContactDecisionOut(_Out):
    decision: Verdict
    allowed: bool = Field(description="true when the action may go ahead now (perhaps with a notice)")
    rule: str | None
    notice: str | None
    reasons: list[ReasonOut]
    policy_version: str


# -- events (documentation models; the route validates each event itself) -----------------------------


class AlertBriefOut(_Out):
    kind: str
    subject: str | None
    conversation: str | None
    risk: float
    stages: list[str]
    reasons: list[ReasonOut]


class RecipientOut(_Out):
    recipient: str
    decision: Verdict
    rule: str | None
    notice: str | None


class EventResultOut(_Out):
    event: str | None
    status: Literal["processed", "duplicate", "rejected"]
    type: str | None = None
    decision: Verdict | None = None
    rule: str | None = None
    notice: str | None = None
    reasons: list[ReasonOut] = []
    alerts: list[AlertBriefOut] = []
    recipients: list[RecipientOut] | None = None
    error: str | None = Field(default=None, description="why a rejected event was rejected")


class BatchOut(_Out):
    results: list[EventResultOut] = Field(description="one per event, in order")
    processed: int
    duplicates: int
    rejected: int


# -- alerts and risk --------------------------------------------------------------------------------------


class AlertOut(_Out):
    id: str = Field(description="'<event id>:<n>', also the webhook's idempotency key")
    kind: str
    subject: str | None
    conversation: str | None
    risk: float
    stages: list[str]
    reasons: list[ReasonOut]
    event: str
    event_at: datetime
    created_at: datetime
    status: str


class AlertPageOut(_Out):
    alerts: list[AlertOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page; null at the end")


class ConversationRiskOut(_Out):
    conversation: str
    risk: float
    flagged: bool
    suspect: str | None
    stages: list[str]
    messages: int = Field(description="messages scored so far")
    updated_at: datetime | None
    model_version: str
    reasons: list[ReasonOut]
    alerts: list[AlertOut]


class SignalOut(_Out):
    name: str
    value: float
    score: float
    weight: float
    contribution: float
    reason: str


class AccountRiskOut(_Out):
    account: str
    risk: float
    age_band: str
    assurance: str
    signals: list[SignalOut]
    reasons: list[ReasonOut]
    alerts: list[AlertOut]


class HealthOut(_Out):
    status: Literal["ok", "degraded"]
    live: bool
    ready: bool
    version: str
    checks: dict[str, str]
    model: dict[str, Any]
    policy: dict[str, str]
