"""Wire objects: JSON round trips, strict parsing (the privacy boundary), identities and key packages."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest

from safeguarding.client import ClientSession, DeviceKeys
from safeguarding.client.demo import LocalRelay
from safeguarding.e2ee import (
    DeviceIdentity,
    Envelope,
    KeyPackage,
    MemoryDirectory,
    Rejection,
    StampedEnvelope,
    StampRecord,
    VerificationError,
    verify_device_identity,
)
from safeguarding.e2ee.codec import lp
from safeguarding.errors import ConflictError, InputError


def via_json(obj: object) -> object:
    return json.loads(json.dumps(obj.to_dict()))  # type: ignore[attr-defined]


def test_length_prefixing_is_unambiguous() -> None:
    assert lp("d", "ab", "c") != lp("d", "a", "bc")
    assert lp("d", "x") != lp("e", "x")


def test_wire_objects_round_trip_through_json(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    a, _k = pair
    out = a.send("c1", "hello")
    stamped = relay.upload(out.envelope)
    assert Envelope.from_dict(via_json(out.envelope)) == out.envelope
    assert StampedEnvelope.from_dict(via_json(stamped)) == stamped
    assert StampRecord.from_dict(via_json(stamped.record())) == stamped.record()
    assert DeviceIdentity.from_dict(via_json(a.keys.identity)) == a.keys.identity
    pkg = a.open_conversation("c2", ["a1", "k1"])[0]
    assert KeyPackage.from_dict(via_json(pkg)) == pkg


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.update(text="smuggled"), "unknown field"),
        (lambda d: d.pop("commitment"), "missing field 'commitment'"),
        (lambda d: d.update(nonce=base64.b64encode(b"short").decode()), "must be 24 bytes"),
        (lambda d: d.update(ciphertext="not base64!"), "not valid base64"),
        (lambda d: d.update(recipients=["a1"]), "sender cannot be one of the recipients"),
        (lambda d: d.update(recipients=["k1", "k1"]), "not distinct"),
        (lambda d: d.update(recipients=[]), "needs 1-1000 recipients"),
        (lambda d: d.update(key_id="XYZ"), "key_id"),
        (lambda d: d.update(conversation=""), "1-256 characters"),
    ],
)
def test_malformed_envelopes_are_refused_with_the_field_named(
    pair: tuple[ClientSession, ClientSession], change: object, needle: str
) -> None:
    a, _ = pair
    data = a.send("c1", "hi").envelope.to_dict()
    change(data)  # type: ignore[operator]
    with pytest.raises(VerificationError) as exc:
        Envelope.from_dict(data)
    assert exc.value.code is Rejection.MALFORMED
    assert needle in str(exc.value)
    assert isinstance(exc.value, InputError)


def test_times_without_a_zone_are_refused(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    a, _ = pair
    data = relay.upload(a.send("c1", "hi").envelope).to_dict()
    data["received_at"] = "2026-01-05T18:00:00"
    with pytest.raises(VerificationError, match="with a zone"):
        StampedEnvelope.from_dict(data)


def test_device_identity_is_self_signed_and_bound_to_the_account() -> None:
    keys = DeviceKeys.generate("k1", "phone")
    assert verify_device_identity(keys.identity, account="k1") == keys.identity
    other = DeviceKeys.generate("x1", "evil").identity
    swapped = replace(keys.identity, box_key=other.box_key)  # a directory substituting the box key
    with pytest.raises(VerificationError) as exc:
        swapped.verify()
    assert exc.value.code is Rejection.BAD_SIGNATURE
    with pytest.raises(VerificationError) as exc:
        verify_device_identity(keys.identity, account="someone-else")
    assert exc.value.code is Rejection.SENDER_MISMATCH
    assert len(keys.identity.fingerprint.split()) == 8


def test_directory_refuses_new_keys_for_a_known_device() -> None:
    d = MemoryDirectory()
    d.register(DeviceKeys.generate("k1", "phone").identity)
    with pytest.raises(ConflictError):
        d.register(DeviceKeys.generate("k1", "phone").identity)


def test_key_package_signature_covers_the_sealed_key(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    a, k = pair
    pkg = a.open_conversation("c2", ["a1", "k1"])[0]
    pkg.verify(relay.directory)
    forged = replace(pkg, sealed=bytes(len(pkg.sealed)))
    for bad in (forged, replace(pkg, members=("a1", "k1", "x1")), replace(pkg, signature=bytes(64))):
        with pytest.raises(VerificationError) as exc:
            bad.verify(relay.directory)
        assert exc.value.code is Rejection.BAD_SIGNATURE
        with pytest.raises(VerificationError):
            k.accept_key_package(bad)
    stranger = replace(pkg, sender_device="unregistered")
    with pytest.raises(VerificationError) as exc:
        stranger.verify(relay.directory)
    assert exc.value.code is Rejection.UNKNOWN_DEVICE


def test_secrets_stay_out_of_reprs(pair: tuple[ClientSession, ClientSession]) -> None:
    a, _ = pair
    assert repr(a.keys) == "DeviceKeys(account='a1', device='a1-phone')"
    restored = DeviceKeys.from_secret("a1", "a1-phone", a.keys.export_secret())
    assert restored.identity == a.keys.identity
