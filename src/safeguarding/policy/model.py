"""Value types of the contact policy: what a rule looks at (facts) and what it says (decisions).

A decision always names the rule that made it and the policy version it came from, plus sentences a
moderator or a parent can read: "why was this message held?" must have an answer without a developer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from safeguarding.types import AgeBand, Assurance, Reason


class Verdict(StrEnum):
    """What may happen. Ordered by severity: when several rules match, the most severe wins."""

    ALLOW = "allow"
    ALLOW_WITH_NOTICE = "allow_with_notice"
    HOLD_FOR_REVIEW = "hold_for_review"
    DENY = "deny"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def delivers(self) -> bool:
        """True when the action goes ahead now (possibly with a notice)."""
        return self in (Verdict.ALLOW, Verdict.ALLOW_WITH_NOTICE)


_SEVERITY = {Verdict.ALLOW: 0, Verdict.ALLOW_WITH_NOTICE: 1, Verdict.HOLD_FOR_REVIEW: 2, Verdict.DENY: 3}


class Action(StrEnum):
    """What the sender wants to do to the recipient. ``suggest``: show the recipient to the sender."""

    MESSAGE = "message"
    CONTACT_REQUEST = "contact_request"
    FOLLOW = "follow"
    GROUP_INVITE = "group_invite"
    SUGGEST = "suggest"


class Notice(StrEnum):
    """What the platform shows alongside an ``allow_with_notice``."""

    SAFETY_NOTICE = "safety_notice"
    """Tell the child this is a new adult contact and how to block or report."""
    CONSENT_REQUIRED = "consent_required"
    """Do not act yet: ask the child (the invite stays pending until they accept)."""


@dataclass(frozen=True, slots=True)
class Party:
    """One side of a contact as the policy sees it. ``band`` is the band on the day of the contact."""

    band: AgeBand
    assurance: Assurance = Assurance.SELF_DECLARED
    age_years: float | None = None
    account_age_days: float | None = None


_EMPTY: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """Everything a rule may look at for one sender → recipient action. Defaults are the cautious ones.

    ``recipient_follows_sender`` is true when the recipient follows the sender *or* accepted the
    sender's contact request: both are the recipient opting in. ``connected`` means the sender is in the
    recipient's connections (today the same opt-in; kept separate so platforms may widen it).
    """

    action: Action
    sender: Party
    recipient: Party
    direct: bool = True
    blocked: bool = False
    recipient_follows_sender: bool = False
    sender_follows_recipient: bool = False
    connected: bool = False
    first_contact: bool = True
    recipient_in_group: bool = False
    sender_risk: float = 0.0
    signals: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    conversation_risk: float = 0.0
    conversation_flagged: bool = False
    sender_suspected: bool = False
    parent_approval_needed: bool = False
    recipient_contact_paused: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this happen?".

    ``rule`` is None only when no rule matched and the policy's default applied (``rule`` is then the
    string ``"default"``) or for events that need no decision (account updates, blocks, reports).
    """

    verdict: Verdict
    rule: str | None
    policy_version: str
    reasons: tuple[Reason, ...] = ()
    notice: Notice | None = None
    matched: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.verdict.delivers


@runtime_checkable
class Rule(Protocol):
    """One contact rule. The built-in TOML rules implement this; so can a platform's own Python rule."""

    @property
    def id(self) -> str: ...

    @property
    def actions(self) -> frozenset[Action]: ...

    @property
    def verdict(self) -> Verdict: ...

    @property
    def notice(self) -> Notice | None: ...

    def matches(self, facts: ContactFacts) -> bool: ...

    def explain(self, facts: ContactFacts) -> tuple[Reason, ...]:
        """Reasons for a match (called only when :meth:`matches` returned True)."""
        ...


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Operator thresholds for alerts; set in the policy file's ``[alerts]`` table."""

    account_risk: float = 0.7
    """Raise a ``risky_account`` alert when fused account risk reaches this."""
    account_risk_rearm: float = 0.5
    """After an account alert, alert again only once risk has dropped below this and risen again."""
    blocked_pattern_count: int = 3
    """Raise ``blocked_contact_pattern`` when this many attempts were denied within the window."""
    blocked_pattern_window_hours: int = 24
    grooming_risk: float | None = None
    """Conversation alert threshold; None means: use the detector's own calibrated threshold. The
    detector's minimum-evidence rule still applies (docs/benchmarks.md has the price of each threshold)."""
    child_report_risk: float = 0.75
    """A report from a minor becomes a ``child_report`` alert at least this high in the queue."""


@dataclass(frozen=True, slots=True)
class NightSettings:
    """Local night-time hours (recipient's time zone) for the night-contact signal."""

    start_hour: int = 22
    end_hour: int = 6

    def is_night(self, hour: int) -> bool:
        if self.start_hour <= self.end_hour:
            return self.start_hour <= hour < self.end_hour
        return hour >= self.start_hour or hour < self.end_hour
