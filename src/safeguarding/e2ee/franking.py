"""Message franking: the server binds each message to its sender without being able to read it.

The scheme (after Facebook's "message franking" and Grubbs, Lu and Ristenpart, *Message Franking via
Committing Authenticated Encryption*, CRYPTO 2017):

1. The sender's device draws a fresh 256-bit *franking key* ``kf`` per message and computes the
   commitment ``c = HMAC-SHA256(kf, "safeguarding/frank/v1" ‖ message_id ‖ conversation ‖ sender ‖ text)``.
   ``kf`` travels inside the ciphertext; ``c`` travels in the clear, bound to the ciphertext as AEAD
   associated data. HMAC under a random secret key hides the text; HMAC-SHA256 is binding (finding two
   (key, text) pairs with one tag means a SHA-256 collision), so ``c`` can be opened one way only.
2. The server, which authenticated the uploader, computes its *tag*
   ``t = HMAC-SHA256(k_server, "safeguarding/stamp/v1" ‖ key_id ‖ message_id ‖ conversation ‖ group ‖
   sender ‖ sender_device ‖ recipients ‖ received_at ‖ c)`` and delivers ``(envelope, received_at, t)``.
3. The recipient's device decrypts and refuses the message unless ``kf`` opens ``c`` (so nothing it shows
   is unreportable).
4. To report, the recipient reveals ``text``, ``kf`` and the stamped metadata. The server recomputes
   ``t`` (so the metadata and ``c`` are what it stamped: sender, time, recipients) and checks that ``kf``
   opens ``c`` with the revealed text (so the text is what the sender committed to): see
   :mod:`safeguarding.e2ee.reports`.

Everything here is pure: the replay ledger is a small protocol the service implements with a table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from safeguarding.e2ee.codec import check_id, check_time, lp, members_part, utc_iso
from safeguarding.e2ee.reasons import Rejection, VerificationError
from safeguarding.e2ee.wire import Envelope, StampedEnvelope, StampRecord
from safeguarding.errors import ConfigError, ConflictError
from safeguarding.events.types import MessageEvent

FRANKING_KEY_BYTES = 32
SERVER_KEY_BYTES = 32
COMMIT_DOMAIN = "safeguarding/frank/v1"
STAMP_DOMAIN = "safeguarding/stamp/v1"
DERIVE_DOMAIN = "safeguarding/derive/v1"


# -- the sender's commitment ---------------------------------------------------------------------------
def commit(franking_key: bytes, *, message_id: str, conversation: str, sender: str, text: str) -> bytes:
    """The franking commitment to ``text`` in its context (id, conversation, sender)."""
    if len(franking_key) != FRANKING_KEY_BYTES:
        raise ValueError(f"a franking key has {FRANKING_KEY_BYTES} bytes")
    data = lp(COMMIT_DOMAIN, message_id, conversation, sender, text)
    return hmac.new(franking_key, data, hashlib.sha256).digest()


def opens(
    commitment: bytes, franking_key: bytes, *, message_id: str, conversation: str, sender: str, text: str
) -> bool:
    """Whether ``franking_key`` and ``text`` open ``commitment`` (constant-time comparison)."""
    if len(franking_key) != FRANKING_KEY_BYTES:
        return False
    expected = commit(
        franking_key, message_id=message_id, conversation=conversation, sender=sender, text=text
    )
    return hmac.compare_digest(expected, commitment)


MESSAGE_DOMAIN = "safeguarding/message/v1"


def message_signed_bytes(
    *,
    message_id: str,
    conversation: str,
    group: str | None,
    sender: str,
    sender_device: str,
    recipients: Sequence[str],
    commitment: bytes,
) -> bytes:
    """What the sender's device signs for each message: its header and commitment (hence its text).

    Why sign as well as frank: the conversation key is shared by all members, so without a signature
    any member could forge a message "from" another; the signature, checked by recipients and again
    on a report, pins the message to the sender's device key, not only to the server's word.
    """
    return lp(
        MESSAGE_DOMAIN,
        message_id,
        conversation,
        group or "",
        sender,
        sender_device,
        members_part(recipients),
        commitment,
    )


# -- the server's key ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ServerKey:
    """The server's franking key. It lives in settings or a secret store, never in the database:
    whoever holds it can forge tags, and reports are only as trustworthy as this key is secret."""

    id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_id("server key", "id", self.id)
        if len(self.secret) != SERVER_KEY_BYTES:
            raise ConfigError(f"server franking key {self.id!r} must be {SERVER_KEY_BYTES} bytes")

    @classmethod
    def generate(cls, key_id: str) -> ServerKey:
        return cls(key_id, os.urandom(SERVER_KEY_BYTES))

    def derive(self, label: str) -> ServerKey:
        """A sub-key for ``label`` (e.g. a tenant): one configured secret, tags that never verify across
        tenants. ``HMAC-SHA256(secret, domain ‖ label)``, named ``<id>:<label>``."""
        secret = hmac.new(self.secret, lp(DERIVE_DOMAIN, label), hashlib.sha256).digest()
        return ServerKey(f"{self.id}:{label}", secret)

    @classmethod
    def from_b64(cls, key_id: str, text: str) -> ServerKey:
        """From settings, e.g. ``SAFEGUARDING_FRANKING_KEY`` (base64 of 32 random bytes)."""
        try:
            secret = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"server franking key {key_id!r} is not valid base64") from None
        return cls(key_id, secret)


class ServerKeyRing:
    """The current key (used to stamp) and retired ones (still accepted when verifying old reports)."""

    def __init__(self, current: ServerKey, previous: Sequence[ServerKey] = ()) -> None:
        ids = [current.id, *(k.id for k in previous)]
        if len(set(ids)) != len(ids):
            raise ConfigError("server franking key ids must be distinct")
        self.current = current
        self._keys = {k.id: k for k in (current, *previous)}

    def get(self, key_id: str) -> ServerKey | None:
        return self._keys.get(key_id)

    def derive(self, label: str) -> ServerKeyRing:
        """The ring of every key's :meth:`ServerKey.derive` sub-key (one ring per tenant)."""
        previous = [k.derive(label) for k in self._keys.values() if k is not self.current]
        return ServerKeyRing(self.current.derive(label), previous)

    def __repr__(self) -> str:
        return f"ServerKeyRing(current={self.current.id!r}, ids={sorted(self._keys)!r})"


def server_tag(
    key: ServerKey,
    *,
    message_id: str,
    conversation: str,
    group: str | None,
    sender: str,
    sender_device: str,
    recipients: Sequence[str],
    received_at: datetime,
    commitment: bytes,
) -> bytes:
    """The server's franking tag over the metadata it observed and the sender's commitment."""
    data = lp(
        STAMP_DOMAIN,
        key.id,
        message_id,
        conversation,
        group or "",
        sender,
        sender_device,
        members_part(recipients),
        utc_iso(received_at),
        commitment,
    )
    return hmac.new(key.secret, data, hashlib.sha256).digest()


# -- accepting an upload ------------------------------------------------------------------------------
class StampLedger(Protocol):
    """Every message id the server has stamped (the service implements it as a table).

    ``add`` must be atomic: it raises :class:`~safeguarding.errors.ConflictError` when the message id,
    or the pair (conversation, nonce), is already present (unique constraints on both).
    """

    def get(self, message_id: str) -> StampRecord | None: ...

    def nonce_used(self, conversation: str, nonce: bytes) -> bool: ...

    def add(self, record: StampRecord) -> None: ...


class MemoryStampLedger:
    """A ledger in dictionaries (tests, the demo)."""

    def __init__(self) -> None:
        self.records: dict[str, StampRecord] = {}
        self._nonces: set[tuple[str, bytes]] = set()

    def get(self, message_id: str) -> StampRecord | None:
        return self.records.get(message_id)

    def nonce_used(self, conversation: str, nonce: bytes) -> bool:
        return (conversation, nonce) in self._nonces

    def add(self, record: StampRecord) -> None:
        if record.message_id in self.records or (record.conversation, record.nonce) in self._nonces:
            raise ConflictError(f"message {record.message_id!r} or its nonce was already stamped")
        self.records[record.message_id] = record
        self._nonces.add((record.conversation, record.nonce))


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted upload. ``duplicate``: the very same envelope had been accepted before (a client
    retry); the service must then neither relay it again nor feed it to the engine again."""

    stamped: StampedEnvelope
    duplicate: bool = False

    @property
    def record(self) -> StampRecord:
        return self.stamped.record()


def accept_envelope(
    envelope: Envelope,
    *,
    sender: str,
    sender_device: str,
    keyring: ServerKeyRing,
    ledger: StampLedger,
    received_at: datetime,
) -> Accepted:
    """Check an upload from the authenticated ``sender``/``sender_device``, stamp it and record it.

    Refuses (:class:`VerificationError`): an envelope naming another sender or device
    (``sender_mismatch``), a message id already used for a different envelope (``replay``), a nonce
    already used in the conversation (``nonce_reuse``). Re-uploading the identical envelope returns the
    first stamp with ``duplicate=True``, so a client may retry safely. The ciphertext is not (and cannot
    be) checked here: only recipients hold the key; they refuse tampered ones.
    """
    if envelope.sender != sender or envelope.sender_device != sender_device:
        raise VerificationError(
            Rejection.SENDER_MISMATCH,
            f"envelope names {envelope.sender!r}/{envelope.sender_device!r} but was uploaded by "
            f"{sender!r}/{sender_device!r}",
            message_id=envelope.message_id,
        )
    received_at = check_time("envelope", "received_at", received_at)
    for attempt in (0, 1):
        known = _known(envelope, ledger)
        if known is not None:
            return known
        key = keyring.current
        stamped = StampedEnvelope(
            envelope=envelope,
            received_at=received_at,
            server_key_id=key.id,
            server_tag=server_tag(
                key,
                message_id=envelope.message_id,
                conversation=envelope.conversation,
                group=envelope.group,
                sender=envelope.sender,
                sender_device=envelope.sender_device,
                recipients=envelope.recipients,
                received_at=received_at,
                commitment=envelope.commitment,
            ),
        )
        try:
            ledger.add(stamped.record())
        except ConflictError:
            if attempt:
                raise
            continue  # a concurrent upload won the race: decide again against what it wrote
        return Accepted(stamped)
    raise AssertionError("unreachable")  # pragma: no cover


def _known(envelope: Envelope, ledger: StampLedger) -> Accepted | None:
    previous = ledger.get(envelope.message_id)
    if previous is not None:
        if previous.envelope_digest != envelope.digest():
            raise VerificationError(
                Rejection.REPLAY,
                "this message id was already used for a different message",
                message_id=envelope.message_id,
            )
        stamped = StampedEnvelope(envelope, previous.received_at, previous.server_key_id, previous.server_tag)
        return Accepted(stamped, duplicate=True)
    if ledger.nonce_used(envelope.conversation, envelope.nonce):
        raise VerificationError(
            Rejection.NONCE_REUSE,
            "this nonce was already used in the conversation (a replayed ciphertext or a broken client)",
            message_id=envelope.message_id,
        )
    return None


def message_event(stamped: StampedEnvelope | StampRecord) -> MessageEvent:
    """The engine's ``message`` event for an accepted envelope: metadata only, ``text`` absent.

    The event id is the message id (random 128-bit, so it never collides with other event ids); the
    time is the server's receive time, never the sender's claim; ``size`` the padded ciphertext length.
    """
    rec = stamped.record() if isinstance(stamped, StampedEnvelope) else stamped
    return MessageEvent(
        id=rec.message_id,
        at=rec.received_at,
        conversation=rec.conversation,
        sender=rec.sender,
        recipients=rec.recipients,
        text=None,
        group=rec.group,
        size=rec.size,
    )
