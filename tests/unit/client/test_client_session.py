"""The device side: encryption round trips and everything a receiving device refuses."""

from __future__ import annotations

import base64
import os
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguarding.client import ClientSession
from safeguarding.client.demo import LocalRelay
from safeguarding.client.keys import PAD_BLOCK, encrypt
from safeguarding.e2ee import Envelope, Rejection, StampedEnvelope, VerificationError
from safeguarding.e2ee.franking import commit, message_signed_bytes
from safeguarding.e2ee.wire import envelope_header
from safeguarding.errors import InputError, NotFoundError

TEXT = "how old are you? dont tell your mum we talk"


def refused(session: ClientSession, stamped: StampedEnvelope, code: Rejection) -> None:
    with pytest.raises(VerificationError) as exc:
        session.receive(stamped)
    assert exc.value.code is code, str(exc.value)


def test_a_message_round_trips_and_the_server_sees_only_ciphertext(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    a, k = pair
    out, stamped, got = relay.send(a, "c1", TEXT)
    assert got["k1"].message.text == TEXT and got["k1"].message.sender == "a1"
    assert not got["k1"].message.outgoing and got["k1"].message.at == stamped.received_at
    assert TEXT.encode() not in out.envelope.ciphertext and TEXT not in repr(out.envelope)
    assert TEXT not in repr(got["k1"].message)  # device-local text stays out of reprs (and so of logs)
    assert [m.text for m in k.history("c1")] == [TEXT]
    reply = relay.send(k, "c1", "no")[2]["a1"]
    assert reply.message.text == "no" and [m.text for m in a.history("c1")] == [TEXT, "no"]


def test_sizes_are_padded_to_blocks(pair: tuple[ClientSession, ClientSession]) -> None:
    a, _ = pair
    sizes = {a.send("c1", "x" * n).envelope.size for n in range(1, 40)}
    assert len(sizes) <= 2 and all((s - 16) % PAD_BLOCK == 0 for s in sizes)


def test_a_group_message_reaches_every_member_and_a_reply_can_address_one(relay: LocalRelay) -> None:
    a, b, k = relay.device("a1"), relay.device("b1"), relay.device("k1")
    relay.open(a, "g", ["a1", "b1", "k1"], group="grp")
    _, stamped, got = relay.send(b, "g", "practice moved to 5pm")
    assert set(got) == {"a1", "k1"} and stamped.envelope.group == "grp"
    _, _, got = relay.send(k, "g", "ok thanks coach", to=["a1"])
    assert set(got) == {"a1"}
    with pytest.raises(InputError):
        k.send("g", "hi", to=["stranger"])


def test_tampered_ciphertext_is_refused(relay: LocalRelay, pair: tuple[ClientSession, ClientSession]) -> None:
    a, k = pair
    stamped = relay.upload(a.send("c1", TEXT).envelope)
    ct = bytearray(stamped.envelope.ciphertext)
    ct[5] ^= 0x01
    refused(k, replace(stamped, envelope=replace(stamped.envelope, ciphertext=bytes(ct))), Rejection.TAMPERED)
    short = replace(stamped.envelope, ciphertext=stamped.envelope.ciphertext[:-1])
    refused(k, replace(stamped, envelope=short), Rejection.TAMPERED)
    k.receive(stamped)  # the untouched one still decrypts


def test_a_tampered_header_is_refused_like_tampered_ciphertext(relay: LocalRelay) -> None:
    """The header is the AEAD's associated data: re-attributing or redirecting a message breaks it."""
    a, b, k = relay.device("a1"), relay.device("b1"), relay.device("k1")
    relay.open(a, "g", ["a1", "b1", "k1"])
    stamped = relay.upload(a.send("g", TEXT).envelope)
    e = stamped.envelope
    for bad in (
        replace(e, sender="b1", sender_device=b.device, recipients=("a1", "k1")),
        replace(e, recipients=("k1",)),
        replace(e, commitment=os.urandom(32)),
        replace(e, message_id="0" * 32),
    ):
        refused(k, replace(stamped, envelope=bad), Rejection.TAMPERED)


def test_a_replayed_message_is_refused(relay: LocalRelay, pair: tuple[ClientSession, ClientSession]) -> None:
    a, k = pair
    _, stamped, _ = relay.send(a, "c1", TEXT)
    refused(k, stamped, Rejection.REPLAY)
    assert len(k.history("c1")) == 1


def test_messages_for_others_or_under_unknown_keys_are_refused(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    a, k = pair
    x = relay.device("x1")
    stamped = relay.upload(a.send("c1", TEXT).envelope)
    refused(x, stamped, Rejection.NOT_A_RECIPIENT)
    relay.open(a, "c2", ["a1", "x1"])
    to_x = relay.upload(a.send("c2", "hi").envelope)
    refused(k, replace(to_x, envelope=replace(to_x.envelope, recipients=("k1",))), Rejection.UNKNOWN_KEY)


def _forge(
    session: ClientSession,
    conversation: str,
    text: str,
    *,
    committed: str,
    signer: ClientSession | None = None,
) -> Envelope:
    """A malicious client: the commitment is to ``committed``, the ciphertext carries ``text``."""
    ck = session._current[conversation]
    mid, fk, nonce = os.urandom(16).hex(), os.urandom(32), os.urandom(24)
    recipients = tuple(m for m in ck.members if m != session.account)
    c = commit(fk, message_id=mid, conversation=conversation, sender=session.account, text=committed)
    meta = {
        "message_id": mid,
        "conversation": conversation,
        "group": ck.group,
        "sender": session.account,
        "sender_device": session.device,
        "recipients": recipients,
    }
    sig = (signer or session).keys.sign(message_signed_bytes(**meta, commitment=c))  # type: ignore[arg-type]
    header = envelope_header(**meta, key_id=ck.key_id, nonce=nonce, commitment=c)  # type: ignore[arg-type]
    payload = b"\x01" + fk + sig + text.encode()
    return Envelope(
        **meta,
        key_id=ck.key_id,
        nonce=nonce,
        ciphertext=encrypt(ck.key, nonce, header, payload),
        commitment=c,
    )  # type: ignore[arg-type]


def test_an_unreportable_message_is_not_shown(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    """A sender who commits to harmless text but encrypts abuse would escape reports: refused on receipt."""
    a, k = pair
    bad = _forge(a, "c1", "send me a photo now", committed="hello")
    refused(k, relay.upload(bad), Rejection.BAD_COMMITMENT)
    assert k.history("c1") == ()


def test_a_member_cannot_forge_a_message_from_another_member(relay: LocalRelay) -> None:
    a, b, k = relay.device("a1"), relay.device("b1"), relay.device("k1")
    relay.open(a, "g", ["a1", "b1", "k1"])
    b_as_b = _forge(b, "g", "hi", committed="hi")
    k.receive(relay.upload(b_as_b))
    # b1 holds the shared key, so he can encrypt "as a1" — but cannot sign as a1's device.
    a_by_b = _forge(a, "g", "meet me alone", committed="meet me alone", signer=b)
    refused(k, relay.upload(a_by_b), Rejection.BAD_SIGNATURE)


def test_a_removed_member_cannot_read_the_next_epoch(relay: LocalRelay) -> None:
    a, b, k = relay.device("a1"), relay.device("b1"), relay.device("k1")
    relay.open(a, "g", ["a1", "b1", "k1"])
    relay.clock.advance(minutes=1)
    relay.open(a, "g", ["a1", "k1"])  # b1 removed: a new key, never sealed to b1
    stamped = relay.upload(a.send("g", "b is gone").envelope)
    assert stamped.envelope.recipients == ("k1",)
    assert k.receive(stamped).message.text == "b is gone"
    leaked = replace(stamped, envelope=replace(stamped.envelope, recipients=("b1", "k1")))
    refused(b, leaked, Rejection.UNKNOWN_KEY)


def test_key_packages_for_another_device_are_refused(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    a, _ = pair
    x = relay.device("x1")
    pkg = a.open_conversation("c3", ["a1", "k1"])[0]
    with pytest.raises(VerificationError) as exc:
        x.accept_key_package(pkg)
    assert exc.value.code is Rejection.NOT_A_RECIPIENT


def test_sending_needs_a_key(relay: LocalRelay) -> None:
    a = relay.device("a1")
    with pytest.raises(InputError, match="no key"):
        a.send("nowhere", "hi")
    relay.device("k1")
    with pytest.raises(InputError, match="no registered device"):
        a.open_conversation("c", ["a1", "ghost"])


def test_only_received_messages_can_be_reported(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    a, k = pair
    mine = relay.send(k, "c1", "hi")[0].envelope.message_id
    theirs = relay.send(a, "c1", TEXT)[0].envelope.message_id
    with pytest.raises(NotFoundError):
        k.report("c1", [mine])
    with pytest.raises(NotFoundError):
        k.report("c2", [theirs])
    with pytest.raises(InputError):
        k.report("c1", [])
    report = k.report("c1", [theirs, theirs])
    assert [m.text for m in report.messages] == [TEXT]


def test_an_outsider_cannot_rekey_someone_elses_conversation(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession]
) -> None:
    _, k = pair
    x = relay.device("x1")
    relay.clock.advance(minutes=5)
    hijack = x.open_conversation("c1", ["x1", "k1"])[0]  # a newer key for the child's existing chat
    with pytest.raises(VerificationError) as exc:
        k.accept_key_package(hijack)
    assert exc.value.code is Rejection.NOT_A_MEMBER
    assert relay.send(k, "c1", "still private")[0].envelope.recipients == ("a1",)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_change_to_a_delivered_envelope_is_refused_never_misread(
    relay: LocalRelay, pair: tuple[ClientSession, ClientSession], data: st.DataObject
) -> None:
    """Change any envelope field (a bit of the nonce, ciphertext or commitment; a character of an id):
    the device refuses it with a reason — never shows it, never crashes with another error."""
    a, k = pair
    stamped = relay.upload(a.send("c1", TEXT).envelope)
    env = stamped.envelope.to_dict()
    field = data.draw(
        st.sampled_from(
            [
                "message_id",
                "conversation",
                "sender",
                "recipients",
                "key_id",
                "nonce",
                "ciphertext",
                "commitment",
            ]
        )
    )
    value = env[field]
    if isinstance(value, list):
        value = [value[0] + "x"]
    elif field in ("nonce", "ciphertext", "commitment"):
        raw = bytearray(base64.b64decode(value))
        i = data.draw(st.integers(0, len(raw) * 8 - 1))
        raw[i // 8] ^= 1 << (i % 8)
        value = base64.b64encode(bytes(raw)).decode()
    else:
        value = value[:-1] + ("0" if value[-1] != "0" else "1")
    env[field] = value
    try:
        changed = StampedEnvelope.from_dict({**stamped.to_dict(), "envelope": env})
        got = k.receive(changed)
    except (VerificationError, InputError):
        return
    raise AssertionError(f"a changed {field} was accepted: {got.message.message_id}")
