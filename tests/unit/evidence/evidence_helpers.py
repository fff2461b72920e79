"""Shared builders for the evidence tests: a small grooming case recorded into any EvidenceLog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from safeguarding.engine.outcome import Alert, AlertKind, Outcome
from safeguarding.events.types import MessageEvent
from safeguarding.evidence import (
    EvidenceLog,
    IpCapture,
    ReporterInfo,
    record_action,
    record_ip_captures,
    record_messages,
    record_outcome,
)
from safeguarding.policy.model import Decision, Verdict
from safeguarding.types import Reason

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
REPORTER = ReporterInfo(
    company="Example Games Ltd",
    first_name="Sam",
    last_name="Safety",
    email="safety@example.invalid",
    phone="+44 20 0000 0000",
    country="GB",
    terms_of_service_url="https://example.invalid/terms",
    platform="Example Games chat",
)


def grooming_outcome(event: str = "e3", conversation: str = "c1", suspect: str = "m1") -> Outcome:
    decision = Decision(Verdict.HOLD_FOR_REVIEW, "review_grooming", "p1", (Reason("r", "held"),))
    alert = Alert(
        AlertKind.GROOMING,
        suspect,
        conversation,
        0.91,
        ("trust_building", "meeting"),
        (Reason("stage.meeting", "arranging to meet"),),
    )
    return Outcome(event, "message", decision, (alert,))


def messages(conversation: str = "c1", suspect: str = "m1", child: str = "k1") -> list[MessageEvent]:
    texts = [(suspect, "hi, you play too?"), (child, "yes"), (suspect, "let's meet, don't tell your mum")]
    return [
        MessageEvent(f"{conversation}-e{i}", T0 + timedelta(minutes=i), conversation, a, (b,), t)
        for i, (a, t) in enumerate(texts)
        for b in [child if a == suspect else suspect]
    ]


def record_case(log: EvidenceLog, *, conversation: str = "c1", at: datetime = T0) -> None:
    """A full case: the messages, the alert, an unrelated decision, a moderator action and an IP."""
    record_messages(log, messages(conversation), actor="engine", at=at)
    record_outcome(log, grooming_outcome(conversation=conversation), actor="engine", at=at)
    record_action(
        log, action="escalate_to_referral", actor="mod@example", at=at, reason="meeting arranged",
        conversation=conversation, subject="m1", ref="e3:0",
    )  # fmt: skip
    record_ip_captures(
        log,
        [IpCapture("m1", "203.0.113.7", "login", at, port=51234, possible_proxy=False)],
        actor="platform",
        at=at,
    )
