"""Families on the service: the parent's and the child's views assembled from the stores, and what each
side may do (link, answer invitations, set controls, approve contacts, report, block).

Routes (``routes/family.py`` for parents, ``routes/children.py`` for the child and the platform) only
call these. Parents see *who* (names, age bands, since when, how often, alerts in plain words) and never
message text — except the messages that drove an alert when the platform allows it, the child is under
13, and a moderator escalated the case (:func:`flagged_messages`). Controls, approvals, reports and
blocks go through the engine as events, so they change contact decisions exactly like platform events.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from safeguarding.engine import Outcome
from safeguarding.errors import ConflictError, InputError, NotFoundError
from safeguarding.events import (
    BlockEvent,
    ContactApprovalEvent,
    Event,
    ParentalControlsEvent,
    ReportEvent,
)
from safeguarding.families.contacts import Contact, ranked
from safeguarding.families.controls import Control, FamilySettings
from safeguarding.families.wording import REPORT_REASONS, alert_text, stage_words
from safeguarding.service.auth import CHILD_PREFIX
from safeguarding.service.context import ServiceContext
from safeguarding.store.families import FamilyStore, ReportRecord
from safeguarding.store.protocol import EdgeKind

WEEK = timedelta(days=7)


def store(ctx: ServiceContext) -> FamilyStore:
    return FamilyStore(ctx.sql)


def _event_id(kind: str) -> str:
    return f"sg-{kind}-{uuid.uuid4().hex}"


def submit(ctx: ServiceContext, tenant: str, event: Event) -> Outcome:
    """Run one event made by the service (a parent's or child's action) through the tenant's engine."""
    [result] = ctx.ingest(tenant, [event])
    if not isinstance(result, Outcome):
        raise InputError(result.reason)
    return result


def _known(ctx: ServiceContext, tenant: str, account: str) -> Any:
    facts = store(ctx).accounts(tenant, [account], ctx.clock.now()).get(account)
    if facts is None:
        raise NotFoundError(f"no account {account!r} on this platform (send its 'account' event first)")
    return facts


# -- links and invitations -------------------------------------------------------------------------------


def link_direct(ctx: ServiceContext, tenant: str, parent: str, child: str, by: str) -> None:
    """A platform links a parent to an under-13 directly (when its family settings allow it)."""
    _parent_user(ctx, tenant, parent)
    facts = _known(ctx, tenant, child)
    settings = store(ctx).settings(tenant)
    if facts.age_band != "under_13" or not settings.direct_link_under13:
        raise ConflictError("only under-13s may be linked directly; send the child an invitation instead")
    store(ctx).link(tenant, parent, child, ctx.clock.now(), via="direct", by=by)
    ctx.auth.forget_user(parent)


def invite(ctx: ServiceContext, tenant: str, parent: str, child: str, by: str) -> dict[str, Any]:
    _parent_user(ctx, tenant, parent)
    _known(ctx, tenant, child)
    if any(lk.parent == parent for lk in store(ctx).links(tenant, child=child)):
        raise ConflictError("this parent is already linked to this child")
    days = store(ctx).settings(tenant).invitation_days
    inv_id = uuid.uuid4().hex
    now = ctx.clock.now()
    store(ctx).invite(tenant, inv_id, parent, child, now, days, by)
    return {
        "id": inv_id,
        "parent": parent,
        "child": child,
        "expires_at": (now + timedelta(days=days)).isoformat(),
    }


def answer_invitation(ctx: ServiceContext, tenant: str, child: str, invitation: str, accept: bool) -> None:
    inv = store(ctx).answer(tenant, child, invitation, accept, ctx.clock.now())
    ctx.auth.forget_user(inv.parent)


def unlink(ctx: ServiceContext, tenant: str, parent: str, child: str, by: str) -> None:
    store(ctx).unlink(tenant, parent, child, ctx.clock.now(), by=by)
    ctx.auth.forget_user(parent)


def _parent_user(ctx: ServiceContext, tenant: str, parent: str) -> None:
    user = ctx.tenancy.user(parent)
    if user is None or user.tenant != tenant or user.role != "parent":
        raise NotFoundError(f"no parent {parent!r} on platform {tenant!r}")


# -- the child's view ------------------------------------------------------------------------------------


def issue_child_token(ctx: ServiceContext, tenant: str, account: str, minutes: int) -> tuple[str, datetime]:
    """A short-lived credential for the child's page (the platform opens ``/child/<token>`` for them)."""
    if not 1 <= minutes <= 24 * 60:
        raise InputError("'minutes' must be between 1 and 1440")
    _known(ctx, tenant, account)
    token = CHILD_PREFIX + secrets.token_urlsafe(24)
    now = ctx.clock.now()
    expires = now + timedelta(minutes=minutes)
    store(ctx).add_token(tenant, account, token, now, expires)
    return token, expires


@dataclass(frozen=True, slots=True)
class ChildView:
    account: str
    monitored: bool
    parents: list[str]
    notices: list[dict[str, Any]]
    invitations: list[dict[str, Any]]
    reports: list[dict[str, Any]]


def child_view(ctx: ServiceContext, tenant: str, child: str) -> ChildView:
    from safeguarding.families.wording import NOTICE_TEXT

    fs = store(ctx)
    now = ctx.clock.now()
    links = fs.links(tenant, child=child)
    kept = fs.notices(tenant, child)
    names = _names(ctx, tenant, [n.about for n in kept])
    notices = []
    for n in kept:
        text = NOTICE_TEXT[n.kind]
        notices.append({
            "id": n.id, "kind": n.kind.value, "about": n.about, "about_name": names.get(n.about) or n.about,
            "conversation": n.conversation, "at": n.last_at.isoformat(), "times": n.count,
            "open": n.closed_by is None, "closed_by": n.closed_by,
            "title": text.title, "body": text.body, "tell": text.tell,
        })  # fmt: skip
    invitations = [
        {"id": v.id, "parent_name": v.parent_name, "expires_at": v.expires_at.isoformat()}
        for v in fs.invitations(tenant, child=child)
        if v.open(now)
    ]
    reports = [
        {
            "id": r.id,
            "about": r.about,
            "reason": r.reason,
            "told_parent": r.tell_parent,
            "at": r.at.isoformat(),
        }
        for r in fs.reports(tenant, child)
    ]
    return ChildView(child, bool(links), [lk.parent_name for lk in links], notices, invitations, reports)


def child_report(
    ctx: ServiceContext, tenant: str, child: str, about: str, conversation: str | None, reason: str,
    tell_parent: bool, notice: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The child's report: a ``report`` event (a ``child_report`` alert in the moderators' queue, with the
    conversation attached), kept for the child's page and — if they chose — their linked parents."""
    if reason not in REPORT_REASONS:
        raise InputError(f"'reason' must be one of: {', '.join(REPORT_REASONS)}")
    if about == child:
        raise InputError("a child cannot report their own account")
    _known(ctx, tenant, about)
    _check_notice(ctx, tenant, child, notice)
    now = ctx.clock.now()
    eid = _event_id("report")
    out = submit(ctx, tenant, ReportEvent(eid, now, child, about, reason, conversation))
    rid = uuid.uuid4().hex
    store(ctx).add_report(
        tenant, ReportRecord(rid, child, about, conversation, reason, tell_parent, now), eid
    )
    if notice is not None:
        store(ctx).close_notice(tenant, child, notice, "reported", now)
    queued = [a.kind.value for a in out.alerts]
    return {"id": rid, "event": eid, "queued": "child_report" in queued, "told_parent": tell_parent}


def child_block(ctx: ServiceContext, tenant: str, child: str, about: str, notice: int | None = None) -> None:
    if about == child:
        raise InputError("a child cannot block their own account")
    _known(ctx, tenant, about)
    _check_notice(ctx, tenant, child, notice)
    now = ctx.clock.now()
    submit(ctx, tenant, BlockEvent(_event_id("block"), now, child, about))
    if notice is not None:
        store(ctx).close_notice(tenant, child, notice, "blocked", now)


def dismiss_notice(ctx: ServiceContext, tenant: str, child: str, notice: int) -> None:
    store(ctx).close_notice(tenant, child, notice, "dismissed", ctx.clock.now())


def _check_notice(ctx: ServiceContext, tenant: str, child: str, notice: int | None) -> None:
    """Refuse an unknown notice before anything is done (a report or block must not half-happen)."""
    if notice is not None and store(ctx).notice(tenant, child, notice) is None:
        raise NotFoundError(f"no notice {notice} for this account")


# -- the parent's view -----------------------------------------------------------------------------------


@dataclass
class ChildSummary:
    account: str
    display_name: str | None
    age_band: str
    contacts: list[Contact]
    alerts: list[dict[str, Any]]
    approvals: list[dict[str, Any]]
    controls: dict[str, bool]
    allowed: dict[str, bool]
    new_adults: int = 0
    reports: list[dict[str, Any]] = field(default_factory=list)
    since: datetime | None = None


def _names(ctx: ServiceContext, tenant: str, ids: list[str]) -> dict[str, str | None]:
    return {
        k: v.display_name for k, v in store(ctx).accounts(tenant, sorted(set(ids)), ctx.clock.now()).items()
    }


def contacts(ctx: ServiceContext, tenant: str, child: str) -> list[Contact]:
    return _contacts_and_alerts(ctx, tenant, child)[0]


def _contacts_and_alerts(ctx: ServiceContext, tenant: str, child: str) -> tuple[list[Contact], list[Any]]:
    """The child's contacts, ranked, and the alert rows that concern the child (read once for both)."""
    fs = store(ctx)
    now = ctx.clock.now()
    edges = fs.edges_of(tenant, child, (EdgeKind.MESSAGED, EdgeKind.FOLLOW, EdgeKind.CONTACT, EdgeKind.BLOCK))
    since: dict[str, datetime] = {}
    rel: set[tuple[str, str, str]] = set()
    for kind, src, dst, at in edges:
        rel.add((kind, src, dst))
        if kind == EdgeKind.MESSAGED.value:
            other = dst if src == child else src
            since[other] = min(at, since.get(other, at))
    approvals = {a.adult: a for a in fs.approvals(tenant, child)}
    for adult, a in approvals.items():
        since.setdefault(adult, a.requested_at)
    others = sorted(since)
    facts = fs.accounts(tenant, others, now)
    week = fs.messages_with(tenant, child, others, now - WEEK)
    per_week: dict[str, int] = {}
    last: dict[str, datetime] = {}
    for m in week:
        for other in ({m.sender} | set(m.recipients)) - {child}:
            per_week[other] = per_week.get(other, 0) + 1
            last[other] = max(m.at, last.get(other, m.at))
    alerts = _alerts_of(ctx, tenant, child, others)
    out = []
    for o in others:
        f = facts.get(o)
        mine = [a for a in alerts if a.subject == o]
        appr = approvals.get(o)
        band = f.age_band if f else "unknown"
        out.append(Contact(
            account=o, display_name=f.display_name if f else None, age_band=band,
            assurance=f.assurance if f else "self_declared", adult=band in ("adult", "unknown"),
            since=since[o], last_at=last.get(o), messages_week=per_week.get(o, 0),
            child_follows=("follow", child, o) in rel or ("contact", child, o) in rel,
            follows_child=("follow", o, child) in rel or ("contact", o, child) in rel,
            blocked=("block", child, o) in rel, alerts=len(mine),
            open_alerts=sum(1 for a in mine if a.status == "open"),
            approval=None if appr is None else (appr.decision or "pending"),
        ))  # fmt: skip
    return ranked(out, now), alerts


def _alerts_of(ctx: ServiceContext, tenant: str, child: str, others: list[str]) -> list[Any]:
    """Alerts that concern the child: about someone they talk to, or in a conversation they wrote in.

    The contacts cover every conversation the child only received messages in (whoever wrote to them is a
    contact), so the child's own messages are the only ones read: never a prolific contact's whole history.
    """
    fs = store(ctx)
    rows = fs.alerts_about(tenant, fs.conversations_of(tenant, child), others)
    reports = {r.about for r in fs.reports(tenant, child, told_parent=True)}
    # a child's report reaches the parent only when the child chose to tell them
    return [a for a in rows if a.kind != "child_report" or a.subject in reports]


def parent_alerts(
    ctx: ServiceContext, tenant: str, child: str, known: tuple[list[Contact], list[Any]] | None = None
) -> list[dict[str, Any]]:
    """The alerts that concern ``child`` in plain words (``known``: contacts and alert rows already read)."""
    fs = store(ctx)
    people, rows = known if known is not None else _contacts_and_alerts(ctx, tenant, child)
    names = {c.account: c.display_name for c in people}
    shown = fs.notices(tenant, child, limit=500)
    seen_in = fs.conversation_stages(tenant, sorted({a.conversation for a in rows if a.conversation}))
    out = []
    for a in rows:
        words = alert_text(a.kind)
        stages = [s for s in (a.stages.split(",") if a.stages else []) if s]
        if not stages and a.kind == "grooming" and a.conversation:
            stages = list(seen_in.get(a.conversation, ()))  # the alert named none: what was seen since
        seen = [
            n.kind.value
            for n in shown
            if n.about == a.subject or (a.conversation and n.conversation == a.conversation)
        ]
        out.append({
            "id": a.id, "key": a.key, "kind": a.kind, "headline": words.headline, "what": words.what,
            "signs": stage_words(stages), "next_steps": list(words.next_steps), "at": a.event_at.isoformat(),
            "about": a.subject, "about_name": names.get(a.subject or "") or a.subject,
            "status": a.status, "child_saw": sorted(set(seen)), "escalated": a.status == "escalated",
        })  # fmt: skip
    return out


def child_summary(ctx: ServiceContext, tenant: str, child: str) -> ChildSummary:
    fs = store(ctx)
    now = ctx.clock.now()
    facts = _known(ctx, tenant, child)
    people, rows = _contacts_and_alerts(ctx, tenant, child)
    settings = fs.settings(tenant)
    bits = Control(facts.controls)
    approvals = [
        {
            "adult": c.account,
            "name": c.display_name or c.account,
            "status": c.approval,
            "age_band": c.age_band,
        }
        for c in people
        if c.approval is not None
    ]
    told = [
        {"about": r.about, "reason": r.reason, "at": r.at.isoformat()}
        for r in fs.reports(tenant, child, told_parent=True)
    ]
    links = fs.links(tenant, child=child)
    return ChildSummary(
        account=child, display_name=facts.display_name, age_band=facts.age_band, contacts=people,
        alerts=parent_alerts(ctx, tenant, child, (people, rows)), approvals=approvals,
        controls={"approval_required": bool(bits & Control.APPROVAL_REQUIRED),
                  "pause_non_connections": bool(bits & Control.PAUSE_NON_CONNECTIONS)},
        allowed={"approval_required": settings.allow_approval, "pause_non_connections": settings.allow_pause,
                 "weekly_summary": settings.allow_weekly_summary},
        new_adults=sum(1 for c in people if c.adult and c.new(now)), reports=told,
        since=min((lk.since for lk in links), default=None),
    )  # fmt: skip


def contact_json(c: Contact, now: datetime) -> dict[str, Any]:
    return {
        "account": c.account, "display_name": c.display_name, "age_band": c.age_band,
        "assurance": c.assurance,
        "adult": c.adult, "new": c.new(now), "since": c.since.isoformat(),
        "last_message_at": c.last_at.isoformat() if c.last_at else None, "messages_per_week": c.messages_week,
        "child_follows": c.child_follows, "follows_child": c.follows_child, "mutual": c.mutual,
        "blocked": c.blocked, "alerts": c.alerts, "open_alerts": c.open_alerts, "approval": c.approval,
    }  # fmt: skip


def summary_json(s: ChildSummary, now: datetime) -> dict[str, Any]:
    return {
        "account": s.account, "display_name": s.display_name, "age_band": s.age_band,
        "contacts": [contact_json(c, now) for c in s.contacts], "alerts": s.alerts, "approvals": s.approvals,
        "controls": s.controls, "allowed_controls": s.allowed, "new_adult_contacts": s.new_adults,
        "reports_shared": s.reports, "linked_since": s.since.isoformat() if s.since else None,
    }  # fmt: skip


def set_controls(
    ctx: ServiceContext, tenant: str, child: str, approval_required: bool, pause_non_connections: bool
) -> None:
    settings = store(ctx).settings(tenant)
    if approval_required and not settings.allow_approval:
        raise ConflictError("this platform does not offer approval of new adult contacts")
    if pause_non_connections and not settings.allow_pause:
        raise ConflictError("this platform does not offer pausing contact from non-connections")
    event = ParentalControlsEvent(
        _event_id("controls"), ctx.clock.now(), child, approval_required, pause_non_connections
    )
    submit(ctx, tenant, event)


def decide_contact(ctx: ServiceContext, tenant: str, child: str, adult: str, approve: bool, by: str) -> None:
    _known(ctx, tenant, adult)
    now = ctx.clock.now()
    submit(ctx, tenant, ContactApprovalEvent(_event_id("approval"), now, child, adult, approve))
    store(ctx).decide_approval(tenant, child, adult, approve, by, now)


def may_read_flagged(ctx: ServiceContext, tenant: str, child: str) -> bool:
    """Whether this platform shows the parent of ``child`` the messages behind escalated alerts."""
    return (
        store(ctx).settings(tenant).show_flagged_to_under13_parents
        and _known(ctx, tenant, child).age_band == "under_13"
    )


def flagged_messages(ctx: ServiceContext, tenant: str, child: str, alert_key: str) -> list[dict[str, Any]]:
    """The messages that drove an alert, for the parent of an under-13, after a moderator escalated it,
    and only on a platform whose family settings allow it; otherwise a :class:`ConflictError` says why."""
    from safeguarding.store.moderation import conversation_messages
    from safeguarding.web.cases import alert_by_key, driving_messages

    settings: FamilySettings = store(ctx).settings(tenant)
    facts = _known(ctx, tenant, child)
    if not settings.show_flagged_to_under13_parents:
        raise ConflictError("this platform does not show message text to parents")
    if facts.age_band != "under_13":
        raise ConflictError("message text is shown only to parents of under-13s")
    keys = {a["key"] for a in parent_alerts(ctx, tenant, child)}
    if alert_key not in keys:
        raise NotFoundError("no such alert for this child")
    with ctx.sql.reader.connect() as conn:
        alert = alert_by_key(conn, tenant, alert_key)
        if alert is None or alert.status != "escalated":
            raise ConflictError("message text is shown only after a moderator escalated the case")
        msgs = conversation_messages(conn, tenant, alert.conversation) if alert.conversation else []
    upto = next((i for i, m in enumerate(msgs) if m.id == alert.event_id), len(msgs) - 1)
    drivers = driving_messages(ctx.detector, msgs, upto, alert.subject)
    return [
        {"at": m.at.isoformat(), "from": m.sender, "text": m.text, "signs": stage_words(list(drivers[i]))}
        for i, m in enumerate(msgs)
        if i in drivers
    ]


# -- the weekly summary ----------------------------------------------------------------------------------


def summary_text(ctx: ServiceContext, tenant: str, children: list[str]) -> tuple[str, str]:
    from safeguarding.families.summary import ChildWeek, weekly_summary

    now = ctx.clock.now()
    weeks = []
    for c in sorted(children):
        s = child_summary(ctx, tenant, c)
        recent = [a["headline"] for a in s.alerts if a["at"] >= (now - WEEK).isoformat()]
        weeks.append(ChildWeek(s.display_name or c, s.contacts, recent))
    return weekly_summary(weeks, now)


def send_summaries(ctx: ServiceContext) -> dict[str, int]:
    """Email each linked parent their weekly summary, once per week (``sg_family_summaries``)."""
    import smtplib
    from email.message import EmailMessage

    from safeguarding.families.summary import week_of

    st = ctx.settings
    if not st.smtp_host:
        raise ConflictError("no SMTP server configured (SAFEGUARDING_SMTP_HOST)")
    now = ctx.clock.now()
    sent = skipped = opted_out = 0
    for tenant in ctx.tenancy.tenants():
        fs = store(ctx)
        if not fs.settings(tenant.id).allow_weekly_summary:
            continue
        by_parent: dict[str, list[str]] = {}
        for lk in fs.links(tenant.id):
            by_parent.setdefault(lk.parent, []).append(lk.child)
        for parent, kids in sorted(by_parent.items()):
            user = ctx.tenancy.user(parent)
            if user is None or user.disabled_at is not None:
                continue
            if not fs.weekly_email(tenant.id, parent):
                opted_out += 1
                continue
            if fs.summary_sent(tenant.id, parent, week_of(now)):
                skipped += 1
                continue
            subject, body = summary_text(ctx, tenant.id, kids)
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = st.smtp_from, user.email, subject
            msg.set_content(body)
            with smtplib.SMTP(st.smtp_host, st.smtp_port, timeout=30) as smtp:
                if st.smtp_starttls:
                    smtp.starttls()
                if st.smtp_user:
                    smtp.login(st.smtp_user, st.smtp_password or "")
                smtp.send_message(msg)
            fs.mark_summary(tenant.id, parent, week_of(now), "email", now)  # after sending: at least once
            sent += 1
    return {"sent": sent, "already_sent": skipped, "opted_out": opted_out}
