"""Engine behaviour: decisions from relationships, signals from metadata, alerts, E2EE messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from engine_helpers import ISSUE_LINES, FakeDetector, Stream

from safeguarding.engine import AlertKind, Engine, Outcome, Rejected
from safeguarding.errors import EventError
from safeguarding.policy import Verdict, parse_policy
from safeguarding.signals import Counter

MakeEngine = Callable[..., Engine]


def _ok(result: Outcome | Rejected) -> Outcome:
    assert isinstance(result, Outcome), result
    return result


def test_issue_example(make_engine: MakeEngine) -> None:
    from safeguarding.events import parse_json_line

    eng = make_engine()
    lines = [_ok(r).line() for r in eng.process_batch([parse_json_line(x) for x in ISSUE_LINES])]
    assert [(x["event"], x["decision"], x["rule"]) for x in lines] == [
        ("e1", "allow", None),
        ("e2", "allow", None),
        ("e3", "deny", "minor.dm.adult_needs_follow"),
        ("e4", "allow", "default"),
    ]
    assert set(lines[2]) == {"event", "decision", "rule", "reasons", "alerts"}
    assert lines[2]["reasons"][0].startswith("Adults can send direct messages")
    json.dumps(lines)


def test_follow_then_first_contact_notice_then_plain(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch(
        [stream.account("a1"), stream.account("k1", "13_15"), stream.pair("follow", "k1", "a1")]
    )
    first = eng.process(stream.msg("a1", "k1"))
    assert (first.decision.verdict, first.decision.rule) == (
        Verdict.ALLOW_WITH_NOTICE,
        "minor.first_contact.adult_notice",
    )
    assert eng.process(stream.msg("a1", "k1")).decision.verdict is Verdict.ALLOW
    eng.process(stream.pair("unfollow", "k1", "a1"))
    assert eng.process(stream.msg("a1", "k1")).decision.rule == "minor.dm.adult_needs_follow"


def test_contact_request_accept_and_decline(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch([stream.account(a, b) for a, b in (("a1", "adult"), ("k1", "16_17"), ("k2", "16_17"))])
    req = eng.process(stream.pair("contact_request", "a1", "k1"))
    assert req.decision.rule == "minor.request.adult_notice"
    eng.process(stream.pair("accept", "k1", "a1"))
    assert eng.process(stream.msg("a1", "k1")).decision.verdict is Verdict.ALLOW_WITH_NOTICE
    assert eng.process(stream.msg("k1", "a1")).decision.verdict is Verdict.ALLOW
    eng.process(stream.pair("contact_request", "a1", "k2"))
    eng.process(stream.pair("decline", "k2", "a1"))
    risk = eng.account_risk("a1", at=stream.at)
    assert risk.value("request_decline_rate") == 0  # 2 requests: too few to judge
    w = eng._ws.window("a1", stream.at)  # white-box check of the counters
    assert w.count(Counter.REQUESTS_DECLINED_BY_MINORS, 0, 10**9) == 1
    assert w.count(Counter.REQUESTS_TO_MINORS, 0, 10**9) == 2


def test_block_cuts_contact_and_counts_for_signals(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch(
        [stream.account("a1"), stream.account("k1", "under_13"), stream.pair("follow", "k1", "a1")]
    )
    eng.process(stream.pair("block", "k1", "a1"))
    d = eng.process(stream.msg("a1", "k1")).decision
    assert d.rule == "block.no_contact" and d.verdict is Verdict.DENY
    assert eng.account_risk("a1", at=stream.at).value("blocked_by_minors") == 1
    eng.process(stream.pair("unblock", "k1", "a1"))
    assert (
        eng.process(stream.msg("a1", "k1")).decision.rule == "minor.dm.adult_needs_follow"
    )  # follow was cut


def test_reports_from_minors_raise_account_risk(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch([stream.account("a1"), stream.account("k1", "13_15"), stream.account("a2")])
    eng.process(stream.pair("report", "k1", "a1", reason="creepy"))
    eng.process(stream.pair("report", "a2", "a1", reason="spam"))  # an adult's report: not a minor's
    assert eng.account_risk("a1", at=stream.at).value("reported_by_minors") == 1


def test_group_invite_needs_consent(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch([stream.account("a1"), stream.account("k1", "13_15")])
    inv = eng.process(stream.pair("group_invite", "a1", "k1", group="g1"))
    assert inv.decision.verdict is Verdict.ALLOW_WITH_NOTICE and inv.decision.notice is not None
    assert inv.decision.notice.value == "consent_required"
    assert eng.process(stream.msg("a1", "k1", group="g1")).decision.rule == "minor.group.members_only"
    eng.process(stream.pair("accept", "k1", "a1", group="g1"))
    assert eng.process(stream.msg("a1", "k1", group="g1")).decision.rule == "minor.first_contact.adult_notice"
    assert eng.process(stream.msg("a1", "k1", group="g1")).decision.verdict is Verdict.ALLOW


def test_several_recipients_get_their_own_decision(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch([stream.account("a1"), stream.account("a2"), stream.account("k1", "13_15")])
    out = eng.process(stream.msg("a1", "a2", "k1"))
    assert out.decision.verdict is Verdict.DENY
    assert [(r.recipient, r.verdict) for r in out.recipients] == [("a2", Verdict.ALLOW), ("k1", Verdict.DENY)]


def test_unknown_account_is_rejected_naming_the_event(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    results = eng.process_batch(
        [stream.account("a1"), stream.msg("a1", "ghost", id="e-bad"), stream.account("k1")]
    )
    bad = results[1]
    assert isinstance(bad, Rejected) and bad.event == "e-bad"
    assert "unknown account 'ghost'" in bad.reason and "e-bad" in bad.reason
    assert isinstance(results[2], Outcome)
    with pytest.raises(EventError, match="unknown account"):
        eng.process(stream.msg("nobody", "a1"))
    # the rejected event was not recorded: once the account exists it can be sent again
    eng.process(stream.account("ghost"))
    redo = eng.process_batch([stream.msg("a1", "ghost", id="e-bad")])[0]
    assert isinstance(redo, Outcome) and not redo.duplicate


def test_fan_out_raises_pattern_and_account_alerts_once(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    kids = [f"k{i}" for i in range(14)]
    eng.process_batch([stream.account("a1"), *[stream.account(k, "13_15") for k in kids]])
    outcomes = [_ok(r) for r in eng.process_batch([stream.msg("a1", k, conversation=f"c-{k}") for k in kids])]
    assert all(o.decision.verdict is Verdict.DENY for o in outcomes)
    kinds = [(i, a.kind) for i, o in enumerate(outcomes) for a in o.alerts]
    pattern = [i for i, k in kinds if k is AlertKind.BLOCKED_CONTACT_PATTERN]
    risky = [i for i, k in kinds if k is AlertKind.RISKY_ACCOUNT]
    assert pattern == [2]  # the third denial, then quiet for the window
    assert len(risky) == 1
    alert = next(a for a in outcomes[risky[0]].alerts if a.kind is AlertKind.RISKY_ACCOUNT)
    assert alert.subject == "a1" and alert.risk >= 0.7 and alert.reasons
    assert alert.conversation == f"c-{kids[risky[0]]}"
    risk = eng.account_risk("a1", at=stream.at)
    assert risk.value("first_contact_fan_out") == 14 and risk.value("unconnected_minor_contacts") == 14
    assert risk.reasons[0].code == "signal.first_contact_fan_out"
    # a day later the pattern may alert again
    later = eng.process(stream.msg("a1", "k0", gap=timedelta(hours=25)))
    assert not later.alerts
    again = [eng.process(stream.msg("a1", k)) for k in kids[:3]]
    assert any(a.kind is AlertKind.BLOCKED_CONTACT_PATTERN for o in again for a in o.alerts)


def test_risky_sender_is_held_even_when_followed(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    kids = [f"k{i}" for i in range(20)]
    eng.process_batch(
        [stream.account("a1"), stream.account("kf", "13_15"), *[stream.account(k, "13_15") for k in kids]]
    )
    eng.process(stream.pair("follow", "kf", "a1"))
    eng.process_batch([stream.msg("a1", k, conversation=k) for k in kids])
    assert eng.account_risk("a1", at=stream.at).risk >= 0.8
    held = eng.process(stream.msg("a1", "kf"))
    assert (held.decision.verdict, held.decision.rule) == (
        Verdict.HOLD_FOR_REVIEW,
        "signals.risky_sender.hold",
    )
    assert eng.decide("contact_request", "a1", "kf", at=stream.at).verdict is Verdict.HOLD_FOR_REVIEW


def test_grooming_alert_and_hold(make_engine: MakeEngine, stream: Stream) -> None:
    det = FakeDetector()
    eng = make_engine(detector=det)
    eng.process_batch(
        [stream.account("a1"), stream.account("k1", "13_15"), stream.pair("follow", "k1", "a1")]
    )
    a = eng.process(stream.msg("a1", "k1", text="our secret"))
    assert not a.alerts
    b = eng.process(stream.msg("a1", "k1", text="meet me alone, it's a secret"))
    [alert] = b.alerts
    assert (alert.kind, alert.subject, alert.conversation) == (AlertKind.GROOMING, "a1", "c1")
    assert alert.stages == ("secrecy_isolation",) and alert.risk >= 0.5
    assert b.decision.rule == "detector.suspected_grooming.hold"
    c = eng.process(stream.msg("a1", "k1", text="hello"))
    assert c.decision.verdict is Verdict.HOLD_FOR_REVIEW and not c.alerts  # alert once per conversation
    e2ee = eng.process(stream.msg("a1", "k1", text=None))
    assert e2ee.decision.verdict is Verdict.HOLD_FOR_REVIEW  # the flag holds without text too
    assert (
        eng.process(stream.msg("k1", "a1", text="ok")).decision.verdict is Verdict.ALLOW
    )  # the child may reply
    conv = eng.conversation("c1")
    assert conv is not None and conv.flagged and conv.suspect == "a1" and conv.messages == 4
    assert [json.loads(o.payload)["kind"] for o in eng.store.pending_outbox()] == ["grooming"]


def test_grooming_threshold_from_policy(make_engine: MakeEngine, stream: Stream) -> None:
    from importlib import resources

    src = resources.files("safeguarding.policy").joinpath("default.toml").read_text()
    strict = parse_policy(src.replace("# grooming_risk = 0.8", "grooming_risk = 0.2"))
    eng = make_engine(policy=strict, detector=FakeDetector())
    eng.process_batch([stream.account("a1"), stream.account("a2")])
    out = eng.process(stream.msg("a1", "a2", text="a secret"))
    assert [a.kind for a in out.alerts] == [AlertKind.GROOMING]


def test_e2ee_messages_skip_the_detector_but_not_signals(make_engine: MakeEngine, stream: Stream) -> None:
    det = FakeDetector()
    eng = make_engine(detector=det)
    eng.process_batch(
        [
            stream.account("a1"),
            stream.account("k1", "13_15", timezone="Asia/Tokyo"),
            stream.pair("follow", "k1", "a1"),
        ]
    )
    # 14:30 UTC is 23:30 in Tokyo: night for the recipient
    night = datetime(2026, 1, 6, 14, 30, tzinfo=UTC)
    out = eng.process(stream.msg("a1", "k1", text=None, gap=night - stream.at))
    assert det.calls == 0 and out.decision.verdict is Verdict.ALLOW_WITH_NOTICE
    assert eng.conversation("c1") is None
    risk = eng.account_risk("a1", at=night)
    assert risk.value("night_contacts_with_minors") == 1 and risk.value("first_contact_fan_out") == 1
    assert risk.value("large_age_gap_contacts") == 0  # an adult and a 13-15 year old: gap not proven >= 5


def test_text_signals_when_available(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch(
        [stream.account("a1"), stream.account("k1", "under_13"), stream.pair("follow", "k1", "a1")]
    )
    eng.process(stream.msg("a1", "k1", text="add me on snap"))
    eng.process(stream.msg("a1", "k1", text=None))
    risk = eng.account_risk("a1", at=stream.at)
    assert risk.value("off_platform_requests") == 1
    assert risk.value("large_age_gap_contacts") == 1  # adult and under-13: at least five years


def test_birth_date_drives_the_band(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch([stream.account("a1"), stream.account("k1", None, birth_date="2008-01-07")])
    assert eng.process(stream.msg("a1", "k1")).decision.verdict is Verdict.DENY  # 17 on 2026-01-05
    adult_day = stream.at.replace(day=7, hour=0) - stream.at
    assert eng.process(stream.msg("a1", "k1", gap=adult_day)).decision.verdict is Verdict.ALLOW  # 18 today


def test_read_only_questions_store_nothing(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    eng.process_batch([stream.account("a1"), stream.account("k1", "13_15")])
    before = eng.store.counters(["a1"], 0)
    assert eng.decide("message", "a1", "k1").rule == "minor.dm.adult_needs_follow"
    assert eng.may_show("a1", "k1").rule == "minor.suggest.hidden"
    assert eng.may_show("k1", "a1").allowed
    # never-seen accounts: unknown age, judged safely
    assert eng.may_show("a1", "stranger").rule == "minor.suggest.hidden"
    assert eng.decide("message", "stranger", "k1").rule == "minor.dm.adult_needs_follow"
    assert eng.store.counters(["a1"], 0) == before and eng.store.pending_outbox() == []
    assert eng.store.processed(["e1", "e2"]).keys() == {"e1", "e2"}
