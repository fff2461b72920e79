"""The wire format is frozen: signatures, franking commitments and stored rows depend on its exact bytes.

Every wire type is built from fixed bytes (no randomness), serialised with ``json.dumps(to_dict())`` and
compared with a golden string captured from the hand-written ``to_dict``/``from_dict`` methods before the
declarative codec in :mod:`safeguarding.e2ee.codec` replaced them; refusals' error messages likewise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from safeguarding.client import ClientSession
from safeguarding.client.demo import LocalRelay
from safeguarding.e2ee import (
    DeviceAlert,
    DeviceAlertKind,
    DeviceIdentity,
    Envelope,
    KeyPackage,
    Report,
    RevealedMessage,
    StampedEnvelope,
    VerificationError,
)
from safeguarding.types import Stage

T = datetime(2026, 1, 5, 18, 0, 0, 123456, tzinfo=UTC)


def b(n: int, start: int = 0) -> bytes:
    return bytes((start + i) % 256 for i in range(n))


def samples() -> dict[str, object]:
    """One instance of every wire type (and the optional/odd variants), from fixed values only."""
    identity = DeviceIdentity("a1", "a1-phone", b(32), b(32, 100), b(64, 7))
    package = KeyPackage(
        conversation="c1",
        key_id="0123456789abcdef",
        group="g1",
        sender="a1",
        sender_device="a1-phone",
        recipient="k1",
        recipient_device="k1-phone",
        members=("k1", "a1", "x1"),
        created_at=datetime(2026, 1, 5, 20, 0, 1, tzinfo=timezone(timedelta(hours=2))),
        sealed=b(72, 11),
        signature=b(64, 1),
    )
    envelope = Envelope(
        message_id="m1",
        conversation="c1",
        group=None,
        sender="a1",
        sender_device="a1-phone",
        recipients=("k1", "x1"),
        key_id="fedcba9876543210",
        nonce=b(24, 200),
        ciphertext=b(40, 9),
        commitment=b(32, 3),
    )
    stamped = StampedEnvelope(envelope, T, "k-2026-01", b(32, 5))
    revealed = RevealedMessage(
        message_id="m1",
        conversation="c1",
        group="g1",
        sender="a1",
        sender_device="a1-phone",
        recipients=("k1",),
        received_at=T,
        server_key_id="k-2026-01",
        server_tag=b(32, 5),
        commitment=b(32, 3),
        franking_key=b(32, 77),
        signature=b(64, 90),
        text='hello \u00e9 "quoted" \U0001f600',
    )
    report = Report(
        report_id="r1",
        reporter="k1",
        reporter_device="k1-phone",
        conversation="c1",
        reason="grooming",
        created_at=T + timedelta(minutes=3),
        messages=(revealed, replace(revealed, message_id="m2", group=None, text="")),
        signature=b(64, 33),
    )
    alert = DeviceAlert(
        alert_id="al-1",
        account="k1",
        device="k1-phone",
        conversation="c1",
        kind=DeviceAlertKind.GROOMING,
        risk=0.87,
        stages=(Stage.MEETING, Stage.SECRECY_ISOLATION),
        model_version="1.0.0.device-f16",
        created_at=T,
        signature=b(64, 250),
    )
    return {
        "identity": identity,
        "package": package,
        "package_no_group": replace(package, group=None),
        "envelope": envelope,
        "envelope_group": replace(envelope, group="g1"),
        "stamped": stamped,
        "record": stamped.record(),
        "revealed": revealed,
        "report": report,
        "alert": alert,
        "alert_no_stages": replace(alert, stages=(), risk=0.0),
    }


GOLDEN = {
    "identity": (
        '{"account": "a1", "device": "a1-phone", "box_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka'
        'GxwdHh8=", "sign_key": "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=", "signature": "Bwg'
        'JCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg=="}'
    ),
    "package": (
        '{"conversation": "c1", "key_id": "0123456789abcdef", "group": "g1", "sender": "a1", "sen'
        'der_device": "a1-phone", "recipient": "k1", "recipient_device": "k1-phone", "members": ['
        '"k1", "a1", "x1"], "created_at": "2026-01-05T18:00:01.000000Z", "sealed": "CwwNDg8QERITF'
        'BUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFS", "s'
        'ignature": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5'
        'Ojs8PT4/QA=="}'
    ),
    "package_no_group": (
        '{"conversation": "c1", "key_id": "0123456789abcdef", "group": null, "sender": "a1", "sen'
        'der_device": "a1-phone", "recipient": "k1", "recipient_device": "k1-phone", "members": ['
        '"k1", "a1", "x1"], "created_at": "2026-01-05T18:00:01.000000Z", "sealed": "CwwNDg8QERITF'
        'BUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFS", "s'
        'ignature": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5'
        'Ojs8PT4/QA=="}'
    ),
    "envelope": (
        '{"message_id": "m1", "conversation": "c1", "group": null, "sender": "a1", "sender_device'
        '": "a1-phone", "recipients": ["k1", "x1"], "key_id": "fedcba9876543210", "nonce": "yMnKy'
        '8zNzs/Q0dLT1NXW19jZ2tvc3d7f", "ciphertext": "CQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJyg'
        'pKissLS4vMA==", "commitment": "AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI="}'
    ),
    "envelope_group": (
        '{"message_id": "m1", "conversation": "c1", "group": "g1", "sender": "a1", "sender_device'
        '": "a1-phone", "recipients": ["k1", "x1"], "key_id": "fedcba9876543210", "nonce": "yMnKy'
        '8zNzs/Q0dLT1NXW19jZ2tvc3d7f", "ciphertext": "CQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJyg'
        'pKissLS4vMA==", "commitment": "AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI="}'
    ),
    "stamped": (
        '{"envelope": {"message_id": "m1", "conversation": "c1", "group": null, "sender": "a1", "'
        'sender_device": "a1-phone", "recipients": ["k1", "x1"], "key_id": "fedcba9876543210", "n'
        'once": "yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f", "ciphertext": "CQoLDA0ODxAREhMUFRYXGBkaGxwdHh'
        '8gISIjJCUmJygpKissLS4vMA==", "commitment": "AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI='
        '"}, "received_at": "2026-01-05T18:00:00.123456Z", "server_key_id": "k-2026-01", "server_'
        'tag": "BQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQ="}'
    ),
    "record": (
        '{"message_id": "m1", "conversation": "c1", "group": null, "sender": "a1", "sender_device'
        '": "a1-phone", "recipients": ["k1", "x1"], "key_id": "fedcba9876543210", "nonce": "yMnKy'
        '8zNzs/Q0dLT1NXW19jZ2tvc3d7f", "commitment": "AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI'
        '=", "size": 40, "envelope_digest": "b1a1cf7a412f11bad5d97fe13e83dfa7bc08f9e923c4d8b93958'
        '8d44128ec2d8", "received_at": "2026-01-05T18:00:00.123456Z", "server_key_id": "k-2026-01'
        '", "server_tag": "BQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQ="}'
    ),
    "revealed": (
        '{"message_id": "m1", "conversation": "c1", "group": "g1", "sender": "a1", "sender_device'
        '": "a1-phone", "recipients": ["k1"], "received_at": "2026-01-05T18:00:00.123456Z", "serv'
        'er_key_id": "k-2026-01", "server_tag": "BQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQ=", "'
        'commitment": "AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI=", "franking_key": "TU5PUFFSU1'
        'RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2w=", "signature": "WltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0d'
        'XZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmQ==", "text": "hello \\u00e9 \\"quoted\\" \\'
        'ud83d\\ude00"}'
    ),
    "report": (
        '{"report_id": "r1", "reporter": "k1", "reporter_device": "k1-phone", "conversation": "c1'
        '", "reason": "grooming", "created_at": "2026-01-05T18:03:00.123456Z", "messages": [{"mes'
        'sage_id": "m1", "conversation": "c1", "group": "g1", "sender": "a1", "sender_device": "a'
        '1-phone", "recipients": ["k1"], "received_at": "2026-01-05T18:00:00.123456Z", "server_ke'
        'y_id": "k-2026-01", "server_tag": "BQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQ=", "commi'
        'tment": "AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI=", "franking_key": "TU5PUFFSU1RVVld'
        'YWVpbXF1eX2BhYmNkZWZnaGlqa2w=", "signature": "WltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eH'
        'l6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmQ==", "text": "hello \\u00e9 \\"quoted\\" \\ud83d'
        '\\ude00"}, {"message_id": "m2", "conversation": "c1", "group": null, "sender": "a1", "sen'
        'der_device": "a1-phone", "recipients": ["k1"], "received_at": "2026-01-05T18:00:00.12345'
        '6Z", "server_key_id": "k-2026-01", "server_tag": "BQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fIC'
        'EiIyQ=", "commitment": "AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI=", "franking_key": "'
        'TU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2w=", "signature": "WltcXV5fYGFiY2RlZmdoaWprbG1'
        'ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmQ==", "text": ""}], "signature'
        '": "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f'
        'YA=="}'
    ),
    "alert": (
        '{"alert_id": "al-1", "account": "k1", "device": "k1-phone", "conversation": "c1", "kind"'
        ': "grooming", "risk": 0.87, "stages": ["secrecy_isolation", "meeting"], "model_version":'
        ' "1.0.0.device-f16", "created_at": "2026-01-05T18:00:00.123456Z", "signature": "+vv8/f7/'
        'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OQ=="}'
    ),
    "alert_no_stages": (
        '{"alert_id": "al-1", "account": "k1", "device": "k1-phone", "conversation": "c1", "kind"'
        ': "grooming", "risk": 0.0, "stages": [], "model_version": "1.0.0.device-f16", "created_a'
        't": "2026-01-05T18:00:00.123456Z", "signature": "+vv8/f7/AAECAwQFBgcICQoLDA0ODxAREhMUFRY'
        'XGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OQ=="}'
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_wire_type_serialises_byte_for_byte_as_before(name: str) -> None:
    obj = samples()[name]
    assert json.dumps(obj.to_dict(), sort_keys=False) == GOLDEN[name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_wire_type_reads_back_what_it_wrote(name: str) -> None:
    obj = samples()[name]
    back = type(obj).from_dict(json.loads(GOLDEN[name]))  # type: ignore[attr-defined]
    assert back == obj
    assert json.dumps(back.to_dict(), sort_keys=False) == GOLDEN[name]


def test_the_golden_set_covers_every_sample() -> None:
    assert set(GOLDEN) == set(samples())


def test_an_integral_risk_is_written_as_given() -> None:
    alert = replace(samples()["alert"], risk=1)  # type: ignore[type-var]
    assert json.dumps(alert.to_dict()["risk"]) == "1"
    assert json.dumps(DeviceAlert.from_dict(alert.to_dict()).to_dict()["risk"]) == "1.0"


def test_real_signed_objects_round_trip_with_the_same_keys_in_the_same_order(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    a, k = pair
    ids = [relay.send(a, "c1", line)[0].envelope.message_id for line in ("one", "two")]
    out = a.send("c1", "three")
    stamped = relay.upload(out.envelope)
    pkg = a.open_conversation("c2", ["a1", "k1"])[0]
    report = k.report("c1", ids)
    objs: list[object] = [out.envelope, stamped, stamped.record(), a.keys.identity, pkg, report]
    objs += list(report.messages)
    for obj in objs:
        golden = samples()
        same_type = next(v for v in golden.values() if type(v) is type(obj))
        wire = json.dumps(obj.to_dict(), sort_keys=False)  # type: ignore[attr-defined]
        back = type(obj).from_dict(json.loads(wire))  # type: ignore[attr-defined]
        assert back == obj
        assert json.dumps(back.to_dict(), sort_keys=False) == wire
        assert list(obj.to_dict()) == list(same_type.to_dict())  # type: ignore[attr-defined]


def _set(key: str, value: object) -> Callable[[dict[str, object]], object]:
    return lambda d: d.__setitem__(key, value)


def _pop(key: str) -> Callable[[dict[str, object]], object]:
    return lambda d: d.pop(key)


def _nested(key: str, change: Callable[[dict[str, object]], object]) -> Callable[[dict[str, object]], object]:
    def go(d: dict[str, object]) -> None:
        inner = d[key]
        change(inner[0] if isinstance(inner, list) else inner)  # type: ignore[arg-type]

    return go


def _both(
    first: Callable[[dict[str, object]], object], second: Callable[[dict[str, object]], object]
) -> Callable[[dict[str, object]], object]:
    return lambda d: (first(d), second(d))


REFUSALS: list[tuple[str, Callable[[dict[str, object]], object], str]] = [
    ("identity", _pop("account"), "malformed: device identity: missing field 'account'"),
    (
        "identity",
        _set("device", 7),
        "malformed: device identity: field 'device' must be a string of 1-256 characters",
    ),
    (
        "identity",
        _set("box_key", "AAAA"),
        "malformed: device identity: field 'box_key' must be 32 bytes, got 3",
    ),
    ("identity", _set("sign_key", 5), "malformed: device identity: field 'sign_key' must be base64 text"),
    (
        "identity",
        _set("signature", "not base64!"),
        "malformed: device identity: field 'signature' is not valid base64",
    ),
    ("identity", _set("extra", 1), "malformed: device identity: unknown field(s) 'extra'"),
    ("identity", _pop("signature"), "malformed: device identity: missing field 'signature'"),
    (
        "package",
        _set("key_id", "XYZ"),
        "malformed: key package: field 'key_id' must be 16 lowercase hex digits",
    ),
    (
        "package",
        _set("group", ""),
        "malformed: key package: field 'group' must be a string of 1-256 characters",
    ),
    (
        "package",
        _set("group", 3),
        "malformed: key package: field 'group' must be a string of 1-256 characters",
    ),
    (
        "package",
        _set("members", "a1"),
        "malformed: key package: field 'members' must be a list of at most 1000 strings",
    ),
    (
        "package",
        _set("members", ["a1", 2]),
        "malformed: key package: field 'members' must be a string of 1-256 characters",
    ),
    ("package", _set("members", ["a1"]), "malformed: key package: members must be 2-1001 distinct accounts"),
    (
        "package",
        _set("created_at", "2026-01-05T18:00:00"),
        "malformed: key package: field 'created_at' must be an ISO 8601 time with a zone",
    ),
    (
        "package",
        _set("created_at", "yesterday"),
        "malformed: key package: field 'created_at' must be an ISO 8601 time with a zone",
    ),
    (
        "package",
        _set("created_at", 12),
        "malformed: key package: field 'created_at' must be an ISO 8601 time with a zone",
    ),
    ("package", _set("sealed", "AAAA"), "malformed: key package: field 'sealed' must be 72 bytes, got 3"),
    ("package", _pop("recipient_device"), "malformed: key package: missing field 'recipient_device'"),
    ("package", _set("text", "smuggled"), "malformed: key package: unknown field(s) 'text'"),
    (
        "envelope",
        _set("ciphertext", ""),
        "malformed: envelope: ciphertext is shorter than its authentication tag",
    ),
    (
        "envelope",
        _set("ciphertext", "A" * 700000),
        "malformed: envelope: field 'ciphertext' is larger than 524288 bytes",
    ),
    ("envelope", _set("recipients", []), "malformed: envelope: needs 1-1000 recipients, got 0"),
    (
        "envelope",
        _set("recipients", ["a1"]),
        "malformed: envelope: the sender cannot be one of the recipients",
    ),
    (
        "envelope",
        _set("recipients", ["k1"] * 1001),
        "malformed: envelope: field 'recipients' must be a list of at most 1000 strings",
    ),
    ("envelope", _set("nonce", None), "malformed: envelope: field 'nonce' must be base64 text"),
    ("envelope", _set("text", "x"), "malformed: envelope: unknown field(s) 'text'"),
    # several faults: the first field in wire order is named, and unknown fields come last
    (
        "envelope",
        _both(_pop("commitment"), _pop("message_id")),
        "malformed: envelope: missing field 'message_id'",
    ),
    (
        "envelope",
        _both(_set("text", "x"), _set("recipients", ["a1"])),
        "malformed: envelope: the sender cannot be one of the recipients",
    ),
    (
        "report",
        _both(_nested("messages", _pop("text")), _pop("signature")),
        "malformed: revealed message: missing field 'text'",
    ),
    ("stamped", _pop("envelope"), "malformed: envelope: expected a JSON object, got NoneType"),
    ("stamped", _set("envelope", []), "malformed: envelope: expected a JSON object, got list"),
    ("stamped", _nested("envelope", _pop("nonce")), "malformed: envelope: missing field 'nonce'"),
    ("stamped", _nested("envelope", _set("text", "x")), "malformed: envelope: unknown field(s) 'text'"),
    (
        "stamped",
        _set("received_at", "2026-01-05T18:00:00"),
        "malformed: stamped envelope: field 'received_at' must be an ISO 8601 time with a zone",
    ),
    (
        "stamped",
        _set("server_key_id", ""),
        "malformed: stamped envelope: field 'server_key_id' must be a string of 1-256 characters",
    ),
    (
        "stamped",
        _set("server_tag", "AAAA"),
        "malformed: stamped envelope: field 'server_tag' must be 32 bytes, got 3",
    ),
    ("stamped", _set("size", 40), "malformed: stamped envelope: unknown field(s) 'size'"),
    ("record", _set("size", True), "malformed: stamp record: field 'size' must be a number"),
    ("record", _set("size", "40"), "malformed: stamp record: field 'size' must be a number"),
    ("record", _pop("size"), "malformed: stamp record: missing field 'size'"),
    (
        "record",
        _set("envelope_digest", 1),
        "malformed: stamp record: field 'envelope_digest' must be a string of 1-256 characters",
    ),
    ("record", _set("ciphertext", "AAAA"), "malformed: stamp record: unknown field(s) 'ciphertext'"),
    (
        "record",
        _set("server_tag", "AAAA"),
        "malformed: stamp record: field 'server_tag' must be 32 bytes, got 3",
    ),
    (
        "revealed",
        _set("text", "x" * 100001),
        "malformed: revealed message: field 'text' must be a string of at most 100000 characters",
    ),
    (
        "revealed",
        _set("text", 5),
        "malformed: revealed message: field 'text' must be a string of at most 100000 characters",
    ),
    ("revealed", _pop("text"), "malformed: revealed message: missing field 'text'"),
    (
        "revealed",
        _set("franking_key", "AAAA"),
        "malformed: revealed message: field 'franking_key' must be 32 bytes, got 3",
    ),
    (
        "revealed",
        _set("recipients", ["a1"]),
        "malformed: revealed message: the sender cannot be one of the recipients",
    ),
    ("report", _set("messages", []), "malformed: report: field 'messages' must be a list of 1-200 objects"),
    ("report", _set("messages", {}), "malformed: report: field 'messages' must be a list of 1-200 objects"),
    ("report", _set("messages", [1]), "malformed: revealed message: expected a JSON object, got int"),
    (
        "report",
        _nested("messages", _set("text", 5)),
        "malformed: revealed message: field 'text' must be a string of at most 100000 characters",
    ),
    (
        "report",
        _nested("messages", _set("conversation", "c2")),
        "malformed: report: every reported message must belong to the reported conversation",
    ),
    ("report", _nested("messages", _set("evil", 1)), "malformed: revealed message: unknown field(s) 'evil'"),
    ("report", _set("reason", ""), "malformed: report: field 'reason' must be a string of 1-256 characters"),
    ("report", _pop("signature"), "malformed: report: missing field 'signature'"),
    ("report", _set("extra", 1), "malformed: report: unknown field(s) 'extra'"),
    ("alert", _set("kind", "bullying"), "malformed: device alert: 'bullying' is not a valid DeviceAlertKind"),
    (
        "alert",
        _set("kind", 1),
        "malformed: device alert: field 'kind' must be a string of 1-256 characters",
    ),
    ("alert", _set("risk", True), "malformed: device alert: field 'risk' must be a number"),
    ("alert", _set("risk", "0.5"), "malformed: device alert: field 'risk' must be a number"),
    ("alert", _set("risk", 0.123), "malformed: device alert: risk must be rounded to 2 decimals"),
    ("alert", _set("risk", 2), "malformed: device alert: risk must be a number in [0, 1]"),
    ("alert", _set("stages", ["nope"]), "malformed: device alert: 'nope' is not a valid Stage"),
    ("alert", _set("stages", ["meeting", "meeting"]), "malformed: device alert: stages repeat"),
    (
        "alert",
        _set("stages", ["meeting"] * 9),
        "malformed: device alert: field 'stages' must be a list of at most 8 strings",
    ),
    (
        "alert",
        _set("stages", "meeting"),
        "malformed: device alert: field 'stages' must be a list of at most 8 strings",
    ),
    ("alert", _set("text", "hi"), "malformed: device alert: unknown field(s) 'text'"),
    ("alert", _pop("model_version"), "malformed: device alert: missing field 'model_version'"),
]


@pytest.mark.parametrize(("name", "change", "message"), REFUSALS)
def test_refused_inputs_keep_their_error_messages(
    name: str, change: Callable[[dict[str, object]], object], message: str
) -> None:
    obj = samples()[name]
    data = json.loads(json.dumps(obj.to_dict()))  # type: ignore[attr-defined]
    change(data)
    with pytest.raises(VerificationError) as exc:
        type(obj).from_dict(data)  # type: ignore[attr-defined]
    assert str(exc.value) == message


def test_an_absent_group_reads_as_none() -> None:
    data = samples()["package_no_group"].to_dict()  # type: ignore[attr-defined]
    del data["group"]
    assert KeyPackage.from_dict(data) == samples()["package_no_group"]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_non_objects_are_refused_with_the_type_named(name: str) -> None:
    cls = type(samples()[name])
    with pytest.raises(VerificationError) as exc:
        cls.from_dict([1])  # type: ignore[attr-defined]
    assert str(exc.value).endswith(": expected a JSON object, got list")
