"""A loaded policy: ordered rules plus the operator's thresholds, and the one way to ask it something.

Evaluation: every rule whose actions include the asked action and whose conditions all hold *matches*;
the most severe verdict among the matches wins (deny > hold_for_review > allow_with_notice > allow),
the earliest rule in the file breaking ties. Most-severe-wins means adding a rule can only make the
policy stricter, never open a hole by shadowing an earlier rule — an operator can add rules safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from safeguarding.policy.conditions import Predicate
from safeguarding.policy.model import (
    Action,
    AlertSettings,
    ContactFacts,
    Decision,
    NightSettings,
    Notice,
    Party,
    Rule,
    Verdict,
)
from safeguarding.signals.config import SignalConfig
from safeguarding.types import AgeBand, Reason


@dataclass(frozen=True, slots=True)
class DataRule:
    """A rule written as data in the policy file (implements :class:`~safeguarding.policy.model.Rule`)."""

    id: str
    actions: frozenset[Action]
    verdict: Verdict
    reason: str
    when: tuple[Predicate, ...] = ()
    notice: Notice | None = None
    description: str = ""

    def matches(self, facts: ContactFacts) -> bool:
        for p in self.when:  # noqa: SIM110 - a plain loop: this runs for every rule of every contact
            if not p.test(facts):
                return False
        return True

    def explain(self, facts: ContactFacts) -> tuple[Reason, ...]:
        reasons = [Reason(code=f"rule.{self.id}", message=self.reason)]
        keys = {p.key for p in self.when}
        if keys & {"sender_band", "age_gap_years_min"} and facts.sender.band is AgeBand.UNKNOWN:
            reasons.append(
                Reason("age.unknown_sender", "The sender's age is unknown, so they are treated as an adult.")
            )
        if keys & {"recipient_band", "age_gap_years_min"} and facts.recipient.band is AgeBand.UNKNOWN:
            who = "person shown" if facts.action is Action.SUGGEST else "recipient"
            reasons.append(
                Reason(
                    "age.unknown_recipient", f"The {who}'s age is unknown, so they are protected as a child."
                )
            )
        return tuple(reasons)


@dataclass(frozen=True, slots=True)
class Policy:
    """An immutable, validated policy. Build it with :func:`safeguarding.policy.load_policy`."""

    id: str
    version: str
    rules: tuple[Rule, ...]
    default_verdict: Verdict = Verdict.ALLOW
    description: str = ""
    digest: str = ""
    """sha256 (hex) of the source file, so two files with the same version string can be told apart."""
    source: str = "<memory>"
    alerts: AlertSettings = field(default_factory=AlertSettings)
    night: NightSettings = field(default_factory=NightSettings)
    signals: SignalConfig = field(default_factory=SignalConfig)
    _by_action: dict[Action, tuple[Rule, ...]] = field(init=False, repr=False, compare=False)
    _cache: dict[tuple[object, ...], Decision] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The policy is immutable, so the per-action rule lists and the decisions of data rules
        # (which depend only on which rules matched and which ages were unknown) can be kept.
        index = {a: tuple(r for r in self.rules if a in r.actions) for a in Action}
        object.__setattr__(self, "_by_action", index)
        object.__setattr__(self, "_cache", {})

    def decide(self, facts: ContactFacts) -> Decision:
        """The decision for one sender → recipient action, naming the rule and its reasons."""
        winner: Rule | None = None
        matched: list[Rule] = []
        for rule in self._by_action[facts.action]:
            if rule.matches(facts):
                matched.append(rule)
                if winner is None or rule.verdict.severity > winner.verdict.severity:
                    winner = rule
        if winner is None:
            key: tuple[object, ...] = ("default",)
        elif all(type(r) is DataRule for r in matched):
            unknown = (facts.sender.band is AgeBand.UNKNOWN, facts.recipient.band is AgeBand.UNKNOWN)
            key = (facts.action, *unknown, *(r.id for r in matched))
        else:
            return self._decision(facts, winner, matched)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._decision(facts, winner, matched)
            if len(self._cache) < 10_000:
                self._cache[key] = cached
        return cached

    def _decision(self, facts: ContactFacts, winner: Rule | None, matched: list[Rule]) -> Decision:
        if winner is None:
            return Decision(
                verdict=self.default_verdict,
                rule="default",
                policy_version=self.version,
                reasons=(Reason("policy.default", "No rule restricts this."),),
            )
        reasons: list[Reason] = []
        for rule in matched:
            if rule.verdict is winner.verdict:
                reasons.extend(r for r in rule.explain(facts) if r not in reasons)
        notice = winner.notice if winner.verdict is Verdict.ALLOW_WITH_NOTICE else None
        return Decision(
            verdict=winner.verdict,
            rule=winner.id,
            policy_version=self.version,
            reasons=tuple(reasons),
            notice=notice,
            matched=tuple(r.id for r in matched),
        )

    def may_show(self, viewer: Party, subject: Party, **relationship: bool) -> Decision:
        """May ``viewer`` be shown ``subject`` (in suggestions, search, connection lists)?

        ``relationship`` takes the boolean facts (``blocked``, ``connected`` ...) of
        :class:`~safeguarding.policy.model.ContactFacts`, seen with the viewer as sender.
        """
        facts = ContactFacts(action=Action.SUGGEST, sender=viewer, recipient=subject, **relationship)  # type: ignore[arg-type]
        return self.decide(facts)

    def combine(self, decisions: Sequence[Decision]) -> Decision:
        """One decision for an action with several recipients: the most severe, with all their reasons."""
        if not decisions:
            raise ValueError("nothing to combine")
        if len(decisions) == 1:
            return decisions[0]
        worst = max(decisions, key=lambda d: d.verdict.severity)  # max keeps the first among equals
        reasons: list[Reason] = []
        matched: list[str] = []
        for d in decisions:
            if d.verdict is worst.verdict:
                reasons.extend(r for r in d.reasons if r not in reasons)
            matched.extend(m for m in d.matched if m not in matched)
        return Decision(
            verdict=worst.verdict,
            rule=worst.rule,
            policy_version=self.version,
            reasons=tuple(reasons),
            notice=worst.notice,
            matched=tuple(matched),
        )

    def no_decision(self) -> Decision:
        """The decision recorded for events nobody has to allow (account updates, blocks, reports)."""
        return Decision(verdict=Verdict.ALLOW, rule=None, policy_version=self.version)

    def describe(self) -> Iterable[str]:
        """Lines summarising the policy (for ``safeguarding policy check``)."""
        yield f"policy {self.id} version {self.version} (sha256 {self.digest[:12] or '-'})"
        yield f"default decision: {self.default_verdict.value}"
        for r in self.rules:
            acts = ", ".join(sorted(a.value for a in r.actions))
            yield f"  {r.id}: {r.verdict.value} on [{acts}]"
