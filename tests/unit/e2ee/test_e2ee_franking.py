"""Server side of franking: accepting uploads, the stamp, replay and nonce-reuse refusals, engine events."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from safeguarding.client import ClientSession
from safeguarding.client.demo import LocalRelay
from safeguarding.e2ee import (
    MemoryStampLedger,
    Rejection,
    ServerKey,
    ServerKeyRing,
    StampRecord,
    VerificationError,
    accept_envelope,
    commit,
    message_event,
    opens,
    server_tag,
)
from safeguarding.errors import ConfigError, ConflictError
from safeguarding.events import MessageEvent

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
TEXT = "this is our little secret ok"


def accept(relay: LocalRelay, envelope, **kw):  # type: ignore[no-untyped-def]
    args = {
        "sender": envelope.sender,
        "sender_device": envelope.sender_device,
        "keyring": relay.keyring,
        "ledger": relay.ledger,
        "received_at": T0,
    }
    return accept_envelope(envelope, **{**args, **kw})


def test_an_accepted_envelope_becomes_a_message_event_without_text(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    a, _ = pair
    env = a.send("c1", TEXT).envelope
    got = accept(relay, env, received_at=T0 + timedelta(minutes=3))
    assert not got.duplicate and relay.ledger.get(env.message_id) == got.record
    ev = message_event(got.stamped)
    assert isinstance(ev, MessageEvent)
    assert (ev.id, ev.conversation, ev.sender, ev.recipients) == (env.message_id, "c1", "a1", ("k1",))
    assert ev.text is None and ev.size == len(env.ciphertext) and ev.at == T0 + timedelta(minutes=3)
    assert message_event(got.record) == ev
    wire = json.dumps(got.stamped.to_dict()) + json.dumps(got.record.to_dict())
    assert TEXT not in wire and "secret" not in wire


def test_an_upload_in_someone_elses_name_is_refused(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    a, _ = pair
    env = a.send("c1", TEXT).envelope
    for kw in ({"sender": "k1"}, {"sender_device": "other-phone"}):
        with pytest.raises(VerificationError) as exc:
            accept(relay, env, **kw)
        assert exc.value.code is Rejection.SENDER_MISMATCH
    assert relay.ledger.get(env.message_id) is None


def test_the_same_upload_twice_is_a_duplicate_not_a_second_message(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    a, _ = pair
    env = a.send("c1", TEXT).envelope
    first = accept(relay, env)
    again = accept(relay, env, received_at=T0 + timedelta(hours=1))
    assert again.duplicate and again.stamped == first.stamped  # the first stamp, not a new time
    assert len(relay.ledger.records) == 1


def test_a_replayed_message_id_with_other_content_is_refused(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    a, _ = pair
    first = a.send("c1", TEXT).envelope
    accept(relay, first)
    second = a.send("c1", "something else").envelope
    with pytest.raises(VerificationError) as exc:
        accept(relay, replace(second, message_id=first.message_id))
    assert exc.value.code is Rejection.REPLAY and exc.value.message_id == first.message_id


def test_a_reused_nonce_is_refused(pair: tuple[ClientSession, ClientSession], relay: LocalRelay) -> None:
    a, _ = pair
    first = a.send("c1", TEXT).envelope
    accept(relay, first)
    replayed = replace(first, message_id="f" * 32)  # the same ciphertext under a fresh id
    with pytest.raises(VerificationError) as exc:
        accept(relay, replayed)
    assert exc.value.code is Rejection.NONCE_REUSE


def test_a_lost_race_is_decided_against_what_the_winner_wrote(
    pair: tuple[ClientSession, ClientSession], relay: LocalRelay
) -> None:
    """Two workers accept the same upload at once: the loser's ``add`` conflicts, it re-reads, duplicate."""
    a, _ = pair
    env = a.send("c1", TEXT).envelope

    class Racy(MemoryStampLedger):
        def __init__(self) -> None:
            super().__init__()
            self.raced = False

        def add(self, record: StampRecord) -> None:
            if not self.raced:
                self.raced = True
                super().add(record)  # the other worker commits first ...
                raise ConflictError("unique violation")  # ... and this worker's insert fails
            super().add(record)

    got = accept(relay, env, ledger=Racy())
    assert got.duplicate


def test_commitments_bind_text_key_and_context() -> None:
    fk = bytes(range(32))
    ctx = {"message_id": "m1", "conversation": "c1", "sender": "a1"}
    c = commit(fk, text=TEXT, **ctx)
    assert opens(c, fk, text=TEXT, **ctx)
    assert not opens(c, fk, text=TEXT + ".", **ctx)
    assert not opens(c, bytes(32), text=TEXT, **ctx)
    assert not opens(c, fk, text=TEXT, **{**ctx, "sender": "k1"})
    assert not opens(c, fk, text=TEXT, **{**ctx, "message_id": "m2"})
    assert not opens(c, fk[:16], text=TEXT, **ctx)


@pytest.mark.parametrize(
    "field",
    [
        "message_id",
        "conversation",
        "group",
        "sender",
        "sender_device",
        "recipients",
        "received_at",
        "commitment",
    ],
)
def test_the_server_tag_covers_every_stamped_field(field: str) -> None:
    key = ServerKey.generate("k1")
    base = {
        "message_id": "m1",
        "conversation": "c1",
        "group": None,
        "sender": "a1",
        "sender_device": "d1",
        "recipients": ("k1", "k2"),
        "received_at": T0,
        "commitment": bytes(32),
    }
    changed = {
        "message_id": "m2",
        "conversation": "c2",
        "group": "g1",
        "sender": "a2",
        "sender_device": "d2",
        "recipients": ("k1",),
        "received_at": T0 + timedelta(microseconds=1),
        "commitment": bytes(31) + b"\1",
    }
    tag = server_tag(key, **base)  # type: ignore[arg-type]
    assert server_tag(key, **{**base, "recipients": ("k2", "k1")}) == tag  # type: ignore[arg-type]
    assert server_tag(key, **{**base, field: changed[field]}) != tag  # type: ignore[arg-type]
    assert server_tag(ServerKey.generate("k1"), **base) != tag  # type: ignore[arg-type]


def test_server_keys_are_validated_and_never_printed() -> None:
    key = ServerKey.generate("k-2026")
    assert key.secret.hex() not in repr(key) and "secret" not in repr(ServerKeyRing(key))
    assert ServerKey.from_b64("k", base64.b64encode(key.secret).decode()).secret == key.secret
    with pytest.raises(ConfigError):
        ServerKey.from_b64("k", "not base64!")
    with pytest.raises(ConfigError):
        ServerKey("k", b"short")
    with pytest.raises(ConfigError):
        ServerKeyRing(key, [ServerKey.generate("k-2026")])


def test_tenant_keys_are_derived_apart_and_rotation_keeps_old_tags_verifiable() -> None:
    old, new = ServerKey.generate("2025"), ServerKey.generate("2026")
    ring = ServerKeyRing(new, [old]).derive("tenant-a")
    assert ring.current.id == "2026:tenant-a" and ring.get("2025:tenant-a") == old.derive("tenant-a")
    assert old.derive("tenant-a").secret != old.derive("tenant-b").secret != old.secret
    assert ServerKey("2025", old.secret).derive("tenant-a") == old.derive("tenant-a")  # deterministic
