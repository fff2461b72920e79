"""What goes into the evidence log: alerts, decisions, moderator actions, preserved messages, IPs.

These helpers only *build payloads* and call :meth:`EvidenceLog.append_many`; they never commit. The
service calls them with a log bound to the connection of the transaction that stores the batch, so
an alert and its evidence entry are committed together or not at all. The ``*_drafts`` functions build
the same entries without appending them, so a caller can gather a whole batch's entries and append them
with one call (what :func:`~safeguarding.store.moderation.preserve_batch` does).

Payload shape: every payload is a JSON object; ``conversation``, ``subject`` and ``ref`` (when
present) are the lookup keys a case is found by (see :func:`~safeguarding.evidence.chain.keys_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from safeguarding.engine.outcome import Outcome
from safeguarding.events.types import MessageEvent
from safeguarding.evidence.canonical import JsonValue
from safeguarding.evidence.chain import EntryDraft, EntryKind, EvidenceEntry, EvidenceLog, iso
from safeguarding.policy.model import Verdict
from safeguarding.types import Reason


class ModerationAction:
    """Names of moderator actions (strings, so the console may add its own)."""

    DISMISS = "dismiss"
    WARN = "warn"
    RESTRICT = "restrict_contact_with_minors"
    SUSPEND = "suspend"
    ESCALATE = "escalate_to_referral"
    APPEAL = "appeal"
    APPEAL_UPHELD = "appeal_upheld"
    APPEAL_REJECTED = "appeal_rejected"


def _reasons(reasons: Iterable[Reason]) -> list[JsonValue]:
    return [{"code": r.code, "message": r.message} for r in reasons]


def record_outcome(
    log: EvidenceLog,
    outcome: Outcome,
    *,
    actor: str,
    at: datetime,
    conversation: str | None = None,
    subject: str | None = None,
    include_allowed: bool = False,
) -> list[EvidenceEntry]:
    """Append the alerts of ``outcome`` and its decision (unless a plain allow) to ``log``.

    Why plain allows are skipped by default: they are most events, carry nothing a court needs, and
    would bury the cases in noise; ``include_allowed`` keeps them for platforms that want every one.
    ``conversation``/``subject`` locate a *decision* (the outcome itself does not name them); alerts
    carry their own. A duplicate outcome (an event processed before) appends nothing.
    """
    drafts = outcome_drafts(
        outcome, actor=actor, at=at, conversation=conversation, subject=subject,
        include_allowed=include_allowed,
    )  # fmt: skip
    return log.append_many(drafts) if drafts else []


def outcome_drafts(
    outcome: Outcome,
    *,
    actor: str,
    at: datetime,
    conversation: str | None = None,
    subject: str | None = None,
    include_allowed: bool = False,
) -> list[EntryDraft]:
    """The entries :func:`record_outcome` appends, not yet appended."""
    if outcome.duplicate:
        return []
    out: list[EntryDraft] = []
    for n, alert in enumerate(outcome.alerts):
        payload: dict[str, JsonValue] = {
            "ref": f"{outcome.event}:{n}",
            "event": outcome.event,
            "alert": alert.kind.value,
            "conversation": alert.conversation,
            "subject": alert.subject,
            "risk": round(alert.risk, 6),
            "stages": list(alert.stages),
            "reasons": _reasons(alert.reasons),
            "actor": actor,
        }
        out.append(EntryDraft(EntryKind.ALERT, payload, at))
    d = outcome.decision
    if include_allowed or d.verdict is not Verdict.ALLOW or d.notice is not None:
        payload = {
            "ref": outcome.event,
            "event": outcome.event,
            "event_type": outcome.type,
            "conversation": conversation,
            "subject": subject,
            "decision": d.verdict.value,
            "rule": d.rule,
            "policy_version": d.policy_version,
            "notice": d.notice.value if d.notice else None,
            "reasons": _reasons(d.reasons),
            "recipients": [
                {"recipient": r.recipient, "decision": r.verdict.value, "rule": r.rule}
                for r in outcome.recipients
            ],
            "actor": actor,
        }
        out.append(EntryDraft(EntryKind.DECISION, payload, at))
    return out


def record_action(
    log: EvidenceLog,
    *,
    action: str,
    actor: str,
    at: datetime,
    reason: str,
    conversation: str | None = None,
    subject: str | None = None,
    ref: str | None = None,
    details: dict[str, JsonValue] | None = None,
) -> EvidenceEntry:
    """A moderator's action on a case: who, when, why (``ref``: the alert key it answers)."""
    payload: dict[str, JsonValue] = {
        "action": action,
        "actor": actor,
        "reason": reason,
        "conversation": conversation,
        "subject": subject,
        "ref": ref,
        "details": details or {},
    }
    return log.append(EntryKind.ACTION, payload, at=at)


def record_messages(
    log: EvidenceLog, messages: Iterable[MessageEvent], *, actor: str, at: datetime
) -> list[EvidenceEntry]:
    """Preserve messages (text, time, sender, recipients) as case evidence.

    The engine keeps no message text, so the complete conversation of a referral comes from here:
    the service records a flagged conversation's messages (and later ones) when it raises the alert
    or when a moderator escalates; the platform may also supply the history at export time.
    """
    drafts = message_drafts(messages, actor=actor, at=at)
    return log.append_many(drafts) if drafts else []


def message_drafts(messages: Iterable[MessageEvent], *, actor: str, at: datetime) -> list[EntryDraft]:
    """The entries :func:`record_messages` appends, not yet appended."""
    out = []
    for m in messages:
        payload: dict[str, JsonValue] = {
            "ref": m.id,
            "conversation": m.conversation,
            "subject": m.sender,
            "sent_at": iso(m.at),
            "sender": m.sender,
            "recipients": list(m.recipients),
            "text": m.text,
            "group": m.group,
            "actor": actor,
        }
        out.append(EntryDraft(EntryKind.MESSAGE, payload, at))
    return out


@dataclass(frozen=True, slots=True)
class IpCapture:
    """An IP address seen for an account, as the platform supplied it (CyberTipline ``ipCaptureEvent``)."""

    account: str
    ip: str
    event: str
    """``login``, ``registration``, ``upload``, ``purchase``, ``other`` or ``unknown``."""
    at: datetime
    port: int | None = None
    possible_proxy: bool | None = None


def record_ip_captures(
    log: EvidenceLog, captures: Sequence[IpCapture], *, actor: str, at: datetime
) -> list[EvidenceEntry]:
    drafts = [
        EntryDraft(
            EntryKind.IP_CAPTURE,
            {
                "subject": c.account,
                "ip": c.ip,
                "event": c.event,
                "captured_at": iso(c.at),
                "port": c.port,
                "possible_proxy": c.possible_proxy,
                "actor": actor,
            },
            at,
        )
        for c in captures
    ]
    return log.append_many(drafts) if drafts else []
