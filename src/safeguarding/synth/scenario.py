"""A synthetic platform for tests and the demo: accounts, follows, contact requests and conversations.

``build_scenario(seed)`` makes a small platform where most of what happens is ordinary (friends, families, a
coach with parents in the loop, a study group), one adult grooms a 12-15-year-old over several days after a
contact request the child accepted, and one new adult account sends first contacts to about ten minors, who
decline, block and report. ``Scenario.to_events()`` emits the platform events in time order in the engine's
event schema (issue 3), e.g.::

    {"id": "e1", "type": "account", "account": "u001", "age_band": "adult", "assurance": "self_declared",
     "at": "2026-01-05T18:00:00Z", "created": "...", "country": "GB", "display_name": "...",
     "timezone": "Europe/London"}
    {"id": "e9", "type": "message", "conversation": "c1", "sender": "u001", "recipients": ["u002"],
     "text": "hey", "at": "..."}
    {"id": "e4", "type": "follow", "actor": "u002", "target": "u001", "at": "..."}

Every event is valid as it stands (``POST /v1/events`` refuses unknown fields); ``group_invite`` carries
the ``group`` it invites to and a ``report`` may name its ``conversation``. Account ids (``u001`` ...) and
conversation ids (``c1`` ...) carry no hint of age or role. Everything is deterministic given the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from safeguarding.synth.conversations import (
    BENIGN_KINDS,
    Participant,
    SyntheticConversation,
    generate,
    iso_utc,
)
from safeguarding.synth.phrases import SURNAMES
from safeguarding.types import AgeBand, Assurance, Conversation, Message

INTERACTION_TYPES: tuple[str, ...] = (
    "follow", "unfollow", "contact_request", "accept", "decline", "block", "report", "group_invite",
)  # fmt: skip
"""Event types with the ``actor``/``target`` shape (``report`` adds ``reason``)."""

DEFAULT_SCENARIO_START = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
_FIRST: tuple[str, ...] = ("family", "coach", "friends", "surprise_party", "teens_mall", "gamers_trading")
_BENIGN_ORDER: tuple[str, ...] = _FIRST + tuple(k for k in BENIGN_KINDS if k not in _FIRST)
_COUNTRIES = ("GB", "GB", "GB", "GB", "IE", "US", "AU")
_TIMEZONES = {
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "US": "America/New_York",
    "AU": "Australia/Sydney",
}


@dataclass(frozen=True, slots=True)
class Account:
    """A platform account. ``joined_at`` is when the platform reports it (the ``account`` event's ``at``)."""

    id: str
    display_name: str
    age_band: AgeBand
    assurance: Assurance
    created_at: datetime
    country: str
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class Interaction:
    """``actor`` does ``type`` (one of ``INTERACTION_TYPES``) to ``target`` at ``at``."""

    type: str
    actor: str
    target: str
    at: datetime
    reason: str | None = None
    group: str | None = None
    conversation: str | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A synthetic platform and its ground truth.

    ``conversations`` use account ids as authors; ``guardians`` pairs (parent, child) accounts; ``groomer``
    grooms ``victim``; ``mass_contact`` is the adult who contacted ``mass_targets``.
    """

    seed: int
    start: datetime
    accounts: tuple[Account, ...]
    interactions: tuple[Interaction, ...]
    conversations: tuple[SyntheticConversation, ...]
    guardians: tuple[tuple[str, str], ...]
    groomer: str
    victim: str
    mass_contact: str
    mass_targets: tuple[str, ...]

    @property
    def follows(self) -> tuple[Interaction, ...]:
        return tuple(i for i in self.interactions if i.type == "follow")

    def account(self, account_id: str) -> Account:
        """The account with ``account_id``; ``KeyError`` if there is none."""
        for a in self.accounts:
            if a.id == account_id:
                return a
        raise KeyError(account_id)

    def message_queues(
        self,
    ) -> tuple[dict[str, list[tuple[Message, tuple[str, ...]]]], dict[str, tuple[str, ...]]]:
        """Per conversation id: its messages in order with their recipients, and its members (first
        appearance order) — what a player needs to send the messages of :meth:`to_events` from devices."""
        queues = {
            sc.conversation.id: list(zip(sc.conversation.messages, sc.recipients, strict=True))
            for sc in self.conversations
        }
        members = {
            cid: tuple(dict.fromkeys([m.author for m, _ in q] + [r for _, to in q for r in to]))
            for cid, q in queues.items()
        }
        return queues, members

    def to_events(self, *, include_text: bool = True) -> list[dict[str, object]]:
        """All events in time order with unique ids ``e1``, ``e2`` ...

        Without ``include_text`` message events carry no ``text`` (end-to-end-encrypted mode).
        """
        rows: list[tuple[str, int, dict[str, object]]] = []
        for a in self.accounts:
            at = iso_utc(a.joined_at)
            acc: dict[str, object] = {"type": "account", "account": a.id, "age_band": str(a.age_band)}
            acc.update(assurance=str(a.assurance), at=at, created=iso_utc(a.created_at))
            acc.update(
                country=a.country, display_name=a.display_name, timezone=_TIMEZONES.get(a.country, "UTC")
            )
            rows.append((at, len(rows), acc))
        for it in self.interactions:
            at = iso_utc(it.at)
            row: dict[str, object] = {"type": it.type, "actor": it.actor, "target": it.target, "at": at}
            if it.type == "report":
                row["reason"] = it.reason or "other"
            if it.group is not None:
                row["group"] = it.group
            if it.conversation is not None:
                row["conversation"] = it.conversation
            rows.append((at, len(rows), row))
        for sc in self.conversations:
            for m, to in zip(sc.conversation.messages, sc.recipients, strict=True):
                at = m.time or iso_utc(self.start)
                msg: dict[str, object] = {
                    "type": "message",
                    "conversation": sc.conversation.id,
                    "sender": m.author,
                }
                msg["recipients"] = list(to)
                if include_text:
                    msg["text"] = m.text
                msg["at"] = at
                rows.append((at, len(rows), msg))
        rows.sort(key=lambda r: (r[0], r[1]))
        return [{"id": f"e{i}", **row} for i, (_, _, row) in enumerate(rows, start=1)]


class _Builder:
    def __init__(self, seed: int, start: datetime) -> None:
        self.rng = random.Random(f"safeguarding-scenario:{seed}")
        self.start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self.accounts: list[Account] = []
        self.interactions: list[Interaction] = []
        self.conversations: list[SyntheticConversation] = []
        self.guardians: list[tuple[str, str]] = []
        self._setup = self.start + timedelta(minutes=5)
        self.groups = 0

    def account(
        self,
        p: Participant,
        country: str,
        *,
        assurance: Assurance | None = None,
        created_at: datetime | None = None,
        display_name: str | None = None,
    ) -> str:
        rng = self.rng
        aid = f"u{len(self.accounts) + 1:03d}"
        if assurance is None:
            weights = (5, 2, 3) if p.age_band is AgeBand.ADULT else (4, 5, 1)
            assurance = rng.choices(list(Assurance), weights=weights)[0]
        if display_name is None:
            display_name = self._display_name(p)
        created = created_at or self.start - timedelta(
            days=rng.randint(30, 1500), minutes=rng.randrange(1440)
        )
        joined = max(created, self.start + timedelta(seconds=len(self.accounts)))
        self.accounts.append(Account(aid, display_name, p.age_band, assurance, created, country, joined))
        return aid

    def _display_name(self, p: Participant) -> str:
        surname = self.rng.choice(SURNAMES)
        if p.role == "coach":
            return f"Coach {surname}"
        if p.role == "teacher":
            return f"{self.rng.choice(('Mr', 'Ms', 'Mrs'))} {surname}"
        if p.age_band is AgeBand.ADULT:
            return f"{p.name} {surname}"
        return self.rng.choice((p.name, f"{p.name} {surname[0]}.", f"{p.name.lower()} ✨", p.author))

    def relate(self, a: str, b: str, *, mutual: bool = True) -> None:
        """Pre-existing follows, emitted during set-up."""
        for actor, target in ((a, b), (b, a)) if mutual else ((a, b),):
            self._setup += timedelta(seconds=1)
            self.interactions.append(Interaction("follow", actor, target, self._setup))

    def act(self, kind: str, actor: str, target: str, at: datetime, **extra: str) -> None:
        self.interactions.append(Interaction(kind, actor, target, at, **extra))

    def group(self) -> str:
        self.groups += 1
        return f"g{self.groups}"

    def add(self, sc: SyntheticConversation, ids: dict[str, str]) -> SyntheticConversation:
        """Store ``sc`` under a new conversation id with authors replaced by account ids."""
        cid = f"c{len(self.conversations) + 1}"
        msgs = tuple(Message(ids[m.author], m.text, m.time) for m in sc.conversation.messages)
        out = replace(
            sc,
            conversation=Conversation(cid, msgs, source=sc.conversation.source),
            suspect=ids[sc.suspect] if sc.suspect else None,
            victim=ids[sc.victim] if sc.victim else None,
            participants=tuple(replace(p, author=ids[p.author]) for p in sc.participants),
            recipients=tuple(tuple(ids[r] for r in to) for to in sc.recipients),
        )
        self.conversations.append(out)
        return out

    def when(self, lo_hours: float, hi_hours: float) -> datetime:
        return self.start + timedelta(minutes=self.rng.randint(int(lo_hours * 60), int(hi_hours * 60)))


def _split_by_target(sc: SyntheticConversation) -> list[SyntheticConversation]:
    """One mass-contact stream becomes one two-person conversation per minor contacted."""
    assert sc.suspect is not None
    out = []
    for p in sc.participants:
        if p.author == sc.suspect:
            continue
        msgs = sc.conversation.messages
        idx = [i for i, m in enumerate(msgs) if m.author == p.author or sc.recipients[i] == (p.author,)]
        conv = Conversation(sc.conversation.id, tuple(msgs[i] for i in idx), sc.conversation.source)
        thread = replace(
            sc,
            conversation=conv,
            victim=p.author,
            participants=tuple(q for q in sc.participants if q.author in (sc.suspect, p.author)),
            stages_by_message=tuple(sc.stages_by_message[i] for i in idx),
            recipients=tuple(sc.recipients[i] for i in idx),
        )
        out.append(thread)
    return out


def _at(m: Message) -> datetime:
    return datetime.fromisoformat(m.time) if m.time else DEFAULT_SCENARIO_START


def _add_benign(b: _Builder, seed: int, k: int) -> None:
    kind = _BENIGN_ORDER[k % len(_BENIGN_ORDER)]
    sc = generate(kind, random.Random(f"{seed}:benign:{k}"), conversation_id="", start=b.when(1, 24 * 6))
    country = b.rng.choice(_COUNTRIES)
    stored = b.add(sc, {p.author: b.account(p, country) for p in sc.participants})
    people = [p.author for p in stored.participants]
    parents = [p.author for p in stored.participants if p.role == "parent"]
    minors = [p.author for p in stored.participants if p.age_band is not AgeBand.ADULT]
    b.guardians.extend((parent, child) for parent in parents for child in minors)
    for i, x in enumerate(people):
        for y in people[i + 1 :]:
            b.relate(x, y)
    if kind == "gamers_trading" and stored.conversation.messages:
        # The trade went sour: one of them unfollows the other the next day.
        b.act("unfollow", people[1], people[0], _at(stored.conversation.messages[-1]) + timedelta(days=1))
    if kind == "study_group" and stored.conversation.messages:
        at = _at(stored.conversation.messages[0]) - timedelta(minutes=2)
        gid = b.group()
        for n, other in enumerate(people[1:]):
            b.act("group_invite", people[0], other, at + timedelta(seconds=n), group=gid)


def _add_grooming(b: _Builder, seed: int) -> tuple[str, str]:
    """An adult grooms a 12-15-year-old who accepted his contact request and follows him back."""
    rng = b.rng
    g_start = b.when(2, 4)
    g = generate("grooming", random.Random(f"{seed}:grooming"), conversation_id="", start=g_start)
    assert g.suspect is not None and g.victim is not None
    country = rng.choice(_COUNTRIES)
    recent = b.start - timedelta(days=rng.randint(3, 20))
    ids: dict[str, str] = {}
    for p in g.participants:
        if p.author == g.suspect:
            ids[p.author] = b.account(p, country, assurance=Assurance.SELF_DECLARED, created_at=recent)
        else:
            ids[p.author] = b.account(p, country)
    groomer, victim = ids[g.suspect], ids[g.victim]
    mum_or_dad = Participant("", rng.choice(("Claire", "Dev", "Sunita", "Mark")), 41, AgeBand.ADULT, "parent")
    parent = b.account(mum_or_dad, country, assurance=Assurance.VERIFIED)
    b.relate(victim, parent)
    b.guardians.append((parent, victim))
    t = g_start - timedelta(minutes=40)
    b.act("follow", groomer, victim, t)
    b.act("contact_request", groomer, victim, t + timedelta(minutes=1))
    b.act("accept", victim, groomer, t + timedelta(minutes=12))
    b.act("follow", victim, groomer, t + timedelta(minutes=13))
    b.add(g, ids)
    return groomer, victim


def _add_mass_contact(b: _Builder, seed: int) -> tuple[str, tuple[str, ...]]:
    """A day-old adult account sends first contacts to 8-12 minors, who decline, block, report or ignore."""
    rng = b.rng
    m_start = b.start + timedelta(days=1, hours=3)
    mc = generate("mass_contact", random.Random(f"{seed}:mass"), conversation_id="", start=m_start)
    assert mc.suspect is not None
    created = m_start - timedelta(hours=1)
    head = mc.participants[0]
    ids = {head.author: b.account(head, "GB", assurance=Assurance.SELF_DECLARED, created_at=created)}
    for p in mc.participants[1:]:
        ids[p.author] = b.account(p, rng.choice(_COUNTRIES))
    adult = ids[mc.suspect]
    outcomes = ["block", "report", "decline", "decline"]
    outcomes += [rng.choice(("decline", "ignore", "ignore", "block", "accept")) for _ in range(len(ids) - 5)]
    rng.shuffle(outcomes)
    targets: list[str] = []
    for thread, outcome in zip(_split_by_target(mc), outcomes, strict=True):
        stored = b.add(thread, ids)
        assert stored.victim is not None
        kid = stored.victim
        targets.append(kid)
        first, last = _at(stored.conversation.messages[0]), _at(stored.conversation.messages[-1])
        b.act("follow", adult, kid, first - timedelta(seconds=rng.randint(40, 120)))
        b.act("contact_request", adult, kid, first - timedelta(seconds=20))
        later = last + timedelta(minutes=rng.randint(1, 90))
        if outcome == "report":
            b.act("block", kid, adult, later)
            cid = stored.conversation.id
            b.act(
                "report",
                kid,
                adult,
                later + timedelta(seconds=30),
                reason="unwanted_contact",
                conversation=cid,
            )
        elif outcome != "ignore":
            b.act(outcome, kid, adult, later)
    gid = b.group()
    for n, target in enumerate(targets[:3]):
        b.act("group_invite", adult, target, m_start + timedelta(hours=2, seconds=n), group=gid)
    return adult, tuple(targets)


def build_scenario(seed: int = 0, *, n_benign: int = 8, start: datetime = DEFAULT_SCENARIO_START) -> Scenario:
    """A deterministic synthetic platform: ``n_benign`` ordinary chats, one grooming, one mass contact.

    Benign chats cycle through family, coach/teacher, friends, surprise party, mall, trading, study group
    and dating; they start within six days of ``start``. The grooming starts 2-4 hours after ``start``
    and runs over several days; the mass contact happens on day two.
    """
    b = _Builder(seed, start)
    for k in range(n_benign):
        _add_benign(b, seed, k)
    groomer, victim = _add_grooming(b, seed)
    adult, targets = _add_mass_contact(b, seed)
    return Scenario(
        seed=seed,
        start=b.start,
        accounts=tuple(b.accounts),
        interactions=tuple(b.interactions),
        conversations=tuple(b.conversations),
        guardians=tuple(b.guardians),
        groomer=groomer,
        victim=victim,
        mass_contact=adult,
        mass_targets=targets,
    )
