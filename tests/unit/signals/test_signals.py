"""Signals: sliding windows, every built-in signal's value and reason, fusion, the off-platform matcher."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safeguarding.signals import (
    BUILTIN_SIGNALS,
    DEFAULT_SIGNAL_SETTINGS,
    AccountFacts,
    AccountWindows,
    Counter,
    SignalConfig,
    SignalValue,
    asks_to_move_off_platform,
    assess_account,
    bucket_of,
    fuse,
    parse_signal_config,
    window_start,
)

NOW = bucket_of(datetime(2026, 1, 5, 12, tzinfo=UTC))
FACTS = AccountFacts(account_age_days=400)


def test_bucket_math() -> None:
    assert bucket_of(datetime(1970, 1, 1, 1, 59, tzinfo=UTC)) == 1
    assert window_start(100, 24) == 77


def test_window_is_sliding_and_bounded() -> None:
    w = AccountWindows()
    w.add("c", NOW - 30)
    w.add("c", NOW - 23, 2)
    w.add("c", NOW, 3)
    w.add("c", NOW + 1, 100)  # the future is outside any window ending now
    assert w.count("c", window_start(NOW, 24), NOW) == 5
    assert w.count("c", window_start(NOW, 48), NOW) == 6
    assert w.count("missing", 0, NOW) == 0
    w.prune(NOW - 24)
    assert w.count("c", 0, NOW) == 5


def test_distinct_counts_are_idempotent() -> None:
    w = AccountWindows()
    assert w.add_member("m", NOW, "k1")
    assert not w.add_member("m", NOW, "k1")
    w.add_member("m", NOW - 1, "k1")
    w.add_member("m", NOW - 1, "k2")
    assert w.distinct("m", window_start(NOW, 24), NOW) == 2
    rebuilt = AccountWindows.from_rows(w.rows(), w.member_rows())
    assert rebuilt.distinct("m", 0, NOW) == 2


def test_version_moves_only_on_change() -> None:
    w = AccountWindows()
    v = w.version
    w.add_member("m", NOW, "x")
    w.add_member("m", NOW, "x")
    assert w.version == v + 1


def _values(w: AccountWindows, facts: AccountFacts = FACTS) -> dict[str, SignalValue]:
    risk = assess_account("a", w, NOW, facts, SignalConfig())
    return {s.name: s for s in risk.signals}


@pytest.mark.parametrize(
    ("counter", "distinct", "signal", "reason_part"),
    [
        (
            Counter.UNCONNECTED_MINOR_CONTACTS,
            False,
            "unconnected_minor_contacts",
            "outside their connections",
        ),
        (Counter.BLOCKED_BY_MINORS, False, "blocked_by_minors", "blocked 4 times by under-18s"),
        (Counter.REPORTED_BY_MINORS, False, "reported_by_minors", "reported 4 times"),
        (Counter.NIGHT_CONTACTS_WITH_MINORS, False, "night_contacts_with_minors", "at night"),
        (Counter.OFF_PLATFORM_REQUESTS, False, "off_platform_requests", "another app"),
        (Counter.DENIED_CONTACT_ATTEMPTS, False, "denied_contact_attempts", "denied by policy"),
        (Counter.MINORS_FIRST_CONTACTED, True, "first_contact_fan_out", "4 different under-18s"),
        (Counter.LARGE_GAP_MINORS, True, "large_age_gap_contacts", "4 much younger children"),
    ],
)
def test_count_signals(counter: str, distinct: bool, signal: str, reason_part: str) -> None:
    w = AccountWindows()
    for i in range(4):
        if distinct:
            w.add_member(counter, NOW - i, f"k{i}")
        else:
            w.add(counter, NOW - i)
    v = _values(w)[signal]
    s = DEFAULT_SIGNAL_SETTINGS[signal]
    assert v.value == 4
    assert v.score == pytest.approx(min(1.0, 4 / s.saturation))
    assert reason_part in v.reason and "in the last" in v.reason
    # outside the window: nothing
    old = AccountWindows()
    if distinct:
        old.add_member(counter, NOW - s.window_hours, "k")
    else:
        old.add(counter, NOW - s.window_hours)
    assert _values(old)[signal].value == 0


def test_decline_rate_needs_minimum_evidence() -> None:
    w = AccountWindows()
    w.add(Counter.REQUESTS_TO_MINORS, NOW, 2)
    w.add(Counter.REQUESTS_DECLINED_BY_MINORS, NOW, 2)
    v = _values(w)["request_decline_rate"]
    assert v.score == 0 and "too few" in v.reason
    w.add(Counter.REQUESTS_TO_MINORS, NOW, 2)
    v = _values(w)["request_decline_rate"]
    assert v.value == 0.5 and v.score == pytest.approx(0.5 / 0.8)
    assert "declined 2 of 4" in v.reason


def test_new_account_only_amplifies() -> None:
    fresh = AccountFacts(account_age_days=0.5)
    quiet = assess_account("a", AccountWindows(), NOW, fresh, SignalConfig())
    assert quiet.risk == 0 and quiet.reasons == ()
    w = AccountWindows()
    w.add(Counter.BLOCKED_BY_MINORS, NOW)
    with_age = assess_account("a", w, NOW, fresh, SignalConfig())
    without = assess_account("a", w, NOW, FACTS, SignalConfig())
    assert with_age.risk > without.risk
    assert {r.code for r in with_age.reasons} == {"signal.blocked_by_minors", "signal.new_account"}
    unknown = _values(AccountWindows(), AccountFacts(None))["new_account"]
    assert unknown.score == 0 and "unknown" in unknown.reason


def test_fusion_is_noisy_or_and_explains_largest_first() -> None:
    values = [
        SignalValue("a", 1, 1.0, 0.5, "a!"),
        SignalValue("b", 1, 0.5, 0.4, "b!"),
        SignalValue("c", 0, 0, 1, ""),
    ]
    r = fuse("acc", values)
    assert r.risk == pytest.approx(1 - 0.5 * 0.8)
    assert [x.code for x in r.reasons] == ["signal.a", "signal.b"]
    assert r.value("c") == 0 and r.as_mapping()["a"] == 1
    with pytest.raises(KeyError):
        r.value("zzz")


def test_risk_stays_in_unit_interval_when_everything_fires() -> None:
    w = AccountWindows()
    for sig in BUILTIN_SIGNALS:
        w.add(getattr(sig, "counter", "x"), NOW, 1000)
        for i in range(50):
            w.add_member(getattr(sig, "counter", "x"), NOW, str(i))
    w.add(Counter.REQUESTS_TO_MINORS, NOW, 10)
    w.add(Counter.REQUESTS_DECLINED_BY_MINORS, NOW, 10)
    r = assess_account("a", w, NOW, AccountFacts(0), SignalConfig())
    assert 0.95 < r.risk <= 1.0


def test_disabled_signal_is_not_read() -> None:
    problems: list[str] = []
    cfg = parse_signal_config({"blocked_by_minors": {"enabled": False}}, problems)
    assert not problems
    w = AccountWindows()
    w.add(Counter.BLOCKED_BY_MINORS, NOW, 5)
    r = assess_account("a", w, NOW, FACTS, cfg)
    assert "blocked_by_minors" not in r.as_mapping() and r.risk == 0


def test_config_retention_covers_longest_window() -> None:
    assert SignalConfig().retention_hours == 720


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add me on snap", True),
        ("whats ur snapchat", True),
        ("lets talk on whatsapp instead", True),
        ("do u have kik", True),
        ("give me your number", True),
        ("text me later", True),
        ("we should switch apps", True),
        ("somewhere more private like another app", True),
        ("i like pizza", False),
        ("my number one fan", False),
        ("what is your name", False),
        ("see you at school", False),
        ("", False),
    ],
)
def test_off_platform_matcher(text: str, expected: bool) -> None:
    assert asks_to_move_off_platform(text) is expected


@pytest.mark.parametrize("seed", range(20))
def test_quick_risk_equals_explained_risk(seed: int) -> None:
    import random

    from safeguarding.signals import RiskModel

    rnd = random.Random(seed)
    w = AccountWindows()
    counters = [getattr(Counter, n) for n in dir(Counter) if n.isupper()]
    for _ in range(rnd.randint(0, 40)):
        c = rnd.choice(counters)
        b = NOW - rnd.randint(0, 800)
        if rnd.random() < 0.3:
            w.add_member(c, b, f"m{rnd.randint(0, 30)}")
        else:
            w.add(c, b, rnd.randint(1, 5))
    facts = AccountFacts(rnd.choice([None, 0.5, 3.0, 90.0]))
    model = RiskModel(SignalConfig())
    risk, values = model.quick(w, NOW, facts)
    full = model.assess("a", w, NOW, facts)
    assert risk == pytest.approx(full.risk, abs=1e-6) and values == full.as_mapping()
