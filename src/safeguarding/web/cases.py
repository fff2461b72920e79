"""The console's read side: the review queue and a case, assembled from the stores for one tenant.

Queue order: risk first (rounded to two places, highest first), then the child's age band (youngest
first; an unknown age counts as a minor, design guide §4), then newest. The child of an alert is the
other participant of its conversation (from the preserved messages), so account alerts with no
conversation sort after every conversation of the same risk.

Prior alerts: for every participant (the reported account and the child alike), the other alerts about
them (same ``subject``, child reports included) with their count, and the other alerts raised in this
conversation, so a repeat pattern, or a repeat false accusation, is visible on the case.

Driving messages: alerts do not store message indexes, so the case view replays the tenant's detector
over the preserved text up to the alerting message (deterministic, same model) and takes its driving
messages; a detector that names none falls back to the messages that raised the suspect's risk.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from safeguarding.events.types import MessageEvent
from safeguarding.store import moderation as mod
from safeguarding.store import schema as t
from safeguarding.store.alerts import AlertRecord, _alert
from safeguarding.types import Message

AGE_RANK = {"under_13": 0, "13_15": 1, "unknown": 1, "16_17": 2, "adult": 3}
NO_CHILD = 4
STATUSES = ("open", "escalated", "actioned", "dismissed", "overturned")
QUEUE_SCAN = 2000
"""How many of a tenant's newest alerts the queue considers (older ones are reached by filtering)."""
PRIOR_LIST = 50
"""How many other alerts a case lists per participant (the count covers them all)."""


@dataclass(frozen=True, slots=True)
class QueueItem:
    alert: AlertRecord
    child: str | None
    child_band: str
    review: mod.Review | None


@dataclass
class Queue:
    items: list[QueueItem]
    counts: dict[str, list[tuple[str, int]]]
    filters: dict[str, str]
    total: int


def _accounts(conn: Connection, tenant: str, ids: Iterable[str]) -> dict[str, Any]:
    p = f"{tenant}/"
    wanted = [p + i for i in set(ids)]
    if not wanted:
        return {}
    rows = conn.execute(select(t.accounts).where(t.accounts.c.id.in_(wanted))).all()
    return {r.id[len(p) :]: r for r in rows}


def _participants(conn: Connection, tenant: str, conversations: Sequence[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if not conversations:
        return out
    m = mod.messages.c
    stmt = (
        select(m.conversation, m.sender, m.recipients)
        .where(m.tenant == tenant, m.conversation.in_(list(set(conversations))))
        .distinct()
    )
    for r in conn.execute(stmt):
        people = out.setdefault(r.conversation, set())
        people.add(r.sender)
        people.update(json.loads(r.recipients))
    return out


def _child(alert: AlertRecord, people: dict[str, set[str]], bands: dict[str, Any]) -> tuple[str | None, str]:
    others = sorted(people.get(alert.conversation or "", set()) - {alert.subject or ""})
    if not others:
        return None, "-"
    best = min(others, key=lambda o: AGE_RANK.get(bands[o].age_band if o in bands else "unknown", 1))
    return best, bands[best].age_band if best in bands else "unknown"


def build_queue(
    conn: Connection, tenant: str, *, kind: str = "", stage: str = "", band: str = "", status: str = "open"
) -> Queue:
    c = t.alerts.c
    stmt = select(t.alerts).where(c.tenant == tenant).order_by(c.id.desc()).limit(QUEUE_SCAN)
    alerts = [_alert(r) for r in conn.execute(stmt)]
    people = _participants(conn, tenant, [a.conversation for a in alerts if a.conversation])
    bands = _accounts(conn, tenant, {p for ps in people.values() for p in ps})
    rows = [(a, *_child(a, people, bands)) for a in alerts]
    filters = {"kind": kind, "stage": stage, "band": band, "status": status}

    def facets(a: AlertRecord, child_band: str) -> dict[str, Sequence[str]]:
        return {"kind": [a.kind], "stage": a.stages, "band": [child_band], "status": [a.status]}

    def keep(a: AlertRecord, child_band: str, skip: str = "") -> bool:
        f = facets(a, child_band)
        return all(not want or name == skip or want in f[name] for name, want in filters.items())

    counts: dict[str, list[tuple[str, int]]] = {}
    for name in filters:
        n: Counter[str] = Counter()
        for a, _, cb in rows:
            if keep(a, cb, skip=name):
                n.update(facets(a, cb)[name])
        counts[name] = sorted(n.items())
    chosen = [(a, ch, cb) for a, ch, cb in rows if keep(a, cb)]
    chosen.sort(key=lambda x: (-round(x[0].risk, 2), AGE_RANK.get(x[2], NO_CHILD), -x[0].id))
    reviews = mod.reviews_of(conn, tenant, [a.key for a, _, _ in chosen])
    items = [QueueItem(a, ch, cb, reviews.get(a.key)) for a, ch, cb in chosen]
    return Queue(items, counts, filters, len(alerts))


# -- one case ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineItem:
    index: int
    message: MessageEvent
    role: str
    driving: bool
    stages: tuple[str, ...]
    alerting: bool


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    role: str
    age_band: str
    assurance: str
    account_age_days: int | None
    country: str | None
    risk: float | None
    signals: tuple[tuple[str, float, str], ...]
    prior_count: int = 0
    """Other alerts about this account on the platform (any conversation, any kind)."""
    prior: tuple[AlertRecord, ...] = ()
    """The newest :data:`PRIOR_LIST` of them."""


@dataclass
class Case:
    alert: AlertRecord
    timeline: list[TimelineItem]
    people: list[Person]
    prior_alerts: list[AlertRecord]
    """Other alerts about the participants or in this conversation, newest first."""
    actions: list[mod.ActionRecord]
    shown: list[dict[str, Any]]
    review: mod.Review | None
    packages: list[tuple[str, datetime, str]]
    holds: int
    stage_counts: dict[str, int] = field(default_factory=dict)


def alert_by_key(conn: Connection, tenant: str, key: str) -> AlertRecord | None:
    c = t.alerts.c
    r = conn.execute(select(t.alerts).where(c.tenant == tenant, c.key == key)).first()
    return _alert(r) if r else None


def driving_messages(
    detector: Any, messages: Sequence[MessageEvent], upto: int, suspect: str | None
) -> dict[int, tuple[str, ...]]:
    """``{index: stages}`` of the messages that drove the alert raised at message ``upto``."""
    if detector is None or upto < 0:
        return {}
    state = detector.new_state("console")
    last = None
    rising: dict[int, tuple[str, ...]] = {}
    before = 0.0
    for i, m in enumerate(messages[: upto + 1]):
        if m.text is None:
            continue
        last = detector.update(state, Message(author=m.sender, text=m.text, time=m.at.isoformat()))
        if m.sender == suspect and last.risk > before + 1e-9:
            rising[i] = tuple(s.value for s in last.stages)
        before = last.risk
    evidence = getattr(last, "evidence", ()) if last is not None else ()
    if evidence:
        return {d.index: tuple(s.value for s in d.stages) for d in evidence if d.index <= upto}
    return rising


def build_case(conn: Connection, ctx: Any, tenant: str, key: str) -> Case | None:
    from safeguarding.evidence.chain import EntryKind
    from safeguarding.evidence.sql import case_entries, holds

    alert = alert_by_key(conn, tenant, key)
    if alert is None:
        return None
    msgs = mod.conversation_messages(conn, tenant, alert.conversation) if alert.conversation else []
    upto = next((i for i, m in enumerate(msgs) if m.id == alert.event_id), len(msgs) - 1)
    drivers = driving_messages(ctx.detector, msgs, upto, alert.subject)
    ids = {alert.subject} if alert.subject else set()
    for m in msgs:
        ids.add(m.sender)
        ids.update(m.recipients)
    timeline = [
        TimelineItem(
            i,
            m,
            "suspect" if m.sender == alert.subject else "other",
            i in drivers,
            drivers.get(i, ()),
            m.id == alert.event_id,
        )
        for i, m in enumerate(msgs)
    ]
    people = [
        _person(ctx, tenant, i, alert.subject) for i in sorted(ids, key=lambda x: (x != alert.subject, x))
    ]
    people, prior = _prior_alerts(conn, tenant, alert, people)
    shown: list[dict[str, Any]] = []
    if alert.conversation:
        for e in case_entries(conn, tenant, conversation=alert.conversation, subject=None):
            data = e.data()
            if e.kind == EntryKind.DECISION and isinstance(data, dict):
                shown.append({"at": e.at, "decision": data.get("decision"), "rule": data.get("rule"),
                              "notice": data.get("notice"), "event": data.get("event")})  # fmt: skip
    case_keys = {alert.conversation, alert.subject} - {None}
    n_holds = sum(1 for h in holds(conn, tenant) if h.case in case_keys and h.released_at is None)
    acts = mod.actions_of(conn, tenant, conversation=alert.conversation) if alert.conversation else []
    if alert.subject:
        acts += [a for a in mod.actions_of(conn, tenant, subject=alert.subject) if a not in acts]
    stage_counts = Counter(s for st in drivers.values() for s in st)
    return Case(
        alert, timeline, people, prior, sorted(acts, key=lambda a: a.id), shown,
        mod.reviews_of(conn, tenant, [key]).get(key), mod.packages_of(conn, tenant, key), n_holds,
        dict(stage_counts),
    )  # fmt: skip


def _prior_alerts(
    conn: Connection, tenant: str, alert: AlertRecord, people: list[Person]
) -> tuple[list[Person], list[AlertRecord]]:
    """Each participant with the count and newest list of the other alerts about them; and every other
    alert about a participant or in this conversation (newest first)."""
    c = t.alerts.c
    ids = [p.id for p in people]
    counts: dict[str, int] = {
        r[0]: int(r[1])
        for r in conn.execute(
            select(c.subject, func.count())
            .where(c.tenant == tenant, c.subject.in_(ids), c.key != alert.key)
            .group_by(c.subject)
        )
    }
    others: list[AlertRecord] = []
    for pid in ids:  # per person, so one busy account cannot push the others' alerts off the page
        stmt = select(t.alerts).where(c.tenant == tenant, c.subject == pid, c.key != alert.key)
        others += [_alert(r) for r in conn.execute(stmt.order_by(c.id.desc()).limit(PRIOR_LIST))]
    if alert.conversation:
        stmt = select(t.alerts).where(
            c.tenant == tenant, c.conversation == alert.conversation, c.key != alert.key
        )
        others += [_alert(r) for r in conn.execute(stmt.order_by(c.id.desc()).limit(PRIOR_LIST))]
    unique = sorted({a.id: a for a in others}.values(), key=lambda a: -a.id)
    people = [
        replace(p, prior_count=counts.get(p.id, 0), prior=tuple(a for a in unique if a.subject == p.id))
        for p in people
    ]
    return people, unique


def _person(ctx: Any, tenant: str, account: str, suspect: str | None) -> Person:
    eng = ctx.engines.read(tenant)
    rec = eng.account(account)
    role = "reported account" if account == suspect else "other participant"
    if rec is None:
        return Person(account, role, "unknown", "-", None, None, None, ())
    risk = eng.account_risk(account)
    now = ctx.clock.now()
    age = (now - rec.created_at).days if rec.created_at else None
    signals = tuple((s.name, s.value, s.reason) for s in risk.signals if s.value)
    return Person(
        account, role, rec.age_band.value, rec.assurance.value, age, rec.country, risk.risk, signals
    )
