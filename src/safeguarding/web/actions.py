"""Moderator actions: claim, dismiss, warn, restrict, suspend, escalate, appeals, referral export.

Each action is one database transaction that (1) appends an ``action`` entry to the tenant's evidence
chain with who, when and why (:func:`~safeguarding.evidence.record.record_action`), (2) stores the
action row (``sg_mod_actions``, which the statistics and the case view read), and (3) moves the alert's
status. Escalation also puts the conversation and the reported account on legal hold in that
transaction; the referral package is built by a separate step (:func:`export_package`), so a failed
export never loses the escalation and the package's moderation list includes it.

Who may act: anyone the permissions table allows, on a case nobody else has claimed (admins may act on
and re-assign any case). Actors are recorded as ``role:user-id``, never by email.
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


def act(ctx: Any, tenant: str, key: str, actor: Actor, action: str, reason: str | None) -> Done:
    """Carry out one of :data:`CASE_ACTIONS` on the alert ``key``; see the module docstring."""
    from safeguarding.evidence.record import record_action
    from safeguarding.evidence.sql import SqlEvidenceLog, place_hold

    if action not in CASE_ACTIONS:
        raise InputError(f"unknown action {action!r} (one of {', '.join(CASE_ACTIONS)})")
    why = _reason(reason)
    now = ctx.clock.now()
    with ctx.sql.engine.begin() as conn:
        alert = alert_by_key(conn, tenant, key)
        if alert is None:
            raise NotFoundError(f"no alert {key!r}")
        _check_claim(conn, tenant, key, actor)
        details: dict[str, Any] = {"alert_kind": alert.kind, "risk": alert.risk}
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
    return Done(action_id, entry.seq)


def appeal(ctx: Any, tenant: str, action_id: int, actor: Actor, reason: str | None) -> Done:
    """Record an appeal by the actioned account against action ``action_id`` (entered by a moderator)."""
    return _appeal_entry(ctx, tenant, action_id, actor, M.APPEAL, reason)


def decide(ctx: Any, tenant: str, appeal_id: int, actor: Actor, upheld: bool, reason: str | None) -> Done:
    """Decide an appeal: ``upheld`` overturns the original action (the alert becomes ``overturned``)."""
    return _appeal_entry(
        ctx, tenant, appeal_id, actor, M.APPEAL_UPHELD if upheld else M.APPEAL_REJECTED, reason
    )


def _appeal_entry(ctx: Any, tenant: str, target: int, actor: Actor, action: str, reason: str | None) -> Done:
    from safeguarding.evidence.record import record_action
    from safeguarding.evidence.sql import SqlEvidenceLog

    why = _reason(reason)
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
        details: dict[str, Any] = {"about_action": orig.id, "about_evidence_seq": orig.evidence_seq}
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
