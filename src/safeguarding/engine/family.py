"""The engine's family rules: parental controls, parents' approvals, children's notices and reports.

Kept apart from :mod:`.process` (which calls these at fixed points) so the contact path stays readable:
controls and approvals change engine state like any other event; notices and approval requests are
read off a contact's decision and facts; a report from a minor becomes a ``child_report`` alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from safeguarding.detection.cues import cue_flags
from safeguarding.engine.outcome import Alert, AlertKind
from safeguarding.events.types import ContactApprovalEvent, MessageEvent, ParentalControlsEvent, ReportEvent
from safeguarding.families.controls import ApprovalRequest, Control
from safeguarding.families.notices import TEXT_CUES, ChildNotice, notices_for
from safeguarding.policy.model import Action
from safeguarding.store.protocol import AccountRecord, EdgeKind
from safeguarding.types import Reason

if TYPE_CHECKING:
    from safeguarding.engine.process import PairResult
    from safeguarding.engine.state import WorkingSet


def apply_controls(rec: AccountRecord, e: ParentalControlsEvent) -> AccountRecord:
    bits = Control.NONE
    if e.approval_required:
        bits |= Control.APPROVAL_REQUIRED
    if e.pause_non_connections:
        bits |= Control.PAUSE_NON_CONNECTIONS
    return replace(rec, controls=int(bits))


def apply_approval(ws: WorkingSet, e: ContactApprovalEvent) -> None:
    if e.approved:
        ws.add_edge(EdgeKind.APPROVED, e.actor, e.target, e.at)
    else:
        ws.remove_edge(EdgeKind.APPROVED, e.actor, e.target)


def child_report_alert(e: ReportEvent, subject_risk: float, floor: float) -> Alert:
    """A minor's report, queued at least at ``floor`` (the policy's ``alerts.child_report_risk``)."""
    why = [Reason("alert.child_report", "a young person reported this account")]
    if e.conversation is None:
        why.append(Reason("alert.child_report.no_conversation", "the report names no conversation"))
    return Alert(
        AlertKind.CHILD_REPORT, e.target, e.conversation, round(max(floor, subject_risk), 4), (), tuple(why)
    )


def message_notes(
    e: MessageEvent, results: Sequence[PairResult]
) -> tuple[tuple[ChildNotice, ...], tuple[ApprovalRequest, ...]]:
    """The notices a message raises for its child recipients, and the approvals it waits for."""
    notices: list[ChildNotice] = []
    approvals: list[ApprovalRequest] = []
    cues: int | None = None
    for r, p in zip(e.recipients, results, strict=True):
        if p.awaits_approval:
            approvals.append(ApprovalRequest(r, e.sender, e.conversation))
        if not (p.recipient_minor and p.decision.allowed):
            continue
        sender_adult = p.adult_to_minor
        if cues is None and e.text is not None and (sender_adult or not p.relation.connected):
            cues = cue_flags(e.text) & TEXT_CUES  # read once per message, and only when it can matter
        kinds = notices_for(
            Action.MESSAGE,
            delivered=True,
            recipient_minor=True,
            sender_adult=sender_adult,
            connected=p.relation.connected,
            first_contact=p.relation.first_contact,
            cues=cues or 0,
        )
        notices.extend(ChildNotice(r, k, e.sender, e.conversation) for k in kinds)
    return tuple(notices), tuple(approvals)


def request_notices(action: Action, actor: str, target: str, p: PairResult) -> tuple[ChildNotice, ...]:
    kinds = notices_for(
        action,
        delivered=p.decision.allowed,
        recipient_minor=p.recipient_minor,
        sender_adult=p.adult_to_minor,
        connected=p.relation.connected,
        first_contact=p.relation.first_contact,
    )
    return tuple(ChildNotice(target, k, actor) for k in kinds)
