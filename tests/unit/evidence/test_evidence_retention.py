"""Retention rules as a table: what a purge clears, what holds and report references keep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from evidence_helpers import T0

from safeguarding.errors import ConfigError
from safeguarding.evidence import LegalHold, RetentionItem, RetentionPolicy, plan_purge
from safeguarding.evidence.config import load_retention

POLICY = RetentionPolicy(evidence_days=180, hold_min_days=365, reference_days=1826)
DAY = timedelta(days=1)


def item(
    seq: int, age_days: int, kind: str = "message", conv: str | None = "c1", subj: str | None = "m1"
) -> RetentionItem:
    return RetentionItem("acme", seq, T0 - age_days * DAY, kind, conv, subj)


def hold(
    case: str = "c1", placed_days_ago: int = 10, released_days_ago: int | None = None, account: bool = False
) -> LegalHold:
    released = T0 - released_days_ago * DAY if released_days_ago is not None else None
    by = "mod" if released else None
    return LegalHold(1, "acme", case, "referral", T0 - placed_days_ago * DAY, "mod", released, by, account)


@pytest.mark.parametrize(
    ("it", "holds", "cleared"),
    [
        (item(1, 179), [], False),  # young
        (item(1, 181), [], True),  # old, not held
        (item(1, 181), [hold()], False),  # held by conversation
        (item(1, 181, conv=None), [hold("m1", account=True)], False),  # held by account
        (item(1, 181, conv="c7"), [hold("m1", account=True)], True),  # the account's other conversations
        (item(1, 181, conv=None), [hold("m1")], True),  # a conversation hold is not an account hold
        (item(1, 181), [hold("c2")], True),  # another case's hold
        (item(1, 400), [hold(placed_days_ago=400, released_days_ago=390)], True),  # released after minimum
        (item(1, 300), [hold(placed_days_ago=300, released_days_ago=290)], False),  # released within a year
        (item(1, 400, kind="referral_export"), [], False),  # report reference: five years
        (item(1, 1900, kind="referral_export"), [], True),
        (item(1, 5000, kind="retention_purge"), [], False),  # purge records are never purged
        (item(1, 2000, kind="alert"), [hold(placed_days_ago=2000)], False),  # unreleased: indefinitely
    ],
)
def test_purge_rules(it: RetentionItem, holds: list[LegalHold], cleared: bool) -> None:
    plan = plan_purge([it], holds, POLICY, T0)
    assert (plan.cleared == 1) is cleared


def test_plan_counts_ranges_and_expired_holds() -> None:
    items = [item(s, 200) for s in (1, 2, 3, 5)] + [item(4, 10), item(6, 200, conv="c9", subj="x")]
    old = hold("c9", placed_days_ago=3000, released_days_ago=2000)
    plan = plan_purge(items, [old], POLICY, T0)
    assert plan.ranges("acme") == [[1, 3], [5, 6]] and plan.kept_young == 1
    assert plan.holds_to_delete == (1,)


def test_policy_refuses_holds_shorter_than_a_year() -> None:
    with pytest.raises(ConfigError, match="at least 365"):
        RetentionPolicy(hold_min_days=30)
    with pytest.raises(ConfigError, match="SAFEGUARDING_RETENTION_HOLD_MIN_DAYS"):
        load_retention(hold_min_days=30)
    assert load_retention(evidence_days=30).evidence_days == 30
