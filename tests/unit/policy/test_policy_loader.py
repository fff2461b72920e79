"""Policy files: validation that explains, operator rules and thresholds, most-severe-wins, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from safeguarding.errors import PolicyError
from safeguarding.policy import (
    Action,
    ContactFacts,
    Decision,
    Party,
    Verdict,
    default_policy,
    load_policy,
    parse_policy,
)
from safeguarding.policy.model import Notice
from safeguarding.types import AgeBand, Assurance, Reason

HEAD = 'schema = 1\n[policy]\nid = "t"\nversion = "1"\n'
RULE = HEAD + "[[rules]]\nid='r'\nactions=['message']\ndecision='deny'\nreason='x'\n"


def facts(
    action: Action = Action.MESSAGE, s: AgeBand = AgeBand.ADULT, r: AgeBand = AgeBand.ADULT, **kw: object
):  # type: ignore[no-untyped-def]
    return ContactFacts(action=action, sender=Party(s), recipient=Party(r), **kw)  # type: ignore[arg-type]


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="p.toml")
    assert "p.toml" in str(info.value)
    return info.value.problems


def test_default_policy_is_valid_and_versioned() -> None:
    p = default_policy()
    assert p.id == "safeguarding-default" and p.version and len(p.digest) == 64
    assert len(p.rules) >= 9
    assert p.alerts.account_risk == 0.7 and p.night.start_hour == 22


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("schema = 2\n[policy]\nid='x'\nversion='1'\n", "schema: must be 1"),
        ("schema = 1\n", "missing table [policy]"),
        ("schema = 1\n[policy]\nid='x'\n", "policy.version: required"),
        (
            HEAD + "[[rules]]\nid='r'\nactions=['message']\ndecision='maybe'\nreason='x'\n",
            "'maybe' is not one of",
        ),
        (
            HEAD + "[[rules]]\nid='r'\nactions=['mesage']\ndecision='deny'\nreason='x'\n",
            "'mesage' is not one of",
        ),
        (HEAD + "[[rules]]\nid='r'\nactions=[]\ndecision='deny'\nreason='x'\n", "actions: required"),
        (HEAD + "[[rules]]\nid='r'\nactions=['message']\ndecision='deny'\n", "reason: required"),
        (
            RULE + "when={recipent_band=['minor']}\n",
            "unknown condition",
        ),
        (
            RULE + "when={recipient_band=['teen']}\n",
            "unknown age band 'teen'",
        ),
        (
            RULE + "when={recipient_band=['unknown']}\n",
            "cannot be matched directly",
        ),
        (
            RULE + "when={sender_risk_min=2}\n",
            "between 0 and 1",
        ),
        (
            RULE + "when={blocked='yes'}\n",
            "true or false",
        ),
        (
            RULE + "when={signals_min={nope=1}}\n",
            "unknown signal",
        ),
        (
            HEAD
            + "[[rules]]\nid='r'\nactions=['message']\ndecision='deny'\nnotice='safety_notice'\nreason='x'\n",
            "only an 'allow_with_notice' rule",
        ),
        (
            RULE + "when={sender_assurance=['sure']}\n",
            "unknown assurance level",
        ),
        (
            HEAD + "[[rules]]\nid='r'\nactions=['message']\ndecision='deny'\nreason='x'\n"
            "[[rules]]\nid='r'\nactions=['message']\ndecision='deny'\nreason='y'\n",
            "duplicate rule id 'r'",
        ),
        (HEAD + "[alerts]\naccount_risk = 1.5\n", "alerts.account_risk"),
        (HEAD + "[alerts]\naccount_risk = 0.5\naccount_risk_rearm = 0.6\n", "account_risk_rearm"),
        (HEAD + "[alerts]\nsoon = 1\n", "alerts.soon: unknown key"),
        (HEAD + "[night]\nstart_hour = 25\n", "night.start_hour"),
        (HEAD + "[signals]\nfan_out = { weight = 0.5 }\n", "signals.fan_out: unknown signal"),
        (HEAD + "[signals]\nblocked_by_minors = { weight = 2 }\n", "between 0 and 1"),
        (HEAD + "[signals]\nblocked_by_minors = { window_hours = 0 }\n", "window_hours"),
        (HEAD + "[signals]\nblocked_by_minors = { wieght = 0.1 }\n", "unknown setting"),
        (HEAD + "extra = 1\n", "extra: unknown key"),
        ("schema = 1\n[policy\n", "not valid TOML"),
    ],
)
def test_invalid_policies_explain_themselves(text: str, needle: str) -> None:
    found = problems(text)
    assert any(needle in p for p in found), found


def test_all_problems_reported_at_once() -> None:
    found = problems(
        HEAD + "[[rules]]\nid='a'\nactions=['x']\ndecision='deny'\nreason='r'\n"
        "[[rules]]\nid='b'\nactions=['message']\ndecision='no'\nreason='r'\n"
    )
    assert len(found) == 2 and "rules[0] (a)" in found[0] and "rules[1] (b)" in found[1]


def test_operator_rules_and_thresholds() -> None:
    p = parse_policy(
        HEAD
        + """
[alerts]
account_risk = 0.5
[signals]
first_contact_fan_out = { weight = 0.9, saturation = 4 }
large_age_gap_years = 3

[[rules]]
id = "young-accounts.hold"
actions = ["message", "contact_request"]
decision = "hold_for_review"
reason = "New adult accounts contacting minors wait for review."
when = { sender_band = ["adult"], recipient_band = ["minor"], sender_account_age_days_max = 7 }

[[rules]]
id = "fan-out.deny"
actions = ["contact_request"]
decision = "deny"
reason = "Too many first contacts with minors."
when = { signals_min = { first_contact_fan_out = 5 } }

[[rules]]
id = "self-declared.notice"
actions = ["message"]
decision = "allow_with_notice"
reason = "Self-declared adult."
when = { sender_assurance = ["self_declared"], recipient_band = ["16_17"] }

[[rules]]
id = "off"
enabled = false
actions = ["message"]
decision = "deny"
reason = "Disabled."
"""
    )
    assert p.alerts.account_risk == 0.5
    assert (
        p.signals["first_contact_fan_out"].weight == 0.9
        and p.signals["first_contact_fan_out"].saturation == 4
    )
    assert p.signals["blocked_by_minors"].weight == 0.6  # untouched default
    assert p.signals.large_age_gap_years == 3
    assert [r.id for r in p.rules] == ["young-accounts.hold", "fan-out.deny", "self-declared.notice"]

    young = ContactFacts(Action.MESSAGE, Party(AgeBand.ADULT, account_age_days=2), Party(AgeBand.AGE_13_15))
    assert p.decide(young).rule == "young-accounts.hold"
    unknown_age_account = ContactFacts(Action.MESSAGE, Party(AgeBand.ADULT), Party(AgeBand.AGE_13_15))
    assert p.decide(unknown_age_account).verdict is Verdict.HOLD_FOR_REVIEW  # unknown creation = new
    old = ContactFacts(Action.MESSAGE, Party(AgeBand.ADULT, account_age_days=30), Party(AgeBand.AGE_13_15))
    assert p.decide(old).rule == "default"
    fan = facts(Action.CONTACT_REQUEST, signals={"first_contact_fan_out": 5.0})
    assert p.decide(fan).verdict is Verdict.DENY
    verified = ContactFacts(
        Action.MESSAGE,
        Party(AgeBand.ADULT, Assurance.VERIFIED, account_age_days=90),
        Party(AgeBand.AGE_16_17),
    )
    assert p.decide(verified).rule == "default"
    declared = ContactFacts(
        Action.MESSAGE, Party(AgeBand.ADULT, account_age_days=90), Party(AgeBand.AGE_16_17)
    )
    assert p.decide(declared).notice is Notice.SAFETY_NOTICE


def test_most_severe_wins_and_file_order_breaks_ties() -> None:
    p = parse_policy(
        HEAD
        + """
[[rules]]
id = "notice"
actions = ["message"]
decision = "allow_with_notice"
reason = "n"

[[rules]]
id = "deny-1"
actions = ["message"]
decision = "deny"
reason = "d1"

[[rules]]
id = "deny-2"
actions = ["message"]
decision = "deny"
reason = "d2"
"""
    )
    d = p.decide(facts())
    assert d.rule == "deny-1" and [r.message for r in d.reasons] == ["d1", "d2"]
    assert d.matched == ("notice", "deny-1", "deny-2")


def test_age_gap_condition() -> None:
    p = parse_policy(
        HEAD + "[[rules]]\nid='gap'\nactions=['message']\ndecision='hold_for_review'\nreason='gap'\n"
        "when={age_gap_years_min=5}\n"
    )
    assert p.decide(facts(r=AgeBand.UNDER_13)).rule == "gap"
    assert p.decide(facts(r=AgeBand.AGE_16_17)).rule == "default"
    exact = ContactFacts(
        Action.MESSAGE, Party(AgeBand.ADULT, age_years=30), Party(AgeBand.AGE_16_17, age_years=16)
    )
    assert p.decide(exact).rule == "gap"


def test_combine_takes_most_severe_with_reasons() -> None:
    p = default_policy()
    a = Decision(Verdict.ALLOW, "default", p.version, (Reason("x", "ok"),))
    d = Decision(Verdict.DENY, "r1", p.version, (Reason("y", "no"),), matched=("r1",))
    assert p.combine([a, d]).rule == "r1"
    assert p.combine([a]) is a
    with pytest.raises(ValueError):
        p.combine([])


def test_load_policy_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml")
    f = tmp_path / "p.toml"
    f.write_text(HEAD)
    assert load_policy(f).source == str(f)


def test_cli_policy_check(tmp_path: Path) -> None:
    from safeguarding.cli import main

    good = tmp_path / "good.toml"
    good.write_text(HEAD + "[[rules]]\nid='r'\nactions=['message']\ndecision='deny'\nreason='x'\n")
    res = CliRunner().invoke(main, ["policy", "check", str(good)])
    assert res.exit_code == 0, res.output
    assert "policy t version 1" in res.output and "r: deny" in res.output

    bad = tmp_path / "bad.toml"
    bad.write_text(HEAD + "[[rules]]\nid='r'\nactions=['message']\ndecision='deny'\nreason='x'\nwhen={x=1}\n")
    res = CliRunner().invoke(main, ["policy", "check", str(bad)])
    assert res.exit_code == 2
    assert "rules[0] (r).when.x: unknown condition" in res.output

    res = CliRunner().invoke(main, ["policy", "check"])
    assert res.exit_code == 0 and "safeguarding-default" in res.output
