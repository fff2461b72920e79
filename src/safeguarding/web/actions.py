"""Moderator actions: claim, assign, dismiss, warn, restrict, suspend, escalate, appeals, referral export.

Each action is one database transaction that (1) appends an ``action`` entry to the tenant's evidence
chain with who, when and why (:func:`~safeguarding.evidence.record.record_action`), (2) stores the
action row (``sg_mod_actions``, which the statistics and the case view read), (3) moves the alert's
status, and (4) puts the action in the outbox for the platform's webhook
(:func:`~safeguarding.service.webhooks.enqueue_action`: ids and a reason code, never the free-text
reason). Escalation also puts the conversation and the reported account on legal hold in that
transaction; the referral package is built by a separate step (:func:`export_package`), so a failed
export never loses the escalation and the package's moderation list includes it.

Who may act: anyone the permissions table allows, on a case nobody else has claimed (admins may act on
and re-assign any case). Actors are recorded as ``role:user-id``, never by email. Assigning a case to a
moderator of the same platform is an ``assign`` entry in the evidence log (no webhook: the platform has
nothing to carry out).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from safeguarding.errors import ConflictError, InputError, NotFoundError
from safeguarding.evidence.record import ModerationAction
from safeguarding.service.permissions import Actor, Role
from safeguarding.store import moderation as mod
from safeguarding.store import schema as t
from safeguarding.web.cases import alert_by_key

M = ModerationAction
CASE_ACTIONS = {
    M.DISMISS: "dismissed",
    M.WARN: "actioned",
    M.RESTRICT: "actioned",
    M.SUSPEND: "actioned",
    M.ESCALATE: "escalated",
}
ACTION_LABELS = {
    M.DISMISS: "Dismiss: not harmful",
    M.WARN: "Warn the account",
    M.RESTRICT: "Restrict contact with minors",
    M.SUSPEND: "Suspend the account",
    M.ESCALATE: "Escalate to referral",
}
MAX_REASON = 2000
ASSIGN = "assign"
ASSIGNABLE_STATUSES = ("open", "escalated")
"""Cases still being worked: decided ones (dismissed, actioned, overturned) are not handed on."""
REASON_CODES = (
    "not_harmful", "grooming", "sexual_content", "off_platform_contact", "meeting_arranged",
    "risky_account", "blocked_contact_pattern", "child_report", "harassment", "appeal", "other",
)  # fmt: skip
"""What the platform's webhook is told about why (the free-text reason stays in the evidence log)."""


@dataclass(frozen=True, slots=True)
class Done:
    action_id: int
    evidence_seq: int


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise InputError("give a reason: every action is recorded with who, when and why")
    if len(reason) > MAX_REASON:
        raise InputError(f"the reason is longer than {MAX_REASON} characters")
    return reason


def _reason_code(code: str | None, action: str, alert_kind: str | None) -> str:
    """The given reason code, checked; by default ``not_harmful`` for a dismissal, the alert's kind for
    other actions on a case, ``appeal`` for appeals and their decisions."""
    code = (code or "").strip()
    if not code:
        if action == M.DISMISS:
            return "not_harmful"
        if alert_kind is None:
            return "appeal"
        return alert_kind if alert_kind in REASON_CODES else "other"
    if code not in REASON_CODES:
        raise InputError(f"unknown reason code {code!r} (one of {', '.join(REASON_CODES)})")
    if action == M.DISMISS and code not in ("not_harmful", "other"):
        raise InputError(f"a dismissal is 'not_harmful' (or 'other'), not {code!r}")
    return code


def _check_claim(conn: Connection, tenant: str, key: str, actor: Actor) -> None:
    review = mod.reviews_of(conn, tenant, [key]).get(key)
    if review and review.assignee and review.assignee != actor.user_id and actor.role is not Role.ADMIN:
        raise ConflictError(f"this case is claimed by {review.assignee_name or review.assignee}")


def _country(conn: Connection, tenant: str, account: str | None) -> str | None:
    if account is None:
        return None
    r = conn.execute(select(t.accounts.c.country).where(t.accounts.c.id == f"{tenant}/{account}")).first()
    return r.country if r else None


def claim(ctx: Any, tenant: str, key: str, actor: Actor, *, release: bool = False) -> None:
    with ctx.sql.engine.begin() as conn:
        if alert_by_key(conn, tenant, key) is None:
            raise NotFoundError(f"no alert {key!r}")
        if release:
            _check_claim(conn, tenant, key, actor)
            mod.claim(conn, tenant, key, user=None, name=None, at=ctx.clock.now())
            return
        _check_claim(conn, tenant, key, actor)
        mod.claim(conn, tenant, key, user=actor.user_id, name=actor.name or actor.label, at=ctx.clock.now())


def act(
    ctx: Any, tenant: str, key: str, actor: Actor, action: str, reason: str | None,
    reason_code: str | None = None,
) -> Done:  # fmt: skip
    """Carry out one of :data:`CASE_ACTIONS` on the alert ``key``; see the module docstring."""
    from safeguarding.evidence.record import record_action
    from safeguarding.evidence.sql import SqlEvidenceLog, place_hold
    from safeguarding.service.webhooks import enqueue_action

    if action not in CASE_ACTIONS:
        raise InputError(f"unknown action {action!r} (one of {', '.join(CASE_ACTIONS)})")
    why = _reason(reason)
    now = ctx.clock.now()
    with ctx.sql.engine.begin() as conn:
        alert = alert_by_key(conn, tenant, key)
        if alert is None:
            raise NotFoundError(f"no alert {key!r}")
        _check_claim(conn, tenant, key, actor)
        code = _reason_code(reason_code, action, alert.kind)
        details: dict[str, Any] = {"alert_kind": alert.kind, "risk": alert.risk, "reason_code": code}
        if action == M.DISMISS:
            details["label"] = "not_harmful"  # labelled feedback for training
        log = SqlEvidenceLog(conn, tenant)
        entry = record_action(
            log, action=action, actor=actor.label, at=now, reason=why, conversation=alert.conversation,
            subject=alert.subject, ref=key, details=details,
        )  # fmt: skip
        if action == M.ESCALATE:
            hold = f"escalation of case {key}"
            if alert.conversation:
                place_hold(conn, tenant, alert.conversation, reason=hold, actor=actor.label, at=now)
            if alert.subject:
                place_hold(conn, tenant, alert.subject, reason=hold, actor=actor.label, at=now, account=True)
        action_id = mod.add_action(
            conn, tenant=tenant, alert_key=key, conversation=alert.conversation, subject=alert.subject,
            action=action, reason=why, actor=actor.label, at=now, evidence_seq=entry.seq,
            country=_country(conn, tenant, alert.subject),
        )  # fmt: skip
        c = t.alerts.c
        conn.execute(
            update(t.alerts).where(c.tenant == tenant, c.key == key).values(status=CASE_ACTIONS[action])
        )
        mod.mark_reviewed(conn, tenant, key, now)
        enqueue_action(
            conn, tenant, action_id=action_id, action=action, subject=alert.subject,
            conversation=alert.conversation, alert=key, moderator=actor.user_id, reason_code=code, at=now,
        )  # fmt: skip
    return Done(action_id, entry.seq)


def assignable(ctx: Any, tenant: str) -> list[tuple[str, str]]:
    """``(user id, display name)`` of the platform's moderators and admins who can take a case."""
    return [
        (u.id, u.display_name)
        for u in ctx.tenancy.users(tenant)
        if u.role in (Role.MODERATOR.value, Role.ADMIN.value) and u.disabled_at is None
    ]


def assign(ctx: Any, tenant: str, key: str, actor: Actor, assignee: str, reason: str | None) -> int:
    """Hand case ``key`` to ``assignee`` (a moderator or admin of the same platform): the claim moves to
    them and an ``assign`` entry records who, to whom and why. Returns the entry's sequence number.

    A moderator can hand on an unclaimed case or their own; an admin any case (like releasing one).
    """
    from safeguarding.evidence.record import record_action
    from safeguarding.evidence.sql import SqlEvidenceLog

    assignee = (assignee or "").strip()
    user = ctx.tenancy.user(assignee) if assignee else None
    why = (reason or "").strip()[:MAX_REASON] or "case assigned"
    now = ctx.clock.now()
    with ctx.sql.engine.begin() as conn:
        alert = alert_by_key(conn, tenant, key)
        if alert is None:
            raise NotFoundError(f"no alert {key!r}")
        if not assignee:
            raise InputError("say whom to assign the case to: assignee (a moderator's user id)")
        if user is None or user.tenant != tenant:
            raise InputError(
                f"no moderator {assignee!r} on platform {tenant!r}: cases stay on their platform"
            )
        if user.role not in (Role.MODERATOR.value, Role.ADMIN.value):
            raise InputError(
                f"user {assignee!r} is a {user.role}, not a moderator: only moderators take cases"
            )
        if user.disabled_at is not None:
            raise InputError(f"user {assignee!r} is disabled")
        if alert.status not in ASSIGNABLE_STATUSES:
            raise ConflictError(f"the case is {alert.status}: only cases still being worked are assigned")
        _check_claim(conn, tenant, key, actor)
        before = mod.reviews_of(conn, tenant, [key]).get(key)
        details: dict[str, Any] = {
            "assignee": f"{user.role}:{user.id}",
            "previous": before.assignee if before else None,
        }
        entry = record_action(
            SqlEvidenceLog(conn, tenant), action=ASSIGN, actor=actor.label, at=now, reason=why,
            conversation=alert.conversation, subject=alert.subject, ref=key, details=details,
        )  # fmt: skip
        mod.claim(conn, tenant, key, user=user.id, name=user.display_name, at=now)
    return entry.seq


def appeal(
    ctx: Any, tenant: str, action_id: int, actor: Actor, reason: str | None, reason_code: str | None = None
) -> Done:
    """Record an appeal by the actioned account against action ``action_id`` (entered by a moderator)."""
    return _appeal_entry(ctx, tenant, action_id, actor, M.APPEAL, reason, reason_code)


def decide(
    ctx: Any, tenant: str, appeal_id: int, actor: Actor, upheld: bool, reason: str | None,
    reason_code: str | None = None,
) -> Done:  # fmt: skip
    """Decide an appeal: ``upheld`` overturns the original action (the alert becomes ``overturned``)."""
    action = M.APPEAL_UPHELD if upheld else M.APPEAL_REJECTED
    return _appeal_entry(ctx, tenant, appeal_id, actor, action, reason, reason_code)


def _appeal_entry(
    ctx: Any, tenant: str, target: int, actor: Actor, action: str, reason: str | None, reason_code: str | None
) -> Done:
    from safeguarding.evidence.record import record_action
    from safeguarding.evidence.sql import SqlEvidenceLog
    from safeguarding.service.webhooks import enqueue_action

    why = _reason(reason)
    code = _reason_code(reason_code, action, None)
    now = ctx.clock.now()
    with ctx.sql.engine.begin() as conn:
        found = mod.actions_of(conn, tenant, action_id=target)
        if not found:
            raise NotFoundError(f"no moderator action {target}")
        orig = found[0]
        if action == M.APPEAL:
            if orig.action not in (M.WARN, M.RESTRICT, M.SUSPEND, M.ESCALATE):
                raise InputError(f"an appeal is against an action on an account, not {orig.action!r}")
        elif orig.action != M.APPEAL or orig.decision != "pending":
            raise ConflictError(f"action {target} is not an undecided appeal")
        details: dict[str, Any] = {
            "about_action": orig.id, "about_evidence_seq": orig.evidence_seq, "reason_code": code,
        }  # fmt: skip
        entry = record_action(
            SqlEvidenceLog(conn, tenant), action=action, actor=actor.label, at=now, reason=why,
            conversation=orig.conversation, subject=orig.subject, ref=orig.alert_key, details=details,
        )  # fmt: skip
        action_id = mod.add_action(
            conn, tenant=tenant, alert_key=orig.alert_key, conversation=orig.conversation,
            subject=orig.subject, action=action, reason=why, actor=actor.label, at=now,
            evidence_seq=entry.seq, appeal_of=orig.id, decision="pending" if action == M.APPEAL else None,
            country=orig.country,
        )  # fmt: skip
        if action != M.APPEAL:
            mod.decide_appeal(conn, orig.id, "upheld" if action == M.APPEAL_UPHELD else "rejected")
            if action == M.APPEAL_UPHELD and orig.alert_key:
                c = t.alerts.c
                conn.execute(
                    update(t.alerts)
                    .where(c.tenant == tenant, c.key == orig.alert_key)
                    .values(status="overturned")
                )
        enqueue_action(
            conn, tenant, action_id=action_id, action=action, subject=orig.subject,
            conversation=orig.conversation, alert=orig.alert_key, moderator=actor.user_id,
            reason_code=code, at=now, about_action=orig.id,
            overturns=orig.appeal_of if action == M.APPEAL_UPHELD else None,
        )  # fmt: skip
    return Done(action_id, entry.seq)


def export_package(
    ctx: Any, tenant: str, key: str, actor: Actor, *, imminent_danger: str | None = None
) -> str:
    """Build the referral package of case ``key`` (legal hold, export entry) and keep its zip; its id."""
    from safeguarding.errors import ConfigError
    from safeguarding.evidence.config import load_reporter
    from safeguarding.evidence.export import export_referral
    from safeguarding.evidence.referral import Priority

    with ctx.sql.engine.connect() as conn:
        alert = alert_by_key(conn, tenant, key)
    if alert is None:
        raise NotFoundError(f"no alert {key!r}")
    if alert.status != "escalated":
        raise ConflictError("escalate the case before exporting a referral package")
    try:
        reporter = load_reporter()
    except ConfigError as exc:
        raise ConflictError(f"referral reporter details are not configured: {exc}") from None
    danger = (imminent_danger or "").strip()
    priority = Priority(imminent_danger=bool(danger), reason=danger[:3000] or None)
    now = ctx.clock.now()
    with tempfile.TemporaryDirectory(prefix="sg-referral-") as tmp:
        out = Path(tmp) / "package.zip"
        res = export_referral(
            ctx.sql.engine, key, out, reporter=reporter, actor=actor.label, now=now,
            priority=priority, chain=tenant,
        )  # fmt: skip
        data = out.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # a package we cannot read back is not kept
        z.testzip()
    with ctx.sql.engine.begin() as conn:
        mod.save_package(
            conn, package_id=res.package_id, tenant=tenant, case_key=key, created_at=now,
            actor=actor.label, manifest_sha256=res.manifest_sha256, data=data,
        )  # fmt: skip
    return res.package_id
