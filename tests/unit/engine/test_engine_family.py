"""The engine's family rules: children's notices, parental controls and approvals, children's reports."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from engine_helpers import Stream

from safeguarding.engine import AlertKind, Engine, Outcome, Rejected
from safeguarding.families import ApprovalRequest, ChildNotice, NoticeKind
from safeguarding.policy import Verdict

MakeEngine = Callable[..., Engine]


def _ok(result: Outcome | Rejected) -> Outcome:
    assert isinstance(result, Outcome), result
    return result


def _kinds(o: Outcome) -> list[str]:
    return [n.kind.value for n in o.notices]


def _setup(eng: Engine, s: Stream) -> None:
    eng.process_batch(
        [
            s.account("adult", display_name="Coach Sam"),
            s.account("kid", "13_15"),
            s.account("pal", "13_15"),
            s.pair("follow", "kid", "adult"),
            s.pair("follow", "kid", "pal"),
            s.pair("follow", "pal", "kid"),
        ]
    )


def test_first_message_from_an_adult_notifies_the_child_once(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    first = _ok(eng.process(stream.msg("adult", "kid", text="hi there")))
    assert first.notices == (ChildNotice("kid", NoticeKind.NEW_ADULT_CONTACT, "adult", "c1"),)
    again = _ok(eng.process(stream.msg("adult", "kid", text="how was practice")))
    assert again.notices == ()


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("add me on snapchat", ["move_app"]),
        ("dont tell your mum about our chats, keep it our secret", ["keep_secret"]),
        ("we should meet up this weekend", ["meet_up"]),
        ("nice goal today", []),
    ],
)
def test_requests_to_move_keep_secrets_or_meet(
    make_engine: MakeEngine, stream: Stream, text: str, kinds: list[str]
) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process(stream.msg("adult", "kid", text="hello"))
    assert _kinds(_ok(eng.process(stream.msg("adult", "kid", text=text)))) == kinds


def test_connected_children_arranging_to_meet_get_no_notice(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    assert _ok(eng.process(stream.msg("pal", "kid", text="we should meet up at the park"))).notices == ()


def test_denied_contact_raises_no_notice_and_adults_get_none(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process(stream.account("stranger"))
    denied = _ok(eng.process(stream.msg("stranger", "kid", text="add me on snapchat")))
    assert denied.decision.verdict is Verdict.DENY and denied.notices == ()
    to_adult = _ok(eng.process(stream.msg("kid", "adult", text="add me on snapchat")))
    assert to_adult.notices == ()


def test_stranger_adult_request_notifies(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process(stream.account("stranger"))
    req = _ok(eng.process(stream.pair("contact_request", "stranger", "kid")))
    assert req.notices == (ChildNotice("kid", NoticeKind.STRANGER_REQUEST, "stranger", None),)


def test_approval_required_holds_new_adults_until_a_parent_approves(
    make_engine: MakeEngine, stream: Stream
) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process(stream.account("uncle"))
    eng.process(stream.pair("follow", "kid", "uncle"))
    eng.process(stream.msg("adult", "kid", text="see you at training"))  # known before the control
    _ok(eng.process(stream("parental_controls", account="kid", approval_required=True)))

    waiting = _ok(eng.process(stream.msg("uncle", "kid", text="hi kiddo")))
    assert (waiting.decision.verdict, waiting.decision.rule) == (
        Verdict.DENY,
        "family.new_adult.needs_approval",
    )
    assert waiting.approvals == (ApprovalRequest("kid", "uncle", "c1"),)
    assert _ok(eng.process(stream.msg("adult", "kid", text="well done"))).decision.allowed  # known contact
    assert _ok(eng.process(stream.msg("pal", "kid", text="yo"))).decision.allowed  # not an adult

    eng2 = make_engine()  # the controls survive a restart
    _ok(eng2.process(stream.pair("contact_approval", "kid", "uncle", approved=True)))
    ok = _ok(eng2.process(stream.msg("uncle", "kid", text="hi kiddo")))
    assert ok.decision.allowed and ok.approvals == ()
    assert [n.kind for n in ok.notices] == [NoticeKind.NEW_ADULT_CONTACT]


def test_no_approval_request_when_the_policy_refuses_anyway(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process_batch(
        [stream.account("stranger"), stream("parental_controls", account="kid", approval_required=True)]
    )
    refused = _ok(eng.process(stream.msg("stranger", "kid", text="hi")))  # the child does not follow them
    assert refused.decision.rule == "minor.dm.adult_needs_follow" and refused.approvals == ()


def test_revoking_an_approval(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process_batch(
        [
            stream.account("uncle"),
            stream.pair("follow", "kid", "uncle"),
            stream("parental_controls", account="kid", approval_required=True),
            stream.pair("contact_approval", "kid", "uncle", approved=True),
            stream.pair("contact_approval", "kid", "uncle", approved=False),
        ]
    )
    assert _ok(eng.process(stream.msg("uncle", "kid"))).decision.rule == "family.new_adult.needs_approval"


def test_pause_non_connections(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process_batch(
        [
            stream.account("teen", "16_17"),
            stream("parental_controls", account="kid", pause_non_connections=True),
        ]
    )
    paused = _ok(eng.process(stream.pair("contact_request", "teen", "kid")))
    assert (paused.decision.verdict, paused.decision.rule) == (Verdict.DENY, "family.non_connections.paused")
    assert _ok(eng.process(stream.msg("pal", "kid"))).decision.allowed
    _ok(eng.process(stream("parental_controls", account="kid")))  # all off again
    assert _ok(eng.process(stream.pair("contact_request", "teen", "kid"))).decision.allowed


def test_controls_survive_a_profile_update(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process(stream("parental_controls", account="kid", pause_non_connections=True))
    eng.process(stream.account("kid", "13_15", country="GB"))
    eng.process(stream.account("teen", "16_17"))
    assert (
        _ok(eng.process(stream.pair("follow", "teen", "kid"))).decision.rule
        == "family.non_connections.paused"
    )


def test_a_childs_report_becomes_a_queued_alert(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    out = _ok(eng.process(stream.pair("report", "kid", "adult", conversation="c1", reason="made me uneasy")))
    [alert] = [a for a in out.alerts if a.kind is AlertKind.CHILD_REPORT]
    assert (alert.subject, alert.conversation) == ("adult", "c1")
    assert alert.risk >= 0.75
    by_adult = _ok(eng.process(stream.pair("report", "adult", "pal")))
    assert not [a for a in by_adult.alerts if a.kind is AlertKind.CHILD_REPORT]


def test_notices_and_approvals_come_back_on_a_duplicate(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    _setup(eng, stream)
    eng.process_batch([stream.account("uncle"), stream.pair("follow", "kid", "uncle")])
    eng.process(stream("parental_controls", account="kid", approval_required=True))
    msg = stream.msg("uncle", "kid", text="add me on snapchat")
    first = _ok(eng.process(msg))
    again = _ok(make_engine().process(msg))
    assert again.duplicate and (again.notices, again.approvals) == (first.notices, first.approvals)
    assert first.approvals


def test_unknown_account_in_controls_is_rejected(make_engine: MakeEngine, stream: Stream) -> None:
    eng = make_engine()
    [r] = eng.process_batch([stream("parental_controls", account="ghost", approval_required=True)])
    assert isinstance(r, Rejected) and "unknown account" in r.reason
