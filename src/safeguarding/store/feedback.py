"""Moderators' decisions as labelled conversations for ``safeguarding train`` (``feedback export``).

Which decision labels a case: the *last* decisive action on each alert (``dismiss``, ``warn``,
``restrict_contact_with_minors``, ``suspend``, ``escalate_to_referral``), unless an appeal against it
was upheld (then the case is left out: an overturned decision is no label either way).

- ``dismiss`` → ``benign``, whatever the alert's kind (the conversation was looked at and found fine).
- any other decisive action on a ``grooming`` alert → ``grooming``, with the account acted on as the
  suspect. Actions on metadata alerts (``risky_account``, contact patterns, reports) say nothing about
  the text and are not exported.

One line per conversation: ``grooming`` wins over ``benign`` (a conversation dismissed once and then
confirmed on a later alert is grooming); among equals the latest decision. Text comes from
``sg_messages``; end-to-end-encrypted messages (no text) are left out, and a case with no text left (or
whose suspect wrote none) is skipped. The file is written to a temporary name and renamed, so a failed
export leaves nothing half-written. Format: :mod:`safeguarding.detection.data.feedback`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, select

from safeguarding.detection.data.feedback import LABELS, feedback_line
from safeguarding.evidence.record import ModerationAction as M
from safeguarding.store import moderation as mod
from safeguarding.store import schema as t
from safeguarding.types import Message

DECISIVE = (M.DISMISS, M.WARN, M.RESTRICT, M.SUSPEND, M.ESCALATE)


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled case: the decision that labels a conversation."""

    tenant: str
    conversation: str
    label: str
    suspect: str | None
    alert: str
    action: str
    action_id: int
    at: datetime


def labelled_cases(conn: Connection, tenant: str | None = None) -> list[Labelled]:
    """The conversations moderators' decisions label, oldest decision first (see the module docstring)."""
    a, al = mod.actions.c, t.alerts.c
    stmt = (
        select(a.id, a.tenant, a.alert_key, a.conversation, a.subject, a.action, a.at, al.kind)
        .select_from(mod.actions.join(t.alerts, and_(al.tenant == a.tenant, al.key == a.alert_key)))
        .where(a.action.in_(DECISIVE), a.conversation.is_not(None))
        .order_by(a.id)
    )
    upheld = select(a.appeal_of).where(a.action == M.APPEAL, a.decision == "upheld")
    if tenant is not None:
        stmt = stmt.where(a.tenant == tenant)
        upheld = upheld.where(a.tenant == tenant)
    overturned = {r[0] for r in conn.execute(upheld)}
    last: dict[tuple[str, str], Any] = {}
    for r in conn.execute(stmt):
        last[(r.tenant, r.alert_key)] = r  # ordered by id: the latest decision wins
    by_conversation: dict[tuple[str, str], Labelled] = {}
    for r in last.values():
        if r.id in overturned:
            continue
        if r.action == M.DISMISS:
            label = "benign"
        elif r.kind == "grooming":
            label = "grooming"
        else:
            continue
        case = Labelled(r.tenant, r.conversation, label, r.subject, r.alert_key, r.action, int(r.id), r.at)
        seen = by_conversation.get((r.tenant, r.conversation))
        if seen is None or (LABELS[case.label], case.action_id) > (LABELS[seen.label], seen.action_id):
            by_conversation[(r.tenant, r.conversation)] = case  # grooming over benign, then the latest
    return sorted(by_conversation.values(), key=lambda c: c.action_id)


def export_feedback(conn: Connection, out: Path, *, tenant: str | None = None) -> dict[str, int]:
    """Write the labelled conversations to ``out`` (JSONL); counts by label, and ``skipped``."""
    counts = {"benign": 0, "grooming": 0, "skipped": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for case in labelled_cases(conn, tenant):
                messages = [
                    Message(m.sender, m.text, m.at.isoformat())
                    for m in mod.conversation_messages(conn, case.tenant, case.conversation)
                    if m.text is not None
                ]
                if not messages or (
                    case.label == "grooming" and all(m.author != case.suspect for m in messages)
                ):
                    counts["skipped"] += 1
                    continue
                line = feedback_line(
                    f"{case.tenant}/{case.conversation}", messages, case.label, case.suspect,
                    tenant=case.tenant, conversation=case.conversation, alert=case.alert,
                    action=case.action, decided_at=case.at.isoformat(),
                )  # fmt: skip
                fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
                counts[case.label] += 1
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts
