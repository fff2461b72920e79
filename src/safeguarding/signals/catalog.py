"""The built-in metadata signals: what each one counts, what it means, and how it reads its window.

Every signal works without message text except ``off_platform_requests``, which counts only when text
is available (it is then zero under end-to-end encryption, and says so in its reason).

Counters are written by the engine (see :mod:`safeguarding.engine.signals_recorder`); signals only read
them. A platform adds a signal by implementing :class:`Signal` over the same counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from safeguarding.signals.config import SignalSettings
from safeguarding.signals.windows import WindowView, window_start


class Counter:
    """Names of the per-account counters (the vocabulary shared by the recorder and the signals)."""

    UNCONNECTED_MINOR_CONTACTS = "unconnected_minor_contacts"
    """Messages, requests, follows and invites from an adult to minors outside the minor's connections."""
    REQUESTS_TO_MINORS = "requests_to_minors"
    REQUESTS_DECLINED_BY_MINORS = "requests_declined_by_minors"
    BLOCKED_BY_MINORS = "blocked_by_minors"
    REPORTED_BY_MINORS = "reported_by_minors"
    NIGHT_CONTACTS_WITH_MINORS = "night_contacts_with_minors"
    OFF_PLATFORM_REQUESTS = "off_platform_requests"
    DENIED_CONTACT_ATTEMPTS = "denied_contact_attempts"
    # distinct counters (members are account ids)
    MINORS_FIRST_CONTACTED = "minors_first_contacted"
    LARGE_GAP_MINORS = "large_gap_minors"


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What a signal may know about the account besides its windows."""

    account_age_days: float | None
    text_seen: bool = True


@dataclass(frozen=True, slots=True)
class SignalValue:
    """One signal's reading: the raw value, its 0..1 score, its share of the risk, and why."""

    name: str
    value: float
    score: float
    weight: float
    reason: str

    @property
    def contribution(self) -> float:
        return self.weight * self.score


class Signal(Protocol):
    """A metadata signal: a value read from an account's windows, a 0..1 score, and a sentence.

    Split in three so the hot path (every contact decision reads the sender's risk) only measures and
    scores; the sentence is written only when someone will read it (an alert, an API answer). All three
    must be pure: same windows, bucket, settings and facts, same result.
    """

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def measure(
        self, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
    ) -> float:
        """The raw value (a count, a rate, days)."""
        ...

    def score(self, value: float, settings: SignalSettings) -> float:
        """The value mapped to 0..1 (0: no evidence)."""
        ...

    def explain(
        self, value: float, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
    ) -> str:
        """One sentence saying what the value means, for moderators."""
        ...


def read(
    signal: Signal, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
) -> SignalValue:
    """Measure, score and explain one signal."""
    value = signal.measure(view, now_bucket, settings, facts)
    reason = signal.explain(value, view, now_bucket, settings, facts)
    return SignalValue(signal.name, value, signal.score(value, settings), settings.weight, reason)


def saturating(value: float, settings: SignalSettings) -> float:
    """``min(1, value / saturation)``, and 0 below ``minimum``: the usual score of a count."""
    if value < settings.minimum or value <= 0:
        return 0.0
    return min(1.0, value / settings.saturation)


def _hours(h: int) -> str:
    if h % 24 == 0:
        days = h // 24
        return "24 hours" if days == 1 else f"{days} days"
    return f"{h} hours"


@dataclass(frozen=True, slots=True)
class CountSignal:
    """A plain sliding count (or distinct count) of one counter."""

    name: str
    description: str
    counter: str
    template: str
    """Reason sentence: ``{n}`` the count, ``{s}``/``{ren}`` plural endings, ``{window}`` the window."""
    distinct: bool = False

    def measure(
        self, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
    ) -> float:
        since = now_bucket - settings.window_hours + 1
        if self.distinct:
            return float(view.distinct(self.counter, since, now_bucket))
        return float(view.count(self.counter, since, now_bucket))

    def score(self, value: float, settings: SignalSettings) -> float:
        return saturating(value, settings)

    def explain(
        self, value: float, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
    ) -> str:
        n = int(value)
        return self.template.format(
            n=n,
            s="" if n == 1 else "s",
            ren="" if n == 1 else "ren",
            window=f"in the last {_hours(settings.window_hours)}",
        )


@dataclass(frozen=True, slots=True)
class DeclineRateSignal:
    name: str = "request_decline_rate"
    description: str = "Share of the account's contact requests to minors that the minors declined."

    def _counts(self, view: WindowView, now_bucket: int, settings: SignalSettings) -> tuple[int, int]:
        since = window_start(now_bucket, settings.window_hours)
        sent = view.count(Counter.REQUESTS_TO_MINORS, since, now_bucket)
        return sent, view.count(Counter.REQUESTS_DECLINED_BY_MINORS, since, now_bucket) if sent else 0

    def measure(
        self, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
    ) -> float:
        sent, declined = self._counts(view, now_bucket, settings)
        if sent < max(1.0, settings.minimum):
            return 0.0
        return min(1.0, declined / sent)

    def score(self, value: float, settings: SignalSettings) -> float:
        return min(1.0, value / settings.saturation) if value > 0 else 0.0

    def explain(
        self, value: float, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
    ) -> str:
        sent, declined = self._counts(view, now_bucket, settings)
        window = _hours(settings.window_hours)
        if sent < max(1.0, settings.minimum):
            plural = "" if sent == 1 else "s"
            return f"{sent} contact request{plural} to minors in the last {window}: too few to judge"
        return f"minors declined {declined} of {sent} contact requests in the last {window}"


@dataclass(frozen=True, slots=True)
class NewAccountSignal:
    """Account age amplifies other evidence; on its own it never raises risk (most new accounts are fine)."""

    name: str = "new_account"
    description: str = "How recently the account was created; counts only alongside other evidence."

    def measure(
        self, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
    ) -> float:
        age = facts.account_age_days
        return -1.0 if age is None else round(age, 2)

    def score(self, value: float, settings: SignalSettings) -> float:
        if value < 0:
            return 0.0
        return max(0.0, min(1.0, 1.0 - value / settings.saturation))

    def explain(
        self, value: float, view: WindowView, now_bucket: int, settings: SignalSettings, facts: AccountFacts
    ) -> str:
        return "account creation time unknown" if value < 0 else f"account is {value:.1f} days old"


BUILTIN_SIGNALS: tuple[Signal, ...] = (
    CountSignal(
        "unconnected_minor_contacts",
        "Messages, contact requests, follows and group invites from an adult (or unknown-age) account to "
        "under-18s who had not connected with it.",
        Counter.UNCONNECTED_MINOR_CONTACTS,
        "{n} attempt{s} to contact under-18s outside their connections {window}",
    ),
    DeclineRateSignal(),
    CountSignal(
        "blocked_by_minors",
        "Blocks received from under-18s.",
        Counter.BLOCKED_BY_MINORS,
        "blocked {n} time{s} by under-18s {window}",
    ),
    CountSignal(
        "reported_by_minors",
        "Reports received from under-18s.",
        Counter.REPORTED_BY_MINORS,
        "reported {n} time{s} by under-18s {window}",
    ),
    CountSignal(
        "large_age_gap_contacts",
        "Different minors contacted who are at least `large_age_gap_years` younger (by band or birth date).",
        Counter.LARGE_GAP_MINORS,
        "contacted {n} much younger child{ren} {window}",
        distinct=True,
    ),
    CountSignal(
        "night_contacts_with_minors",
        "Messages to under-18s sent during the night in the recipient's time zone.",
        Counter.NIGHT_CONTACTS_WITH_MINORS,
        "{n} message{s} to under-18s at night in their time zone {window}",
    ),
    CountSignal(
        "first_contact_fan_out",
        "Different under-18s this adult contacted for the first time (repeated first contacts = fan-out).",
        Counter.MINORS_FIRST_CONTACTED,
        "first contact with {n} different under-18s {window}",
        distinct=True,
    ),
    CountSignal(
        "off_platform_requests",
        "Messages to under-18s asking to move to another app or share a phone number (needs text).",
        Counter.OFF_PLATFORM_REQUESTS,
        "{n} request{s} to move a minor to another app {window}",
    ),
    CountSignal(
        "denied_contact_attempts",
        "Contact attempts the policy denied.",
        Counter.DENIED_CONTACT_ATTEMPTS,
        "{n} contact attempt{s} denied by policy {window}",
    ),
    NewAccountSignal(),
)
