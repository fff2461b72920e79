"""The event schema: the issue's example lines verbatim, every type, and errors that name the event."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from engine_helpers import ISSUE_LINES

from safeguarding.errors import EventError
from safeguarding.events import (
    EVENT_TYPES,
    AcceptEvent,
    AccountEvent,
    BlockEvent,
    ContactRequestEvent,
    DeclineEvent,
    FollowEvent,
    GroupInviteEvent,
    MessageEvent,
    ReportEvent,
    UnblockEvent,
    UnfollowEvent,
    event_json_schema,
    parse_event,
    parse_json_line,
    read_jsonl,
)
from safeguarding.types import AgeBand, Assurance

AT = "2026-01-05T18:00:00Z"
T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


def test_issue_example_lines_parse_verbatim() -> None:
    e1, e2, e3, e4 = (parse_json_line(line) for line in ISSUE_LINES)
    assert e1 == AccountEvent("e1", T0, "a1", AgeBand.ADULT, assurance=Assurance.SELF_DECLARED)
    assert isinstance(e2, AccountEvent) and e2.age_band is AgeBand.AGE_13_15
    assert e2.assurance is Assurance.ESTIMATED
    assert e3 == MessageEvent("e3", datetime(2026, 1, 5, 18, 2, tzinfo=UTC), "c1", "a1", ("k1",), "hey")
    assert e4 == FollowEvent("e4", datetime(2026, 1, 5, 18, 3, tzinfo=UTC), "k1", "a1")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "follow", "actor": "a", "target": "b"}, FollowEvent("x", T0, "a", "b")),
        ({"type": "unfollow", "actor": "a", "target": "b"}, UnfollowEvent("x", T0, "a", "b")),
        ({"type": "contact_request", "actor": "a", "target": "b"}, ContactRequestEvent("x", T0, "a", "b")),
        ({"type": "accept", "actor": "b", "target": "a"}, AcceptEvent("x", T0, "b", "a")),
        ({"type": "accept", "actor": "b", "target": "a", "group": "g"}, AcceptEvent("x", T0, "b", "a", "g")),
        ({"type": "decline", "actor": "b", "target": "a"}, DeclineEvent("x", T0, "b", "a")),
        ({"type": "block", "actor": "a", "target": "b"}, BlockEvent("x", T0, "a", "b")),
        ({"type": "unblock", "actor": "a", "target": "b"}, UnblockEvent("x", T0, "a", "b")),
        (
            {"type": "report", "actor": "a", "target": "b", "reason": "spam"},
            ReportEvent("x", T0, "a", "b", reason="spam"),
        ),
        (
            {"type": "report", "reporter": "a", "subject": "b", "reason": "grooming", "conversation": "c"},
            ReportEvent("x", T0, "a", "b", reason="grooming", conversation="c"),
        ),
        (
            {"type": "group_invite", "actor": "a", "target": "b", "group": "g"},
            GroupInviteEvent("x", T0, "a", "b", "g"),
        ),
        (
            {"type": "message", "conversation": "c", "sender": "a", "recipients": ["b", "d"], "group": "g"},
            MessageEvent("x", T0, "c", "a", ("b", "d"), None, "g"),
        ),
        (
            {
                "type": "account",
                "account": "k",
                "birth_date": "2012-03-04",
                "country": "gb",
                "timezone": "Europe/London",
            },
            AccountEvent(
                "x", T0, "k", AgeBand.UNKNOWN, date(2012, 3, 4), country="GB", timezone="Europe/London"
            ),
        ),
        ({"type": "account", "account": "u"}, AccountEvent("x", T0, "u", AgeBand.UNKNOWN)),
    ],
)
def test_every_event_type(raw: dict[str, object], expected: object) -> None:
    assert parse_event({"id": "x", "at": AT, **raw}) == expected


def test_message_without_text_is_e2ee_mode() -> None:
    e = parse_event(
        {"id": "m", "type": "message", "conversation": "c", "sender": "a", "recipients": ["b"], "at": AT}
    )
    assert isinstance(e, MessageEvent) and e.text is None and e.direct


def test_extra_fields_are_ignored_and_offsets_normalised_to_utc() -> None:
    e = parse_event(
        {"id": "f", "type": "follow", "actor": "a", "target": "b", "at": "2026-01-05T19:00:00+01:00", "x": 1}
    )
    assert e.at == T0 and e.at.tzinfo is UTC


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"id": "e9", "type": "folow", "actor": "a", "target": "b", "at": AT}, "unknown event type 'folow'"),
        ({"id": "e9", "actor": "a", "target": "b", "at": AT}, "missing field 'type'"),
        (
            {"id": "e9", "type": "message", "conversation": "c", "sender": "a", "at": AT},
            "missing field 'recipients'",
        ),
        ({"id": "e9", "type": "follow", "actor": "a", "at": AT}, "missing field 'target'"),
        ({"id": "e9", "type": "follow", "actor": "a", "target": "b"}, "missing field 'at'"),
        (
            {"id": "e9", "type": "follow", "actor": "a", "target": "b", "at": "2026-01-05T18:00:00"},
            "has no zone",
        ),
        ({"id": "e9", "type": "follow", "actor": "a", "target": "a", "at": AT}, "same account"),
        ({"id": "e9", "type": "account", "account": "a", "age_band": "teen", "at": AT}, "age_band"),
        (
            {"id": "e9", "type": "account", "account": "a", "timezone": "Mars/Base", "at": AT},
            "unknown time zone",
        ),
        (
            {
                "id": "e9",
                "type": "account",
                "account": "a",
                "age_band": "adult",
                "birth_date": "2000-01-01",
                "at": AT,
            },
            "not both",
        ),
        (
            {
                "id": "e9",
                "type": "message",
                "conversation": "c",
                "sender": "a",
                "recipients": ["a"],
                "at": AT,
            },
            "sender is also listed",
        ),
        (
            {"id": "e9", "type": "message", "conversation": "c", "sender": "a", "recipients": [], "at": AT},
            "recipients",
        ),
        ({"id": "e9", "v": 2, "type": "follow", "actor": "a", "target": "b", "at": AT}, "schema version"),
        (
            {"id": "e9", "type": "group_invite", "actor": "a", "target": "b", "at": AT},
            "missing field 'group'",
        ),
    ],
)
def test_errors_name_the_event_id(raw: dict[str, object], needle: str) -> None:
    with pytest.raises(EventError) as info:
        parse_event(raw, where="events.jsonl:7")
    assert info.value.event_id == "e9"
    assert "e9" in str(info.value) and "events.jsonl:7" in str(info.value)
    assert needle in str(info.value)


def test_missing_id_and_bad_json() -> None:
    with pytest.raises(EventError, match="missing field 'id'"):
        parse_event({"type": "follow"})
    with pytest.raises(EventError, match="not valid JSON"):
        parse_json_line("{nope", where="f:1")
    with pytest.raises(EventError, match="JSON object"):
        parse_json_line("[1]", where="f:1")


def test_read_jsonl_keeps_going_after_bad_lines() -> None:
    lines = [
        ISSUE_LINES[0],
        '{"id": "bad", "type": "nope", "at": "2026-01-05T18:00:00Z"}',
        "",
        ISSUE_LINES[1],
    ]
    out = list(read_jsonl(lines, name="ev.jsonl"))
    assert [type(o).__name__ for o in out] == ["AccountEvent", "EventError", "AccountEvent"]
    err = out[1]
    assert isinstance(err, EventError) and err.event_id == "bad" and "ev.jsonl:2" in str(err)


def test_json_schema_covers_every_type() -> None:
    schema = event_json_schema()
    assert set(schema) == set(EVENT_TYPES)
    assert "recipients" in schema["message"]["required"]
    json.dumps(schema)
