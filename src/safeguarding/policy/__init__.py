"""Age-aware contact policy as data: rules in TOML, validated, versioned; decisions with reasons.

``load_policy()`` gives the shipped default; ``load_policy(path)`` an operator's file (a broken file
raises :class:`~safeguarding.errors.PolicyError` listing every problem). ``Policy.decide(facts)`` answers
"may this sender do this to this recipient?"; ``Policy.may_show(viewer, subject)`` answers "may A be
shown B?". See ``docs/policy.md``.
"""

from safeguarding.policy.ages import (
    MINOR_BANDS,
    age_on,
    as_recipient,
    as_sender,
    band_at,
    band_for_age,
    is_minor,
    min_age_gap,
)
from safeguarding.policy.loader import SCHEMA_VERSION, default_policy, load_policy, parse_policy
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
from safeguarding.policy.policy import DataRule, Policy

__all__ = [
    "MINOR_BANDS",
    "SCHEMA_VERSION",
    "Action",
    "AlertSettings",
    "ContactFacts",
    "DataRule",
    "Decision",
    "NightSettings",
    "Notice",
    "Party",
    "Policy",
    "Rule",
    "Verdict",
    "age_on",
    "as_recipient",
    "as_sender",
    "band_at",
    "band_for_age",
    "default_policy",
    "is_minor",
    "load_policy",
    "min_age_gap",
    "parse_policy",
]
