"""Device alerts: signed by the device, about a conversation it is in, recent, and closed to extra fields."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from safeguarding.client import DeviceKeys
from safeguarding.client.demo import LocalRelay
from safeguarding.e2ee import (
    DeviceAlert,
    DeviceAlertKind,
    Rejection,
    VerificationError,
    verify_device_alert,
)
from safeguarding.e2ee.alerts import alert_signed_bytes
from safeguarding.types import Stage

NOW = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
ALLOWED_FIELDS = {
    "alert_id", "account", "device", "conversation", "kind", "risk", "stages", "model_version", "created_at",
    "signature",
}  # fmt: skip


def make_alert(keys: DeviceKeys, **over: object) -> DeviceAlert:
    fields: dict[str, object] = {
        "alert_id": "al-1",
        "account": keys.account,
        "device": keys.device,
        "conversation": "c1",
        "kind": DeviceAlertKind.GROOMING,
        "risk": 0.87,
        "stages": (Stage.SECRECY_ISOLATION, Stage.MEETING),
        "model_version": "1.0.0.device-f16",
        "created_at": NOW,
    }
    fields.update(over)
    signature = keys.sign(alert_signed_bytes(**fields))  # type: ignore[arg-type]
    return DeviceAlert(**fields, signature=signature)  # type: ignore[arg-type]


@pytest.fixture
def kid(relay: LocalRelay) -> DeviceKeys:
    return relay.device("k1").keys


def verify(alert: DeviceAlert, relay: LocalRelay, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"directory": relay.directory, "members": ("a1", "k1"), "now": NOW}
    return verify_device_alert(alert, **{**args, **kw})  # type: ignore[arg-type]


def refused(alert: DeviceAlert, relay: LocalRelay, code: Rejection, **kw: object) -> None:
    with pytest.raises(VerificationError) as exc:
        verify(alert, relay, **kw)
    assert exc.value.code is code, str(exc.value)


def test_a_genuine_alert_verifies_and_explains_itself(relay: LocalRelay, kid: DeviceKeys) -> None:
    alert = DeviceAlert.from_dict(json.loads(json.dumps(make_alert(kid).to_dict())))
    v = verify(alert, relay, account="k1")
    assert (v.conversation, v.account, v.risk, v.kind) == ("c1", "k1", 0.87, DeviceAlertKind.GROOMING)
    assert v.stages == (Stage.SECRECY_ISOLATION, Stage.MEETING)
    codes = [r.code for r in v.reasons]
    assert codes == ["device_alert", "stage:secrecy_isolation", "stage:meeting"]
    assert "no message text was shared" in v.reasons[0].message


def test_an_alert_carries_only_the_allowed_fields(kid: DeviceKeys) -> None:
    data = make_alert(kid).to_dict()
    assert set(data) == ALLOWED_FIELDS
    data["text"] = "this is our secret"
    with pytest.raises(VerificationError, match="unknown field") as exc:
        DeviceAlert.from_dict(data)
    assert exc.value.code is Rejection.MALFORMED


@pytest.mark.parametrize(
    "change", [{"risk": 0.95}, {"stages": (Stage.MEETING,)}, {"conversation": "c2"}, {"created_at": NOW}]
)
def test_a_changed_alert_no_longer_verifies(
    relay: LocalRelay, kid: DeviceKeys, change: dict[str, object]
) -> None:
    alert = make_alert(kid, created_at=NOW - timedelta(minutes=1))
    refused(replace(alert, **change), relay, Rejection.BAD_SIGNATURE)  # type: ignore[arg-type]


def test_alerts_from_unknown_devices_outsiders_or_other_accounts_are_refused(
    relay: LocalRelay, kid: DeviceKeys
) -> None:
    stranger = DeviceKeys.generate("k1", "unregistered-phone")
    refused(make_alert(stranger), relay, Rejection.UNKNOWN_DEVICE)
    outsider = relay.device("x1").keys
    refused(make_alert(outsider), relay, Rejection.NOT_A_MEMBER)
    refused(make_alert(kid), relay, Rejection.SENDER_MISMATCH, account="a1")


def test_alerts_out_of_time_are_refused(relay: LocalRelay, kid: DeviceKeys) -> None:
    refused(make_alert(kid, created_at=NOW - timedelta(days=2)), relay, Rejection.STALE)
    refused(make_alert(kid, created_at=NOW + timedelta(hours=1)), relay, Rejection.STALE)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"risk": 1.5}, "risk"),
        ({"risk": 0.871}, "rounded"),
        ({"risk": float("nan")}, "risk"),
        ({"stages": ["stalking"]}, "stalking"),
        ({"stages": ["meeting", "meeting"]}, "repeat"),
        ({"kind": "spam"}, "spam"),
    ],
)
def test_malformed_alerts_are_refused(kid: DeviceKeys, change: dict[str, object], needle: str) -> None:
    data = {**make_alert(kid).to_dict(), **change}
    with pytest.raises(VerificationError, match=needle) as exc:
        DeviceAlert.from_dict(data)
    assert exc.value.code is Rejection.MALFORMED
