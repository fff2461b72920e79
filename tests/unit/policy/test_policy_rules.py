"""The shipped default policy, rule by rule: a table of cases covering every rule and unknown ages."""

from __future__ import annotations

from typing import Any

import pytest

from safeguarding.policy import Action, ContactFacts, Notice, Party, Verdict, default_policy
from safeguarding.types import AgeBand

A, U13, T13, T16, UNK = AgeBand.ADULT, AgeBand.UNDER_13, AgeBand.AGE_13_15, AgeBand.AGE_16_17, AgeBand.UNKNOWN
M, CR, F, GI, S = Action.MESSAGE, Action.CONTACT_REQUEST, Action.FOLLOW, Action.GROUP_INVITE, Action.SUGGEST
ALLOW, NOTICE, HOLD, DENY = Verdict.ALLOW, Verdict.ALLOW_WITH_NOTICE, Verdict.HOLD_FOR_REVIEW, Verdict.DENY
FOLLOWED = {"recipient_follows_sender": True, "connected": True}
KNOWN = {**FOLLOWED, "first_contact": False}

# (case id, action, sender band, recipient band, facts, verdict, rule)
CASES: list[tuple[str, Action, AgeBand, AgeBand, dict[str, Any], Verdict, str]] = [
    # block.no_contact: every action, any ages
    *[(f"blocked-{a.value}", a, A, A, {"blocked": True}, DENY, "block.no_contact") for a in Action],
    ("blocked-minors", M, T13, T13, {"blocked": True, **KNOWN}, DENY, "block.no_contact"),
    ("blocked-beats-follow", M, A, T13, {"blocked": True, **KNOWN}, DENY, "block.no_contact"),
    # minor.dm.adult_needs_follow
    ("adult-dm-13_15-unfollowed", M, A, T13, {}, DENY, "minor.dm.adult_needs_follow"),
    ("adult-dm-16_17-unfollowed", M, A, T16, {}, DENY, "minor.dm.adult_needs_follow"),
    ("adult-dm-under13-unfollowed", M, A, U13, {}, DENY, "minor.dm.adult_needs_follow"),
    (
        "adult-dm-minor-who-adult-follows",
        M,
        A,
        T13,
        {"sender_follows_recipient": True},
        DENY,
        "minor.dm.adult_needs_follow",
    ),
    ("adult-dm-followed-known", M, A, T13, KNOWN, ALLOW, "default"),
    ("adult-dm-adult", M, A, A, {}, ALLOW, "default"),
    # minor.dm.connections_only
    ("minor-dm-minor-stranger", M, T13, T13, {}, DENY, "minor.dm.connections_only"),
    ("minor-dm-under13-stranger", M, T16, U13, {}, DENY, "minor.dm.connections_only"),
    ("minor-dm-minor-connected", M, T13, U13, KNOWN, ALLOW, "default"),
    ("minor-dm-adult-stranger", M, T13, A, {}, ALLOW, "default"),
    # minor.group.members_only
    (
        "group-adult-to-nonmember-minor",
        M,
        A,
        T13,
        {"direct": False, **KNOWN},
        DENY,
        "minor.group.members_only",
    ),
    ("group-minor-to-nonmember-minor", M, T13, T13, {"direct": False}, DENY, "minor.group.members_only"),
    (
        "group-adult-to-member-minor",
        M,
        A,
        T13,
        {"direct": False, "recipient_in_group": True, "first_contact": False},
        ALLOW,
        "default",
    ),
    ("group-to-nonmember-adult", M, A, A, {"direct": False}, ALLOW, "default"),
    # minor.group_invite.consent
    ("invite-adult-to-minor", GI, A, T13, {}, NOTICE, "minor.group_invite.consent"),
    ("invite-minor-to-minor", GI, T13, U13, KNOWN, NOTICE, "minor.group_invite.consent"),
    ("invite-adult-to-adult", GI, A, A, {}, ALLOW, "default"),
    # minor.first_contact.adult_notice
    ("adult-first-dm-followed", M, A, T16, FOLLOWED, NOTICE, "minor.first_contact.adult_notice"),
    (
        "adult-first-group-msg-member",
        M,
        A,
        U13,
        {"direct": False, "recipient_in_group": True},
        NOTICE,
        "minor.first_contact.adult_notice",
    ),
    ("minor-first-dm-connected", M, T16, T13, FOLLOWED, ALLOW, "default"),
    # minor.request.adult_notice
    ("adult-request-minor", CR, A, T13, {}, NOTICE, "minor.request.adult_notice"),
    ("adult-follow-minor", F, A, U13, {}, NOTICE, "minor.request.adult_notice"),
    ("adult-request-connected-minor", CR, A, T13, KNOWN, ALLOW, "default"),
    ("minor-request-minor", CR, T13, T13, {}, ALLOW, "default"),
    ("adult-request-adult", CR, A, A, {}, ALLOW, "default"),
    # minor.suggest.hidden
    ("suggest-minor-to-adult", S, A, T13, {}, DENY, "minor.suggest.hidden"),
    ("suggest-minor-to-minor", S, T13, T16, {}, DENY, "minor.suggest.hidden"),
    ("suggest-minor-even-if-connected", S, A, U13, KNOWN, DENY, "minor.suggest.hidden"),
    ("suggest-adult-to-minor", S, T13, A, {}, ALLOW, "default"),
    ("suggest-adult-to-adult", S, A, A, {}, ALLOW, "default"),
    # family.non_connections.paused: a parent paused contact from outside the child's connections
    *[
        (
            f"paused-{a.value}",
            a,
            T16,
            T13,
            {"recipient_contact_paused": True},
            DENY,
            "family.non_connections.paused",
        )
        for a in (CR, F, GI)
    ],
    (
        "paused-group-message-in-joined-group",
        M,
        T16,
        T13,
        {"direct": False, "recipient_in_group": True, "recipient_contact_paused": True},
        DENY,
        "family.non_connections.paused",
    ),
    ("paused-connected-dm", M, T13, T13, {**KNOWN, "recipient_contact_paused": True}, ALLOW, "default"),
    ("paused-adult-recipient", CR, A, A, {"recipient_contact_paused": True}, ALLOW, "default"),
    # family.new_adult.needs_approval: a followed adult's first DM waits for the parent
    (
        "approval-adult-first-dm",
        M,
        A,
        T13,
        {**FOLLOWED, "parent_approval_needed": True},
        DENY,
        "family.new_adult.needs_approval",
    ),
    ("approval-minor-sender", M, T13, T13, {**FOLLOWED, "parent_approval_needed": True}, ALLOW, "default"),
    (
        "approval-not-for-requests",
        CR,
        A,
        T13,
        {"parent_approval_needed": True},
        NOTICE,
        "minor.request.adult_notice",
    ),
    # signals.risky_sender.hold
    (
        "risky-sender-dm-followed",
        M,
        A,
        T13,
        {**KNOWN, "sender_risk": 0.85},
        HOLD,
        "signals.risky_sender.hold",
    ),
    ("risky-sender-request", CR, A, T13, {"sender_risk": 0.9}, HOLD, "signals.risky_sender.hold"),
    ("risky-sender-follow", F, A, T13, {"sender_risk": 0.8}, HOLD, "signals.risky_sender.hold"),
    ("risky-sender-invite", GI, A, T16, {"sender_risk": 0.95}, HOLD, "signals.risky_sender.hold"),
    ("risky-sender-below-threshold", M, A, T13, {**KNOWN, "sender_risk": 0.79}, ALLOW, "default"),
    (
        "risky-sender-unfollowed-still-deny",
        M,
        A,
        T13,
        {"sender_risk": 0.9},
        DENY,
        "minor.dm.adult_needs_follow",
    ),
    ("risky-sender-to-adult", M, A, A, {"sender_risk": 0.99}, ALLOW, "default"),
    # detector.suspected_grooming.hold
    (
        "suspect-dm-minor",
        M,
        A,
        T13,
        {**KNOWN, "conversation_flagged": True, "sender_suspected": True},
        HOLD,
        "detector.suspected_grooming.hold",
    ),
    ("flagged-but-not-suspect", M, A, T13, {**KNOWN, "conversation_flagged": True}, ALLOW, "default"),
    ("suspect-dm-adult", M, A, A, {"conversation_flagged": True, "sender_suspected": True}, ALLOW, "default"),
]

# Unknown age: an adult when sending, the youngest child when receiving or being suggested.
UNKNOWN_CASES: list[tuple[str, Action, AgeBand, AgeBand, dict[str, Any], Verdict, str]] = [
    ("unknown-sender-dm-minor", M, UNK, T13, {}, DENY, "minor.dm.adult_needs_follow"),
    ("unknown-sender-first-dm-followed", M, UNK, U13, FOLLOWED, NOTICE, "minor.first_contact.adult_notice"),
    ("unknown-sender-request-minor", CR, UNK, T16, {}, NOTICE, "minor.request.adult_notice"),
    ("adult-dm-unknown-recipient", M, A, UNK, {}, DENY, "minor.dm.adult_needs_follow"),
    ("minor-dm-unknown-recipient", M, T13, UNK, {}, DENY, "minor.dm.connections_only"),
    ("unknown-to-unknown-dm", M, UNK, UNK, {}, DENY, "minor.dm.adult_needs_follow"),
    ("unknown-to-unknown-followed", M, UNK, UNK, KNOWN, ALLOW, "default"),
    ("invite-unknown-recipient", GI, A, UNK, {}, NOTICE, "minor.group_invite.consent"),
    ("suggest-unknown-subject", S, A, UNK, {}, DENY, "minor.suggest.hidden"),
    ("suggest-adult-to-unknown-viewer", S, UNK, A, {}, ALLOW, "default"),
    ("unknown-sender-dm-adult", M, UNK, A, {}, ALLOW, "default"),
    ("unknown-risky-sender", M, UNK, UNK, {**KNOWN, "sender_risk": 0.9}, HOLD, "signals.risky_sender.hold"),
]


def _facts(action: Action, s: AgeBand, r: AgeBand, extra: dict[str, Any]) -> ContactFacts:
    return ContactFacts(action=action, sender=Party(s), recipient=Party(r), **extra)


@pytest.mark.parametrize(
    ("action", "s", "r", "extra", "verdict", "rule"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES + UNKNOWN_CASES],
)
def test_default_policy_table(
    action: Action, s: AgeBand, r: AgeBand, extra: dict[str, Any], verdict: Verdict, rule: str
) -> None:
    policy = default_policy()
    d = policy.decide(_facts(action, s, r, extra))
    assert (d.verdict, d.rule) == (verdict, rule)
    assert d.policy_version == policy.version
    assert d.reasons and all(x.message for x in d.reasons)
    if verdict is Verdict.ALLOW_WITH_NOTICE:
        assert d.notice in (Notice.SAFETY_NOTICE, Notice.CONSENT_REQUIRED)
    else:
        assert d.notice is None


def test_table_covers_every_default_rule() -> None:
    covered = {c[-1] for c in CASES + UNKNOWN_CASES}
    assert {r.id for r in default_policy().rules} <= covered


@pytest.mark.parametrize(
    ("s", "r", "codes"),
    [
        (UNK, T13, {"age.unknown_sender"}),
        (A, UNK, {"age.unknown_recipient"}),
        (UNK, UNK, {"age.unknown_sender", "age.unknown_recipient"}),
        (A, T13, set()),
    ],
)
def test_unknown_ages_are_explained(s: AgeBand, r: AgeBand, codes: set[str]) -> None:
    d = default_policy().decide(_facts(M, s, r, {}))
    assert {x.code for x in d.reasons if x.code.startswith("age.")} == codes


def test_notice_kinds() -> None:
    p = default_policy()
    assert p.decide(_facts(GI, A, T13, {})).notice is Notice.CONSENT_REQUIRED
    assert p.decide(_facts(M, A, T13, FOLLOWED)).notice is Notice.SAFETY_NOTICE


def test_may_show_answers_suggestion_questions() -> None:
    p = default_policy()
    assert not p.may_show(Party(A), Party(T13)).allowed
    assert not p.may_show(Party(A), Party(UNK)).allowed
    assert p.may_show(Party(T13), Party(A)).allowed
    assert not p.may_show(Party(A), Party(A), blocked=True).allowed


def test_birthday_moves_band() -> None:
    from datetime import UTC, date, datetime

    from safeguarding.policy import band_at

    born = date(2008, 6, 1)
    assert band_at(UNK, born, datetime(2026, 5, 31, tzinfo=UTC)) is T16
    assert band_at(UNK, born, datetime(2026, 6, 1, tzinfo=UTC)) is A
