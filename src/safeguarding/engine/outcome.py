"""What processing one event produced: a decision, alerts, and their reasons.

An :class:`Outcome` is stored (as a compact JSON record) with the event id, so processing the same
event again returns the very same outcome instead of counting it twice. :meth:`Outcome.line` is the
replay output format of ``safeguarding replay`` (documented in ``docs/replay.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from safeguarding.families.controls import ApprovalRequest
from safeguarding.families.notices import ChildNotice, NoticeKind
from safeguarding.policy.model import Decision, Notice, Verdict
from safeguarding.types import Reason


class AlertKind(StrEnum):
    GROOMING = "grooming"
    """The streaming detector flagged a conversation (``subject`` is the suspect)."""
    RISKY_ACCOUNT = "risky_account"
    """An account's fused metadata signals reached the policy's ``alerts.account_risk``."""
    BLOCKED_CONTACT_PATTERN = "blocked_contact_pattern"
    """An account had ``alerts.blocked_pattern_count`` contact attempts denied within the window."""
    CHILD_REPORT = "child_report"
    """A minor reported an account (``subject``), with the conversation when they named one."""


@dataclass(frozen=True, slots=True)
class Alert:
    """Someone must look. ``risk`` is 0..1 (conversation risk or account risk by kind)."""

    kind: AlertKind
    subject: str | None
    conversation: str | None
    risk: float
    stages: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()

    def line(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "conversation": self.conversation,
            "subject": self.subject,
            "risk": self.risk,
            "stages": list(self.stages),
        }


@dataclass(frozen=True, slots=True)
class RecipientDecision:
    """The decision for one recipient of a message with several."""

    recipient: str
    verdict: Verdict
    rule: str | None
    notice: Notice | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of processing one event. ``duplicate``: the event had been processed before.

    ``notices`` are the safety notices the child recipients should see now
    (:mod:`safeguarding.families.notices`); ``approvals`` the contacts waiting for a parent's approval.
    Neither is part of the replay line (its shape is fixed); both are kept in :meth:`record`.
    """

    event: str
    type: str
    decision: Decision
    alerts: tuple[Alert, ...] = ()
    recipients: tuple[RecipientDecision, ...] = ()
    duplicate: bool = False
    notices: tuple[ChildNotice, ...] = ()
    approvals: tuple[ApprovalRequest, ...] = ()

    def line_json(self) -> str:
        """:meth:`line` as compact JSON text, cached per decision for the common no-alert case."""
        if self.alerts:
            return json.dumps(self.line(), ensure_ascii=False)
        return '{"event": ' + json.dumps(self.event, ensure_ascii=False) + _line_tail(self.decision)

    def line(self) -> dict[str, Any]:
        """The replay output line: ``{"event", "decision", "rule", "reasons", "alerts"}``."""
        return {
            "event": self.event,
            "decision": self.decision.verdict.value,
            "rule": self.decision.rule,
            "reasons": [r.message for r in self.decision.reasons],
            "alerts": [a.line() for a in self.alerts],
        }

    def record(self) -> str:
        """Canonical JSON kept with the processed event; :meth:`from_record` reads it back."""
        if not self.alerts and not self.recipients and not self.notices and not self.approvals:
            return _plain_record(self.type, self.decision)
        return self._record()

    def _record(self) -> str:
        d = self.decision
        rec: dict[str, Any] = {
            "t": self.type,
            "v": d.verdict.value,
            "r": d.rule,
            "p": d.policy_version,
            "why": [[x.code, x.message, x.weight] for x in d.reasons],
        }
        if d.notice is not None:
            rec["n"] = d.notice.value
        if d.matched:
            rec["m"] = list(d.matched)
        if self.alerts:
            rec["a"] = [
                [
                    a.kind.value,
                    a.subject,
                    a.conversation,
                    a.risk,
                    list(a.stages),
                    [[x.code, x.message, x.weight] for x in a.reasons],
                ]
                for a in self.alerts
            ]
        if self.recipients:
            rec["to"] = [
                [r.recipient, r.verdict.value, r.rule, r.notice.value if r.notice else None]
                for r in self.recipients
            ]
        if self.notices:
            rec["nt"] = [[n.child, n.kind.value, n.about, n.conversation] for n in self.notices]
        if self.approvals:
            rec["ap"] = [[a.child, a.adult, a.conversation] for a in self.approvals]
        return json.dumps(rec, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_record(cls, event: str, record: str, *, duplicate: bool = True) -> Outcome:
        rec = json.loads(record)
        decision = Decision(
            verdict=Verdict(rec["v"]),
            rule=rec["r"],
            policy_version=rec["p"],
            reasons=tuple(Reason(c, m, w) for c, m, w in rec["why"]),
            notice=Notice(rec["n"]) if "n" in rec else None,
            matched=tuple(rec.get("m", ())),
        )
        alerts = tuple(
            Alert(AlertKind(k), s, c, r, tuple(st), tuple(Reason(a, b, w) for a, b, w in why))
            for k, s, c, r, st, why in rec.get("a", ())
        )
        recipients = tuple(
            RecipientDecision(r, Verdict(v), rule, Notice(n) if n else None)
            for r, v, rule, n in rec.get("to", ())
        )
        notices = tuple(ChildNotice(c, NoticeKind(k), a, conv) for c, k, a, conv in rec.get("nt", ()))
        approvals = tuple(ApprovalRequest(c, a, conv) for c, a, conv in rec.get("ap", ()))
        return cls(event, rec["t"], decision, alerts, recipients, duplicate, notices, approvals)


@lru_cache(maxsize=4096)
def _plain_record(type_: str, decision: Decision) -> str:
    return Outcome("", type_, decision)._record()


@lru_cache(maxsize=4096)
def _line_tail(decision: Decision) -> str:
    """Everything of a no-alert line after the event id (the text is the same for every such event)."""
    rest = {
        "decision": decision.verdict.value,
        "rule": decision.rule,
        "reasons": [r.message for r in decision.reasons],
        "alerts": [],
    }
    return ", " + json.dumps(rest, ensure_ascii=False)[1:]


@dataclass(frozen=True, slots=True)
class Rejected:
    """An event that could not be processed; the rest of its batch still was."""

    event: str | None
    reason: str
    where: str | None = None

    def line_json(self) -> str:
        return json.dumps(self.line(), ensure_ascii=False)

    def line(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "decision": None,
            "rule": None,
            "reasons": [self.reason],
            "alerts": [],
            "error": self.reason,
        }
