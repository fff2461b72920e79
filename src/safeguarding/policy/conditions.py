"""The condition language of policy rules: a closed table of facts a ``when`` table may test.

A rule's ``when`` is an AND of tests, e.g. ``{ sender_band = ["adult"], recipient_band = ["minor"],
recipient_follows_sender = false }``. The set of keys is closed on purpose: a misspelt key is an error
at load time (fail closed) rather than a test that silently never matches. Bands are compared *as seen
from each side*: an unknown sender is an adult, an unknown recipient a child (see :mod:`.ages`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from safeguarding.policy.ages import BAND_ALIASES, as_recipient, as_sender, min_age_gap
from safeguarding.policy.model import ContactFacts
from safeguarding.types import AgeBand, Assurance

Test = Callable[[ContactFacts], bool]


@dataclass(frozen=True, slots=True)
class Predicate:
    """One compiled test of a ``when`` table, with the key and value it came from (for explanations)."""

    key: str
    value: object
    test: Test


BOOL_FACTS: Mapping[str, str] = {
    "direct": "the message is a direct message (not in a group)",
    "blocked": "either account has blocked the other",
    "recipient_follows_sender": "the recipient follows the sender or accepted their contact request",
    "sender_follows_recipient": "the sender follows the recipient",
    "connected": "the sender is one of the recipient's connections",
    "first_contact": "the sender has never messaged the recipient before",
    "recipient_in_group": "the recipient joined the message's group (with consent)",
    "conversation_flagged": "the grooming detector flagged this conversation",
    "sender_suspected": "the grooming detector flagged this conversation and blames the sender",
    "parent_approval_needed": "the recipient's parent asked to approve new contacts, and has not approved "
    "this sender, who has never messaged the recipient",
    "recipient_contact_paused": "the recipient's parent paused contact from outside their connections",
}
NUMBER_FACTS: Mapping[str, str] = {
    "sender_risk_min": "the sender's fused account risk is at least this (0..1)",
    "sender_risk_max": "the sender's fused account risk is below this (0..1)",
    "conversation_risk_min": "the conversation's grooming risk is at least this (0..1)",
    "age_gap_years_min": "the sender is at least this many years older than the recipient",
    "sender_account_age_days_max": "the sender's account is younger than this many days",
    "sender_account_age_days_min": "the sender's account is at least this many days old",
}
LIST_FACTS: Mapping[str, str] = {
    "sender_band": "the sender's age band (unknown counts as adult); aliases: minor, any",
    "recipient_band": "the recipient's age band (unknown counts as under_13); aliases: minor, any",
    "sender_assurance": "how the sender's age was established",
    "recipient_assurance": "how the recipient's age was established",
}
TABLE_FACTS: Mapping[str, str] = {
    "signals_min": "each named signal of the sender is at least the given value",
}
KNOWN_KEYS = frozenset(BOOL_FACTS) | frozenset(NUMBER_FACTS) | frozenset(LIST_FACTS) | frozenset(TABLE_FACTS)


def _bool(key: str, want: bool) -> Test:
    def test(f: ContactFacts) -> bool:
        return bool(getattr(f, key)) is want

    return test


def _number(key: str, limit: float) -> Test:
    if key == "sender_risk_min":
        return lambda f: f.sender_risk >= limit
    if key == "sender_risk_max":
        return lambda f: f.sender_risk < limit
    if key == "conversation_risk_min":
        return lambda f: f.conversation_risk >= limit
    if key == "age_gap_years_min":
        return lambda f: (
            min_age_gap(
                as_sender(f.sender.band),
                as_recipient(f.recipient.band),
                f.sender.age_years,
                f.recipient.age_years,
            )
            >= limit
        )
    if key == "sender_account_age_days_max":
        # unknown creation time counts as a new account: the riskier reading
        return lambda f: f.sender.account_age_days is None or f.sender.account_age_days < limit
    return lambda f: f.sender.account_age_days is not None and f.sender.account_age_days >= limit


def _bands(names: list[str], where: str, problems: list[str]) -> frozenset[AgeBand]:
    out: set[AgeBand] = set()
    valid = [b.value for b in AgeBand if b is not AgeBand.UNKNOWN] + sorted(BAND_ALIASES)
    for n in names:
        if n in BAND_ALIASES:
            out |= BAND_ALIASES[n]
        elif n == AgeBand.UNKNOWN.value:
            problems.append(
                f"{where}: 'unknown' cannot be matched directly; unknown senders count as adult and "
                "unknown recipients as under_13"
            )
        else:
            try:
                out.add(AgeBand(n))
            except ValueError:
                problems.append(f"{where}: unknown age band {n!r} (expected one of: {', '.join(valid)})")
    return frozenset(out)


def compile_when(
    raw: Mapping[str, Any], where: str, problems: list[str], signal_names: frozenset[str]
) -> tuple[Predicate, ...]:
    """Compile a ``when`` table into predicates, appending a readable problem for each mistake."""
    preds: list[Predicate] = []
    for key, value in raw.items():
        at = f"{where}.{key}"
        if key in BOOL_FACTS:
            if not isinstance(value, bool):
                problems.append(f"{at}: must be true or false")
                continue
            preds.append(Predicate(key, value, _bool(key, value)))
        elif key in NUMBER_FACTS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{at}: must be a number")
                continue
            if key.startswith(("sender_risk", "conversation_risk")) and not 0.0 <= value <= 1.0:
                problems.append(f"{at}: a risk is between 0 and 1 (got {value})")
                continue
            if value < 0:
                problems.append(f"{at}: must not be negative (got {value})")
                continue
            preds.append(Predicate(key, float(value), _number(key, float(value))))
        elif key in LIST_FACTS:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                problems.append(f"{at}: must be a non-empty list of names")
                continue
            preds.append(_list_predicate(key, value, at, problems))
        elif key in TABLE_FACTS:
            if not isinstance(value, Mapping) or not value:
                problems.append(f"{at}: must be a table such as {{ first_contact_fan_out = 5 }}")
                continue
            preds.append(_signals_predicate(value, at, problems, signal_names))
        else:
            problems.append(f"{at}: unknown condition (known: {', '.join(sorted(KNOWN_KEYS))})")
    return tuple(preds)


def _list_predicate(key: str, value: list[str], at: str, problems: list[str]) -> Predicate:
    if key.endswith("_band"):
        bands = _bands(value, at, problems)
        if key == "sender_band":
            return Predicate(key, bands, lambda f: as_sender(f.sender.band) in bands)
        return Predicate(key, bands, lambda f: as_recipient(f.recipient.band) in bands)
    levels: set[Assurance] = set()
    for v in value:
        try:
            levels.add(Assurance(v))
        except ValueError:
            known = ", ".join(a.value for a in Assurance)
            problems.append(f"{at}: unknown assurance level {v!r} (expected one of: {known})")
    frozen = frozenset(levels)
    if key == "sender_assurance":
        return Predicate(key, frozen, lambda f: f.sender.assurance in frozen)
    return Predicate(key, frozen, lambda f: f.recipient.assurance in frozen)


def _signals_predicate(
    value: Mapping[str, Any], at: str, problems: list[str], signal_names: frozenset[str]
) -> Predicate:
    limits: dict[str, float] = {}
    for name, limit in value.items():
        if name not in signal_names:
            problems.append(f"{at}.{name}: unknown signal (known: {', '.join(sorted(signal_names))})")
        elif isinstance(limit, bool) or not isinstance(limit, int | float):
            problems.append(f"{at}.{name}: must be a number")
        else:
            limits[name] = float(limit)
    items = tuple(limits.items())
    return Predicate("signals_min", dict(limits), lambda f: all(f.signals.get(n, 0.0) >= v for n, v in items))
