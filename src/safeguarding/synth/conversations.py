"""Seeded synthetic chats: benign look-alikes, grooming escalations over days, mass-contact adults.

Why: the examples, demo and tests must never carry real children's chats, yet they need conversations that
read like chat and that put secrets, ages and meet-ups on *both* sides of the label. Every sentence here was
written for this project.

How: each kind is a small builder that strings *beats* together. A beat picks a template from a phrase bank
(:mod:`safeguarding.synth.phrases`), fills slots and alternatives, and the speaker's style adds txt-speak,
typos, elongation and emoji. Given ``random.Random(seed)`` the output is identical on every machine: no set
iteration, no ``hash()``, string seeds only through ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from safeguarding.synth.phrases import BANKS, FIRST_NAMES, GAMES, SLOTS, Style, expand, stylise
from safeguarding.types import AgeBand, Conversation, Message, Stage

BENIGN_KINDS: tuple[str, ...] = (
    "friends", "family", "coach", "surprise_party", "dating_adults",
    "teens_mall", "gamers_trading", "study_group",
)  # fmt: skip
GROOMING_KINDS: tuple[str, ...] = ("grooming", "mass_contact")
KINDS: tuple[str, ...] = BENIGN_KINDS + GROOMING_KINDS

GROOMING_ORDER: tuple[Stage, ...] = (
    Stage.TRUST_BUILDING, Stage.INFORMATION_GATHERING, Stage.SECRECY_ISOLATION, Stage.GIFTS,
    Stage.SEXUALISATION, Stage.CONTROL_COERCION, Stage.OFF_PLATFORM, Stage.MEETING,
)  # fmt: skip
"""Order in which a generated escalation first shows each stage (``control_coercion`` is optional)."""


def age_band_for(age: int) -> AgeBand:
    """The age band of a known age in years."""
    if age < 13:
        return AgeBand.UNDER_13
    if age < 16:
        return AgeBand.AGE_13_15
    if age < 18:
        return AgeBand.AGE_16_17
    return AgeBand.ADULT


def iso_utc(when: datetime) -> str:
    """``2026-01-05T18:02:00Z``: ISO-8601 in UTC, second precision (naive times are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone in a synthetic chat: ``author`` is their handle in the messages, ``name`` their first name."""

    author: str
    name: str
    age: int
    age_band: AgeBand
    role: str


@dataclass(frozen=True, slots=True)
class SyntheticConversation:
    """A generated conversation with its ground truth.

    ``stages_by_message[i]`` are the grooming stages message ``i`` shows (empty for benign chat and for
    replies); ``recipients[i]`` are the authors message ``i`` was addressed to.
    """

    conversation: Conversation
    kind: str
    label: int
    suspect: str | None
    victim: str | None
    participants: tuple[Participant, ...]
    stages_by_message: tuple[tuple[Stage, ...], ...]
    recipients: tuple[tuple[str, ...], ...]

    @property
    def stages(self) -> tuple[Stage, ...]:
        """Stages in the order they first appear."""
        seen: dict[Stage, None] = {}
        for tags in self.stages_by_message:
            for s in tags:
                seen.setdefault(s, None)
        return tuple(seen)

    def to_record(self, *, labels: bool = False) -> dict[str, object]:
        """The ``scan`` contract's JSONL record; with ``labels`` also the ground truth."""
        rec: dict[str, object] = {
            "id": self.conversation.id,
            "messages": [
                {"author": m.author, "text": m.text, "time": m.time} for m in self.conversation.messages
            ],
        }
        if labels:
            rec.update(kind=self.kind, label=self.label, suspect=self.suspect, victim=self.victim)
            rec["participants"] = [
                {"author": p.author, "age_band": str(p.age_band)} for p in self.participants
            ]
            rec["stages"] = [[str(s) for s in tags] for tags in self.stages_by_message]
        return rec


# --------------------------------------------------------------------------------------------- builder


def _handle(name: str, rng: random.Random, taken: set[str], *, formal: bool) -> str:
    while True:
        pattern = rng.choice(SLOTS["formal_handle_pattern" if formal else "handle_pattern"])
        h = expand(
            pattern, rng, {"n": name.lower(), "d": str(rng.randint(1, 99)), "i": rng.choice("abcdjkmrst")}
        )
        if h not in taken:
            taken.add(h)
            return h


@dataclass(slots=True)
class _Person:
    participant: Participant
    style: Style


class _Chat:
    """Accumulates messages with times, recipients and stage tags for one conversation."""

    def __init__(self, rng: random.Random, start: datetime, ctx: dict[str, str]) -> None:
        self.rng = rng
        self.t = start if start.tzinfo else start.replace(tzinfo=UTC)
        self.ctx = ctx
        self.people: list[_Person] = []
        self.messages: list[Message] = []
        self.tags: list[tuple[Stage, ...]] = []
        self.to: list[tuple[str, ...]] = []
        self._taken: set[str] = set()
        self._used: set[tuple[str, str]] = set()
        self.pending: str | None = None
        self._names: list[str] = [ctx["friend"]] if "friend" in ctx else []

    def person(self, role: str, age: int, *, formal: bool = False, name: str | None = None) -> int:
        if name is None:
            name = self.rng.choice([n for n in FIRST_NAMES if n not in self._names])
        self._names.append(name)
        author = _handle(name, self.rng, self._taken, formal=formal)
        style = Style.formal(self.rng) if formal else Style.casual(self.rng)
        self.people.append(_Person(Participant(author, name, age, age_band_for(age), role), style))
        return len(self.people) - 1

    def say(
        self,
        who: int,
        bank: str,
        stages: tuple[Stage, ...] = (),
        *,
        to: int | None = None,
        gap: tuple[int, int] = (8, 150),
        template: str | None = None,
    ) -> None:
        """``who`` says a line from ``bank`` (or ``template``) to ``to`` (default: everyone else).

        A template ``"question => answer"`` leaves ``answer`` pending for the next :meth:`reply`.
        """
        me = self.people[who]
        others = [i for i in range(len(self.people)) if i != who]
        them = to if to is not None else self.rng.choice(others)
        ctx = dict(self.ctx)
        ctx.update(me=me.participant.name, them=self.people[them].participant.name)
        ctx.update(myage=str(me.participant.age), theirage=str(self.people[them].participant.age))
        if template is None:
            template = self._pick(bank)
        line, _, answer = template.partition(" => ")
        self.pending = answer or None
        text = stylise(expand(line, self.rng, ctx), me.style, self.rng)
        self.t += timedelta(seconds=self.rng.randint(*gap))
        self.messages.append(Message(me.participant.author, text, iso_utc(self.t)))
        self.tags.append(stages)
        rec = (to,) if to is not None else tuple(others)
        self.to.append(tuple(self.people[i].participant.author for i in rec))

    def reply(self, who: int, bank: str, *, to: int | None = None, gap: tuple[int, int] = (8, 150)) -> None:
        """Answer the last line: its paired answer if it had one, else a line from ``bank``."""
        self.say(who, bank, to=to, gap=gap, template=self.pending)

    def _pick(self, bank: str) -> str:
        """A template from ``bank``, avoiding ones this chat already used when there is a fresh one."""
        options = BANKS[bank]
        fresh = [t for t in options if (bank, t) not in self._used] or list(options)
        choice = self.rng.choice(fresh)
        self._used.add((bank, choice))
        return choice

    def next_day(self, days: int = 1, hours: tuple[int, int] = (15, 22)) -> None:
        day = (self.t + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.t = max(self.t, day + timedelta(hours=self.rng.randint(*hours), minutes=self.rng.randint(0, 59)))

    def done(
        self, cid: str, kind: str, label: int, suspect: int | None, victim: int | None
    ) -> SyntheticConversation:
        ps = tuple(p.participant for p in self.people)
        return SyntheticConversation(
            conversation=Conversation(cid, tuple(self.messages), source=f"synth:{kind}"),
            kind=kind,
            label=label,
            suspect=ps[suspect].author if suspect is not None else None,
            victim=ps[victim].author if victim is not None else None,
            participants=ps,
            stages_by_message=tuple(self.tags),
            recipients=tuple(self.to),
        )


def _pairs(c: _Chat, a: int, b: int, topics: Sequence[str], n: int, reply_p: float = 0.85) -> None:
    """``n`` exchanges on random ``topics``: a line from ``a`` (or ``b``) and usually a reply."""
    for _ in range(n):
        topic = c.rng.choice(topics)
        x, y = (a, b) if c.rng.random() < 0.6 else (b, a)
        c.say(x, topic, to=y)
        if c.rng.random() < reply_p:
            c.reply(y, f"{topic}_r", to=x)
        if c.rng.random() < 0.2:
            c.say(c.rng.choice((x, y)), "filler")


def _open(c: _Chat, a: int, b: int) -> None:
    c.say(a, "hi", to=b)
    if c.rng.random() < 0.8:
        c.reply(b, "hi_r", to=a)
    if c.rng.random() < 0.5:
        c.say(a, "how", to=b)
        c.reply(b, "how_r", to=a)


def _close(c: _Chat, a: int, b: int) -> None:
    if c.rng.random() < 0.6:
        c.say(a, "bye", to=b)
        if c.rng.random() < 0.7:
            c.reply(b, "bye_r", to=a)


def _teen_age(rng: random.Random) -> int:
    return rng.randint(13, 17)


# --------------------------------------------------------------------------------------------- kinds


def _context(rng: random.Random) -> dict[str, str]:
    """Per-conversation facts (one game, one place, one honoree ...) so a chat stays coherent."""
    game, currency, skin = rng.choice(GAMES)
    pr, po, prs = rng.choice((("she", "her", "she's"), ("he", "him", "he's"), ("they", "them", "they're")))
    ctx = {"game": game, "currency": currency, "skin": expand(skin, rng, {}), "pr": pr, "po": po, "prs": prs}
    for key in ("place", "app", "subject", "day", "time", "artist", "sport", "teacher", "town"):
        ctx[key] = rng.choice(SLOTS[key])
    ctx["n3"] = f"{rng.randrange(1000):03d}"
    ctx["friend"] = rng.choice(FIRST_NAMES)
    return ctx


def _friends(c: _Chat) -> None:
    age = _teen_age(c.rng)
    a = c.person("friend", age)
    b = c.person("friend", min(17, max(13, age + c.rng.choice((-1, 0, 0, 1)))))
    if c.rng.random() < 0.25:
        c.person("friend", age)
    _open(c, a, b)
    _pairs(c, a, b, ("school", "games", "music", "sport", "plans"), c.rng.randint(3, 8))
    if len(c.people) == 3:
        _pairs(c, 2, c.rng.choice((a, b)), ("plans", "games", "school"), c.rng.randint(1, 3))
    _close(c, a, b)


def _family(c: _Chat) -> None:
    parent = c.person("parent", c.rng.randint(34, 54), formal=True)
    kid = c.person("child", c.rng.randint(10, 17))
    for _ in range(c.rng.randint(4, 8)):
        if c.rng.random() < 0.6:
            c.say(parent, "fam_p", to=kid, gap=(30, 1800))
            c.reply(kid, "fam_p_r", to=parent, gap=(20, 600))
        else:
            c.say(kid, "fam_k", to=parent, gap=(30, 1800))
            c.reply(parent, "fam_k_r", to=kid, gap=(20, 600))


def _coach(c: _Chat) -> None:
    persona = c.rng.choice(("coach", "teacher"))
    staff = c.person(persona, c.rng.randint(25, 60), formal=True)
    kid = c.person("child", c.rng.randint(11, 16))
    parent = c.person("parent", c.rng.randint(34, 54), formal=True)
    c.ctx["kid"] = c.people[kid].participant.name
    for _ in range(c.rng.randint(3, 6)):
        c.say(staff, persona, gap=(60, 7200))
        if c.rng.random() < 0.7:
            c.reply(kid, "staff_k", to=staff, gap=(30, 900))
        if c.rng.random() < 0.5:
            c.say(parent, "staff_p", to=staff, gap=(30, 900))


def _group_rounds(c: _Chat, bank: str, rounds: int) -> None:
    for _ in range(rounds):
        x = c.rng.randrange(len(c.people))
        c.say(x, bank, to=None if len(c.people) > 2 else 1 - x)
        if c.rng.random() < 0.8:
            y = c.rng.choice([i for i in range(len(c.people)) if i != x])
            c.reply(y, f"{bank}_r", to=x)
        if c.rng.random() < 0.15:
            c.say(c.rng.randrange(len(c.people)), "filler")


def _surprise_party(c: _Chat) -> None:
    age = c.rng.choice((_teen_age(c.rng), c.rng.randint(19, 40)))
    for _ in range(c.rng.choice((2, 3))):
        c.person("friend", age)
    _open(c, 0, 1)
    _group_rounds(c, "party", c.rng.randint(4, 8))
    _close(c, 1, 0)


def _dating_adults(c: _Chat) -> None:
    age = c.rng.randint(20, 40)
    a = c.person("adult", age)
    b = c.person("adult", max(20, age + c.rng.randint(-6, 6)))
    _open(c, a, b)
    c.say(a, "date_age", to=b)
    c.reply(b, "date_age_r", to=a)
    for day in range(c.rng.randint(1, 3)):
        if day:
            c.next_day(hours=(18, 23))
            c.say(c.rng.choice((a, b)), "hi", to=None)
        for _ in range(c.rng.randint(2, 5)):
            x, y = (a, b) if c.rng.random() < 0.5 else (b, a)
            topic = c.rng.choice(("date_plan", "date_flirt", "date_flirt"))
            c.say(x, topic, to=y)
            if c.rng.random() < 0.8:
                c.reply(y, f"{topic}_r", to=x)


def _teens_mall(c: _Chat) -> None:
    age = _teen_age(c.rng)
    for _ in range(c.rng.choice((2, 2, 3))):
        c.person("friend", min(17, age + c.rng.randint(0, 1)))
    _open(c, 0, 1)
    _group_rounds(c, "mall", c.rng.randint(4, 8))
    _close(c, 0, 1)


def _gamers_trading(c: _Chat) -> None:
    age = _teen_age(c.rng)
    a = c.person("gamer", age)
    b = c.person("gamer", min(17, max(13, age + c.rng.randint(-1, 1))))
    _open(c, a, b)
    _pairs(c, a, b, ("trade", "trade", "games"), c.rng.randint(4, 8))
    _close(c, b, a)


def _study_group(c: _Chat) -> None:
    age = c.rng.randint(13, 17)
    for _ in range(3):
        c.person("student", age)
    _group_rounds(c, "study", c.rng.randint(5, 9))


_STAGE_BANK: dict[Stage, str] = {
    Stage.TRUST_BUILDING: "g_trust", Stage.INFORMATION_GATHERING: "g_info",
    Stage.SECRECY_ISOLATION: "g_secret", Stage.GIFTS: "g_gift", Stage.SEXUALISATION: "g_sex",
    Stage.CONTROL_COERCION: "g_control", Stage.OFF_PLATFORM: "g_app", Stage.MEETING: "g_meet",
}  # fmt: skip


def _grooming(c: _Chat) -> None:
    """An adult befriends a 12-15-year-old and escalates over several days, stage by stage."""
    rng = c.rng
    s = c.person("suspect", rng.randint(19, 45))
    v = c.person("victim", rng.randint(12, 15))
    real = c.people[s].participant.age
    c.ctx["year"] = str(c.people[v].participant.age - 5)
    c.ctx["claimed"] = str(real if rng.random() < 0.5 else rng.randint(15, 17))
    c.ctx["myhandle"] = c.people[v].participant.author
    plan = [st for st in GROOMING_ORDER if st is not Stage.CONTROL_COERCION or rng.random() < 0.4]
    n_sessions = rng.randint(3, min(7, len(plan)))
    cuts = [0, *sorted(rng.sample(range(1, len(plan)), n_sessions - 1)), len(plan)]
    for k in range(n_sessions):
        if k:
            c.next_day(rng.choice((1, 1, 1, 2)), hours=(16, 23))
        first, second = (s, v) if rng.random() < 0.75 else (v, s)
        c.say(first, "hi", to=second, gap=(5, 60))
        c.reply(second, "hi_r", to=first)
        for _ in range(rng.randint(0, 2)):
            c.say(s, "g_small", to=v)
            c.reply(v, "g_small_r", to=s)
        if k and rng.random() < 0.4:
            c.say(s, "g_trust", (Stage.TRUST_BUILDING,), to=v)
        for stage in plan[cuts[k] : cuts[k + 1]]:
            for _ in range(rng.randint(2, 4) if stage in GROOMING_ORDER[:2] else rng.randint(1, 3)):
                c.say(s, _STAGE_BANK[stage], (stage,), to=v)
                if rng.random() < 0.85:
                    c.reply(v, _STAGE_BANK[stage] + "_r", to=s)
                if stage is Stage.INFORMATION_GATHERING and rng.random() < 0.3:
                    c.say(s, "g_claim", to=v)
        if rng.random() < 0.7:
            c.say(s, "g_bye", to=v)
            if rng.random() < 0.6:
                c.reply(v, "bye_r", to=s)


def _mass_contact(c: _Chat) -> None:
    """One adult sends short first contacts to many different minors; a few answer."""
    rng = c.rng
    a = c.person("suspect", rng.randint(22, 50))
    c.ctx["handle"] = c.people[a].participant.author + rng.choice(("", "_2", "x", str(rng.randint(1, 9))))
    parts = (
        ("mc_compliment", Stage.TRUST_BUILDING),
        ("mc_age", Stage.INFORMATION_GATHERING),
        ("mc_app", Stage.OFF_PLATFORM),
    )
    for _ in range(rng.randint(8, 12)):
        t = c.person("target", rng.randint(11, 16))
        chosen = [p for p in parts if rng.random() < 0.65]
        if len(chosen) < 2:
            chosen = rng.sample(parts, 2)
            chosen.sort(key=parts.index)
        template = " ".join(rng.choice(BANKS[bank]) for bank, _ in chosen)
        opener = rng.random() < 0.2
        if opener:
            c.say(a, "mc_open", to=t, gap=(30, 600))
        stages = tuple(st for _, st in chosen)
        c.say(a, "", stages, to=t, gap=(5, 60) if opener else (30, 600), template=template)
        if rng.random() < 0.5:
            c.reply(t, "mc_r", to=a, gap=(10, 240))
            if rng.random() < 0.5:
                c.say(a, "mc_follow", (Stage.OFF_PLATFORM,), to=t, gap=(5, 90))


_BUILDERS = {
    "friends": _friends, "family": _family, "coach": _coach, "surprise_party": _surprise_party,
    "dating_adults": _dating_adults, "teens_mall": _teens_mall, "gamers_trading": _gamers_trading,
    "study_group": _study_group, "grooming": _grooming, "mass_contact": _mass_contact,
}  # fmt: skip


def generate(
    kind: str, rng: random.Random, *, conversation_id: str, start: datetime
) -> SyntheticConversation:
    """One synthetic conversation of ``kind`` (see ``KINDS``), starting at ``start`` (UTC).

    Deterministic given the state of ``rng``. Grooming kinds have ``label`` 1 and a ``suspect`` (the adult);
    ``grooming`` also has a ``victim`` (12-15), ``mass_contact`` has many targets and no single victim.
    Raises ``ValueError`` for an unknown kind.
    """
    if kind not in _BUILDERS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    c = _Chat(rng, start, _context(rng))
    _BUILDERS[kind](c)
    if kind in GROOMING_KINDS:
        return c.done(conversation_id, kind, 1, 0, 1 if kind == "grooming" else None)
    return c.done(conversation_id, kind, 0, None, None)


DEFAULT_START = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)


def make_dataset(
    n: int, seed: int, kinds: Sequence[str] = KINDS, *, start: datetime = DEFAULT_START
) -> list[SyntheticConversation]:
    """``n`` conversations cycling through ``kinds``; item ``i`` depends only on ``(seed, i, kinds)``.

    So ``make_dataset(10, s)[:5] == make_dataset(5, s)``. Ids are ``syn-{seed}-{i:05d}``; start times spread
    over the 60 days after ``start``.
    """
    if not kinds:
        raise ValueError("kinds must not be empty")
    out = []
    for i in range(n):
        rng = random.Random(f"safeguarding-synth:{seed}:{i}")
        when = start + timedelta(days=rng.randrange(60), minutes=rng.randrange(8 * 60))
        out.append(generate(kinds[i % len(kinds)], rng, conversation_id=f"syn-{seed}-{i:05d}", start=when))
    return out
