"""What each event does: the facts a decision needs, the signals it records, the alerts it raises.

Order inside an event is fixed, because it is part of the engine's determinism:
1. check every named account is known (before anything changes, so a bad event leaves no trace);
2. score text with the conversation's streaming detector (messages with text only);
3. record the *attempt* in the sender's signal windows (it happened, whatever the decision);
4. read the sender's fused risk and decide with the policy, per recipient;
5. apply what was allowed (edges), count denials, and raise alerts on threshold crossings.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from safeguarding.engine import family
from safeguarding.engine.clock import Clock
from safeguarding.engine.detector import ConversationDetector
from safeguarding.engine.outcome import Alert, AlertKind, Outcome, RecipientDecision
from safeguarding.engine.state import WorkingSet
from safeguarding.errors import EventError
from safeguarding.events.types import (
    AcceptEvent,
    AccountEvent,
    BlockEvent,
    ContactApprovalEvent,
    ContactRequestEvent,
    DeclineEvent,
    Event,
    FollowEvent,
    GroupInviteEvent,
    MessageEvent,
    ParentalControlsEvent,
    ReportEvent,
    UnblockEvent,
    UnfollowEvent,
    accounts_of,
)
from safeguarding.families.controls import Control
from safeguarding.policy.ages import age_on, as_recipient, as_sender, band_at, is_minor, min_age_gap
from safeguarding.policy.model import Action, ContactFacts, Decision, Notice, Party, Verdict
from safeguarding.policy.policy import Policy
from safeguarding.signals.catalog import AccountFacts, Counter, Signal
from safeguarding.signals.fusion import AccountRisk, RiskModel
from safeguarding.signals.text import asks_to_move_off_platform
from safeguarding.signals.windows import BUCKET_SECONDS, bucket_of, window_start
from safeguarding.store.protocol import AccountRecord, ConversationRecord, EdgeKind, OutboxItem
from safeguarding.types import AgeBand, Message, Reason

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Relation:
    """The edges between a sender and a recipient at the moment of a contact."""

    blocked: bool
    recipient_follows_sender: bool
    sender_follows_recipient: bool
    first_contact: bool
    recipient_in_group: bool
    approved: bool = False
    """A parent of the recipient approved contact from the sender (parental controls)."""

    @property
    def connected(self) -> bool:
        return self.recipient_follows_sender


@dataclass(frozen=True, slots=True)
class PairResult:
    decision: Decision
    relation: Relation
    adult_to_minor: bool
    recipient_minor: bool = False
    awaits_approval: bool = False
    """Denied only for want of a parent's approval (with it, the policy would have let it through)."""


class EventProcessor:
    """Applies one event to the working set. Not thread-safe: the :class:`Engine` serialises calls."""

    def __init__(
        self,
        policy: Policy,
        ws: WorkingSet,
        detector: ConversationDetector[Any] | None,
        signals: tuple[Signal, ...],
        clock: Clock,
    ) -> None:
        self.policy = policy
        self.ws = ws
        self.detector = detector
        self.signals = signals
        self.risk_model = RiskModel(policy.signals, signals)
        self.clock = clock
        self._risk_memo: dict[str, tuple[int, int, float, dict[str, float]]] = {}
        self._touched: set[str] = set()

    # -- facts -------------------------------------------------------------------------------------
    def party(self, rec: AccountRecord, at: datetime) -> Party:
        band = band_at(rec.age_band, rec.birth_date, at)
        age = float(age_on(rec.birth_date, at.date())) if rec.birth_date is not None else None
        days = (at - rec.created_at).total_seconds() / 86400 if rec.created_at is not None else None
        return Party(band=band, assurance=rec.assurance, age_years=age, account_age_days=days)

    def relation(self, s: str, r: str, group: str | None) -> Relation:
        has = self.ws.has
        return Relation(
            blocked=has(EdgeKind.BLOCK, s, r) or has(EdgeKind.BLOCK, r, s),
            recipient_follows_sender=has(EdgeKind.FOLLOW, r, s) or has(EdgeKind.CONTACT, r, s),
            sender_follows_recipient=has(EdgeKind.FOLLOW, s, r),
            first_contact=not has(EdgeKind.MESSAGED, s, r),
            recipient_in_group=group is not None and has(EdgeKind.MEMBER, r, group),
            approved=has(EdgeKind.APPROVED, r, s),
        )

    def _account_facts(self, account: str, bucket: int) -> AccountFacts:
        # account age at the start of the hour, so values only move when the bucket or windows do
        rec = self.ws.account(account)
        age = None
        if rec is not None and rec.created_at is not None:
            age = max(0.0, (bucket * BUCKET_SECONDS - rec.created_at.timestamp()) / 86400)
        return AccountFacts(age)

    def risk_values(self, account: str, at: datetime) -> tuple[float, dict[str, float]]:
        """Fused risk and signal values at the hour of ``at``; memoised until the account's windows change."""
        bucket = bucket_of(at)
        w = self.ws.window(account, at)
        memo = self._risk_memo.get(account)
        if memo is not None and memo[0] == bucket and memo[1] == w.version:
            return memo[2], memo[3]
        risk, values = self.risk_model.quick(w, bucket, self._account_facts(account, bucket))
        self._risk_memo[account] = (bucket, w.version, risk, values)
        return risk, values

    def account_risk(self, account: str, at: datetime) -> AccountRisk:
        """The full, explained account risk (for alerts and questions; decisions use :meth:`risk_values`)."""
        bucket = bucket_of(at)
        w = self.ws.window(account, at)
        facts = self._account_facts(account, bucket)
        return self.risk_model.assess(account, w, bucket, facts)

    def forget(self) -> None:
        self._risk_memo.clear()

    def decide_pair(
        self,
        action: Action,
        s_rec: AccountRecord,
        r_rec: AccountRecord,
        at: datetime,
        *,
        group: str | None = None,
        conversation: ConversationRecord | None = None,
        record: bool = True,
    ) -> PairResult:
        """Facts → signals (when ``record``) → decision, for one sender and one recipient."""
        rel = self.relation(s_rec.id, r_rec.id, group)
        sp, rp = self.party(s_rec, at), self.party(r_rec, at)
        recipient_minor = is_minor(as_recipient(rp.band))
        adult_to_minor = as_sender(sp.band) is AgeBand.ADULT and recipient_minor
        if record and adult_to_minor:
            self._record_attempt(action, s_rec.id, r_rec, rel, sp, rp, at)
        risk, values = self.risk_values(s_rec.id, at)
        conv = conversation
        facts = ContactFacts(
            action=action,
            sender=sp,
            recipient=rp,
            direct=group is None,
            blocked=rel.blocked,
            recipient_follows_sender=rel.recipient_follows_sender,
            sender_follows_recipient=rel.sender_follows_recipient,
            connected=rel.connected,
            first_contact=rel.first_contact,
            recipient_in_group=rel.recipient_in_group,
            sender_risk=risk,
            signals=values,
            conversation_risk=conv.risk if conv else 0.0,
            conversation_flagged=bool(conv and conv.flagged),
            sender_suspected=bool(conv and conv.flagged and conv.suspect == s_rec.id),
            parent_approval_needed=bool(r_rec.controls & Control.APPROVAL_REQUIRED)
            and rel.first_contact
            and not rel.approved,
            recipient_contact_paused=bool(r_rec.controls & Control.PAUSE_NON_CONNECTIONS),
        )
        decision = self.policy.decide(facts)
        awaits = (
            facts.parent_approval_needed
            and not decision.allowed
            and self.policy.decide(replace(facts, parent_approval_needed=False)).allowed
        )
        return PairResult(decision, rel, adult_to_minor, recipient_minor, awaits)

    def _count(self, account: str, counter: str, at: datetime) -> None:
        self.ws.count(account, counter, at)
        self._touched.add(account)

    def _member(self, account: str, counter: str, at: datetime, member: str) -> None:
        self.ws.add_member(account, counter, at, member)
        self._touched.add(account)

    def _record_attempt(
        self, action: Action, s: str, r_rec: AccountRecord, rel: Relation, sp: Party, rp: Party, at: datetime
    ) -> None:
        if not rel.connected:
            self._count(s, Counter.UNCONNECTED_MINOR_CONTACTS, at)
        if action is Action.CONTACT_REQUEST:
            self._count(s, Counter.REQUESTS_TO_MINORS, at)
        if rel.first_contact and (action is Action.MESSAGE or not rel.connected):
            self._member(s, Counter.MINORS_FIRST_CONTACTED, at, r_rec.id)
        if action is Action.MESSAGE:
            zone = ZoneInfo(r_rec.timezone) if r_rec.timezone else UTC
            if self.policy.night.is_night(at.astimezone(zone).hour):
                self._count(s, Counter.NIGHT_CONTACTS_WITH_MINORS, at)
        gap = min_age_gap(as_sender(sp.band), as_recipient(rp.band), sp.age_years, rp.age_years)
        if gap >= self.policy.signals.large_age_gap_years:
            self._member(s, Counter.LARGE_GAP_MINORS, at, r_rec.id)

    # -- events ------------------------------------------------------------------------------------
    def handle(self, event: Event) -> Outcome:
        """Process one event into the working set. Raises :class:`EventError` before changing anything."""
        self._require_accounts(event)
        self._touched = set()
        if isinstance(event, AccountEvent):
            return self._account(event)
        if isinstance(event, MessageEvent):
            return self._message(event)
        if isinstance(event, FollowEvent | ContactRequestEvent | GroupInviteEvent):
            return self._contact(event)
        if isinstance(event, ParentalControlsEvent):
            self.ws.put_account(family.apply_controls(self._rec(event.account), event))
            return Outcome(event.id, event.type.value, self.policy.no_decision())
        if isinstance(event, ContactApprovalEvent):
            family.apply_approval(self.ws, event)
            return Outcome(event.id, event.type.value, self.policy.no_decision())
        self._relationship(event)
        if isinstance(event, ReportEvent) and self._is_minor(event.actor, event.at):
            risk, _ = self.risk_values(event.target, event.at)
            report = family.child_report_alert(event, risk, self.policy.alerts.child_report_risk)
            alerts = (report, *self._account_alerts(event.at, event.conversation))
            return Outcome(event.id, event.type.value, self.policy.no_decision(), alerts)
        return Outcome(
            event.id, event.type.value, self.policy.no_decision(), self._account_alerts(event.at, None)
        )

    def _require_accounts(self, event: Event) -> None:
        if isinstance(event, AccountEvent):
            return
        for account in accounts_of(event):
            if self.ws.account(account) is None:
                raise EventError(
                    f"unknown account {account!r}: send its 'account' event first", event_id=event.id
                )

    def _rec(self, account: str) -> AccountRecord:
        rec = self.ws.account(account)
        assert rec is not None  # checked by _require_accounts
        return rec

    def _account(self, e: AccountEvent) -> Outcome:
        old = self.ws.account(e.account)
        self._risk_memo.pop(e.account, None)
        created = e.created or (old.created_at if old else None) or e.at
        self.ws.put_account(
            AccountRecord(
                id=e.account,
                age_band=e.age_band,
                birth_date=e.birth_date,
                assurance=e.assurance,
                created_at=created,
                country=e.country,
                timezone=e.timezone,
                risk_alerted=old.risk_alerted if old else False,
                pattern_alert_until=old.pattern_alert_until if old else None,
                display_name=e.display_name
                if e.display_name is not None
                else (old.display_name if old else None),
                controls=old.controls if old else 0,
            )
        )
        return Outcome(e.id, e.type.value, self.policy.no_decision())

    def _contact(self, e: FollowEvent | ContactRequestEvent | GroupInviteEvent) -> Outcome:
        action = {
            FollowEvent: Action.FOLLOW,
            ContactRequestEvent: Action.CONTACT_REQUEST,
            GroupInviteEvent: Action.GROUP_INVITE,
        }[type(e)]
        result = self.decide_pair(action, self._rec(e.actor), self._rec(e.target), e.at)
        d = result.decision
        if d.allowed:
            if isinstance(e, FollowEvent):
                self.ws.add_edge(EdgeKind.FOLLOW, e.actor, e.target, e.at)
            elif isinstance(e, ContactRequestEvent):
                self.ws.add_edge(EdgeKind.REQUEST, e.actor, e.target, e.at)
            elif d.notice is Notice.CONSENT_REQUIRED:
                self.ws.add_edge(EdgeKind.INVITE, e.target, e.group, e.at)
            else:
                self.ws.add_edge(EdgeKind.MEMBER, e.target, e.group, e.at)
        alerts = self._after_decision(e.actor, d, e.at, None)
        notices = family.request_notices(action, e.actor, e.target, result)
        return Outcome(e.id, e.type.value, d, alerts, notices=notices)

    def _message(self, e: MessageEvent) -> Outcome:
        alerts: list[Alert] = []
        conv = self.ws.conversation(e.conversation)
        if e.text is not None and self.detector is not None:
            conv, alert = self._score(e, conv)
            if alert is not None:
                alerts.append(alert)
        s_rec = self._rec(e.sender)
        results = [
            self.decide_pair(Action.MESSAGE, s_rec, self._rec(r), e.at, group=e.group, conversation=conv)
            for r in e.recipients
        ]
        if (
            e.text is not None
            and any(p.adult_to_minor for p in results)
            and asks_to_move_off_platform(e.text)
        ):
            self._count(e.sender, Counter.OFF_PLATFORM_REQUESTS, e.at)
        for r, p in zip(e.recipients, results, strict=True):
            if p.decision.allowed and p.relation.first_contact:
                self.ws.add_edge(EdgeKind.MESSAGED, e.sender, r, e.at)
        decision = self.policy.combine([p.decision for p in results])
        per: tuple[RecipientDecision, ...] = ()
        if len(results) > 1:
            per = tuple(
                RecipientDecision(r, p.decision.verdict, p.decision.rule, p.decision.notice)
                for r, p in zip(e.recipients, results, strict=True)
            )
        alerts.extend(self._after_decision(e.sender, decision, e.at, e.conversation))
        notices, approvals = family.message_notes(e, results)
        return Outcome(e.id, e.type.value, decision, tuple(alerts), per, notices=notices, approvals=approvals)

    def _score(
        self, e: MessageEvent, conv: ConversationRecord | None
    ) -> tuple[ConversationRecord, Alert | None]:
        det = self.detector
        assert det is not None and e.text is not None
        state = self.ws.live.get(e.conversation)
        if state is None:
            if conv is not None and conv.detector_state is not None and conv.detector_version == det.version:
                state = det.load_state(conv.detector_state)
            else:
                if conv is not None and conv.detector_state is not None:
                    log.warning("detector version changed; a conversation's scoring starts afresh")
                state = det.new_state(e.conversation)
        a = det.update(state, Message(author=e.sender, text=e.text, time=e.at.isoformat()))
        base = conv or ConversationRecord(id=e.conversation)
        limit = self.policy.alerts.grooming_risk
        suspect = a.suspect
        if limit is None:
            hit = a.flagged
        elif (pick := getattr(det, "eligible_author", None)) is not None:
            # the policy's threshold, with the detector's own minimum-evidence rule (one line never alerts)
            who = pick(state, limit)
            hit, suspect = who is not None, suspect or who
        else:  # a third-party detector without the rule: its conversation risk against the threshold
            hit = a.risk >= limit
        new = replace(
            base,
            detector_version=det.version,
            messages=base.messages + 1,
            flagged=base.flagged or hit,
            risk=round(a.risk, 6),
            suspect=suspect or base.suspect,
            stages=tuple(s.value for s in a.stages),
            alerted=base.alerted or hit,
            updated_at=e.at,
        )
        self.ws.put_conversation(new, state)
        if not hit or base.alerted:
            return new, None
        alert = Alert(
            kind=AlertKind.GROOMING,
            subject=new.suspect,
            conversation=e.conversation,
            risk=round(a.risk, 4),
            stages=new.stages,
            reasons=a.reasons,
        )
        return new, alert

    def _relationship(self, e: Event) -> None:
        ws = self.ws
        if isinstance(e, UnfollowEvent):
            ws.remove_edge(EdgeKind.FOLLOW, e.actor, e.target)
        elif isinstance(e, UnblockEvent):
            ws.remove_edge(EdgeKind.BLOCK, e.actor, e.target)
        elif isinstance(e, AcceptEvent):
            if e.group is not None:
                ws.remove_edge(EdgeKind.INVITE, e.actor, e.group)
                ws.add_edge(EdgeKind.MEMBER, e.actor, e.group, e.at)
            else:
                ws.remove_edge(EdgeKind.REQUEST, e.target, e.actor)
                ws.add_edge(EdgeKind.CONTACT, e.actor, e.target, e.at)
                ws.add_edge(EdgeKind.CONTACT, e.target, e.actor, e.at)
        elif isinstance(e, DeclineEvent):
            if e.group is not None:
                ws.remove_edge(EdgeKind.INVITE, e.actor, e.group)
            else:
                ws.remove_edge(EdgeKind.REQUEST, e.target, e.actor)
                if self._minor_vs_adult(e.actor, e.target, e.at):
                    self._count(e.target, Counter.REQUESTS_DECLINED_BY_MINORS, e.at)
        elif isinstance(e, BlockEvent):
            ws.add_edge(EdgeKind.BLOCK, e.actor, e.target, e.at)
            for kind in (EdgeKind.FOLLOW, EdgeKind.CONTACT, EdgeKind.REQUEST):
                ws.remove_edge(kind, e.actor, e.target)
                ws.remove_edge(kind, e.target, e.actor)
            if self._is_minor(e.actor, e.at):
                self._count(e.target, Counter.BLOCKED_BY_MINORS, e.at)
        elif isinstance(e, ReportEvent) and self._is_minor(e.actor, e.at):
            self._count(e.target, Counter.REPORTED_BY_MINORS, e.at)

    def _is_minor(self, account: str, at: datetime) -> bool:
        """Protective reading: an unknown-age blocker or reporter counts as a minor."""
        rec = self._rec(account)
        return is_minor(as_recipient(band_at(rec.age_band, rec.birth_date, at)))

    def _minor_vs_adult(self, minor: str, adult: str, at: datetime) -> bool:
        rec = self._rec(adult)
        return (
            self._is_minor(minor, at)
            and as_sender(band_at(rec.age_band, rec.birth_date, at)) is AgeBand.ADULT
        )

    # -- alerts ------------------------------------------------------------------------------------
    def _after_decision(
        self, sender: str, d: Decision, at: datetime, conversation: str | None
    ) -> tuple[Alert, ...]:
        alerts: list[Alert] = []
        if d.verdict is Verdict.DENY:
            self._count(sender, Counter.DENIED_CONTACT_ATTEMPTS, at)
            pattern = self._pattern_alert(sender, at, conversation)
            if pattern is not None:
                alerts.append(pattern)
        alerts.extend(self._account_alerts(at, conversation))
        return tuple(alerts)

    def _pattern_alert(self, account: str, at: datetime, conversation: str | None) -> Alert | None:
        cfg = self.policy.alerts
        w = self.ws.window(account, at)
        now = bucket_of(at)
        n = w.count(Counter.DENIED_CONTACT_ATTEMPTS, window_start(now, cfg.blocked_pattern_window_hours), now)
        rec = self._rec(account)
        if n < cfg.blocked_pattern_count or (
            rec.pattern_alert_until is not None and at < rec.pattern_alert_until
        ):
            return None
        self.ws.put_account(
            replace(rec, pattern_alert_until=at + timedelta(hours=cfg.blocked_pattern_window_hours))
        )
        risk, _ = self.risk_values(account, at)
        why = Reason(
            "alert.blocked_contact_pattern",
            f"{n} contact attempts denied by policy in the last {cfg.blocked_pattern_window_hours} hours",
        )
        return Alert(AlertKind.BLOCKED_CONTACT_PATTERN, account, conversation, round(risk, 4), (), (why,))

    def _account_alerts(self, at: datetime, conversation: str | None) -> tuple[Alert, ...]:
        """Risky-account alerts for every account whose windows this event changed (with hysteresis)."""
        cfg = self.policy.alerts
        alerts = []
        for account in sorted(self._touched):
            rec = self._rec(account)
            risk, _ = self.risk_values(account, at)
            if not rec.risk_alerted and risk >= cfg.account_risk:
                self.ws.put_account(replace(rec, risk_alerted=True))
                why = self.account_risk(account, at).reasons
                alerts.append(Alert(AlertKind.RISKY_ACCOUNT, account, conversation, round(risk, 4), (), why))
            elif rec.risk_alerted and risk < cfg.account_risk_rearm:
                self.ws.put_account(replace(rec, risk_alerted=False))
        return tuple(alerts)

    def outbox_items(self, event_id: str, alerts: tuple[Alert, ...]) -> list[OutboxItem]:
        now = self.clock.now()
        items = []
        for i, a in enumerate(alerts):
            payload = {"event": event_id, **a.line(), "reasons": [r.message for r in a.reasons]}
            items.append(OutboxItem(f"{event_id}:{i}", "alert", json.dumps(payload, sort_keys=True), now))
        return items
