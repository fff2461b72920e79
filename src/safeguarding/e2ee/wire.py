"""What travels between devices and the server in encrypted mode: key packages and envelopes.

The server sees exactly the fields of these objects. None of them holds message text or anything derived
from it except ``size`` (the padded ciphertext length) and ``commitment`` (an HMAC under a key the server
never learns, so it reveals nothing about the text; see :mod:`safeguarding.e2ee.franking`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from safeguarding.e2ee.codec import (
    ID,
    IDS,
    INTEGER,
    MAX_RECIPIENTS,
    OPT_ID,
    TIME,
    WireObject,
    blob,
    check_bytes,
    check_id,
    check_recipients,
    check_time,
    lp,
    malformed,
    members_part,
    nested,
    utc_iso,
)
from safeguarding.e2ee.identity import SIGNATURE_BYTES, DeviceDirectory, require_device, verify_signature

NONCE_BYTES = 24
"""XChaCha20-Poly1305 nonce: 192 random bits, so random nonces never collide in practice."""
AEAD_TAG_BYTES = 16
COMMITMENT_BYTES = 32
TAG_BYTES = 32
KEY_ID_CHARS = 16
MAX_CIPHERTEXT_BYTES = 512 * 1024
SEALED_KEY_BYTES = 24 + 32 + 16  # crypto_box: nonce, key, Poly1305 tag

ENVELOPE_DOMAIN = "safeguarding/envelope/v1"
KEY_PACKAGE_DOMAIN = "safeguarding/key-package/v1"


def _check_key_id(kind: str, key_id: str) -> str:
    if len(key_id) != KEY_ID_CHARS or any(c not in "0123456789abcdef" for c in key_id):
        raise malformed(kind, f"field 'key_id' must be {KEY_ID_CHARS} lowercase hex digits")
    return key_id


@dataclass(frozen=True, slots=True)
class KeyPackage(WireObject):
    """A conversation key sealed by one member's device to another member's device.

    ``sealed`` is ``crypto_box`` (X25519 + XSalsa20-Poly1305) from the sender's box key to the recipient's;
    the package is signed by the sender's device so the server cannot inject a key of its own.
    ``members`` is the conversation's membership for this key: a device refuses messages from others.
    """

    wire_name: ClassVar[str] = "key package"

    conversation: str = field(metadata=ID)
    key_id: str = field(metadata=ID)
    group: str | None = field(metadata=OPT_ID)
    sender: str = field(metadata=ID)
    sender_device: str = field(metadata=ID)
    recipient: str = field(metadata=ID)
    recipient_device: str = field(metadata=ID)
    members: tuple[str, ...] = field(metadata=IDS)
    created_at: datetime = field(metadata=TIME)
    sealed: bytes = field(metadata=blob(size=SEALED_KEY_BYTES))
    signature: bytes = field(metadata=blob(size=SIGNATURE_BYTES))

    def __post_init__(self) -> None:
        k = "key package"
        for name in ("conversation", "sender", "sender_device", "recipient", "recipient_device"):
            check_id(k, name, getattr(self, name))
        _check_key_id(k, self.key_id)
        if self.group is not None:
            check_id(k, "group", self.group)
        members = tuple(check_id(k, "members", m) for m in self.members)
        if not 2 <= len(members) <= MAX_RECIPIENTS + 1 or len(set(members)) != len(members):
            raise malformed(k, f"members must be 2-{MAX_RECIPIENTS + 1} distinct accounts")
        if self.sender not in members or self.recipient not in members:
            raise malformed(k, "sender and recipient must both be members")
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "created_at", check_time(k, "created_at", self.created_at))
        check_bytes(k, "sealed", self.sealed, size=SEALED_KEY_BYTES)
        check_bytes(k, "signature", self.signature, size=SIGNATURE_BYTES)

    def signed_bytes(self) -> bytes:
        return lp(
            KEY_PACKAGE_DOMAIN,
            self.conversation,
            self.key_id,
            self.group or "",
            self.sender,
            self.sender_device,
            self.recipient,
            self.recipient_device,
            members_part(self.members),
            utc_iso(self.created_at),
            self.sealed,
        )

    def verify(self, directory: DeviceDirectory) -> None:
        """What the server (before relaying) and the recipient (before opening) check: the signature."""
        sender = require_device(directory, self.sender, self.sender_device)
        verify_signature(sender, self.signed_bytes(), self.signature, "key package")


def envelope_header(
    *,
    message_id: str,
    conversation: str,
    group: str | None,
    sender: str,
    sender_device: str,
    recipients: tuple[str, ...],
    key_id: str,
    nonce: bytes,
    commitment: bytes,
) -> bytes:
    """An envelope's associated data, computable before the ciphertext exists (the sender needs it)."""
    return lp(
        ENVELOPE_DOMAIN,
        message_id,
        conversation,
        group or "",
        sender,
        sender_device,
        members_part(recipients),
        key_id,
        nonce,
        commitment,
    )


@dataclass(frozen=True, slots=True)
class Envelope(WireObject):
    """One encrypted message as the sender's device uploads it.

    The AEAD (XChaCha20-Poly1305) authenticates :meth:`header_bytes` as associated data, so changing any
    header field (a recipient, the commitment, the claimed sender ...) makes decryption fail exactly as
    changing a ciphertext byte does.
    """

    wire_name: ClassVar[str] = "envelope"

    message_id: str = field(metadata=ID)
    conversation: str = field(metadata=ID)
    group: str | None = field(metadata=OPT_ID)
    sender: str = field(metadata=ID)
    sender_device: str = field(metadata=ID)
    recipients: tuple[str, ...] = field(metadata=IDS)
    key_id: str = field(metadata=ID)
    nonce: bytes = field(metadata=blob(size=NONCE_BYTES))
    ciphertext: bytes = field(metadata=blob(max_size=MAX_CIPHERTEXT_BYTES))
    commitment: bytes = field(metadata=blob(size=COMMITMENT_BYTES))

    def __post_init__(self) -> None:
        k = "envelope"
        for name in ("message_id", "conversation", "sender", "sender_device"):
            check_id(k, name, getattr(self, name))
        if self.group is not None:
            check_id(k, "group", self.group)
        object.__setattr__(self, "recipients", check_recipients(k, self.sender, tuple(self.recipients)))
        _check_key_id(k, self.key_id)
        check_bytes(k, "nonce", self.nonce, size=NONCE_BYTES)
        check_bytes(k, "ciphertext", self.ciphertext, max_size=MAX_CIPHERTEXT_BYTES)
        if len(self.ciphertext) < AEAD_TAG_BYTES:
            raise malformed(k, "ciphertext is shorter than its authentication tag")
        check_bytes(k, "commitment", self.commitment, size=COMMITMENT_BYTES)

    @property
    def size(self) -> int:
        """What the engine's ``message`` event records as ``size``: the (padded) ciphertext length."""
        return len(self.ciphertext)

    def header_bytes(self) -> bytes:
        """The associated data of the AEAD: every field except the ciphertext."""
        return envelope_header(
            message_id=self.message_id,
            conversation=self.conversation,
            group=self.group,
            sender=self.sender,
            sender_device=self.sender_device,
            recipients=self.recipients,
            key_id=self.key_id,
            nonce=self.nonce,
            commitment=self.commitment,
        )

    def digest(self) -> str:
        """sha256 of the whole envelope: tells a harmless re-upload from a message id reused."""
        return hashlib.sha256(self.header_bytes() + self.ciphertext).hexdigest()


@dataclass(frozen=True, slots=True)
class StampRecord(WireObject):
    """What the server keeps about an accepted envelope: metadata, commitment and its own tag, no text.

    The service stores one row per message id (the replay ledger and the lookup for reports); the
    ciphertext itself only needs keeping until delivered.
    """

    wire_name: ClassVar[str] = "stamp record"

    message_id: str = field(metadata=ID)
    conversation: str = field(metadata=ID)
    group: str | None = field(metadata=OPT_ID)
    sender: str = field(metadata=ID)
    sender_device: str = field(metadata=ID)
    recipients: tuple[str, ...] = field(metadata=IDS)
    key_id: str = field(metadata=ID)
    nonce: bytes = field(metadata=blob(size=NONCE_BYTES))
    commitment: bytes = field(metadata=blob(size=COMMITMENT_BYTES))
    size: int = field(metadata=INTEGER)
    envelope_digest: str = field(metadata=ID)
    received_at: datetime = field(metadata=TIME)
    server_key_id: str = field(metadata=ID)
    server_tag: bytes = field(metadata=blob(size=TAG_BYTES))


@dataclass(frozen=True, slots=True)
class StampedEnvelope(WireObject):
    """An envelope as the server delivers it: with the server's receive time and franking tag."""

    wire_name: ClassVar[str] = "stamped envelope"

    envelope: Envelope = field(metadata=nested(Envelope))
    received_at: datetime = field(metadata=TIME)
    server_key_id: str = field(metadata=ID)
    server_tag: bytes = field(metadata=blob(size=TAG_BYTES))

    def __post_init__(self) -> None:
        k = "stamped envelope"
        object.__setattr__(self, "received_at", check_time(k, "received_at", self.received_at))
        check_id(k, "server_key_id", self.server_key_id)
        check_bytes(k, "server_tag", self.server_tag, size=TAG_BYTES)

    def record(self) -> StampRecord:
        e = self.envelope
        return StampRecord(
            message_id=e.message_id,
            conversation=e.conversation,
            group=e.group,
            sender=e.sender,
            sender_device=e.sender_device,
            recipients=e.recipients,
            key_id=e.key_id,
            nonce=e.nonce,
            commitment=e.commitment,
            size=e.size,
            envelope_digest=e.digest(),
            received_at=self.received_at,
            server_key_id=self.server_key_id,
            server_tag=self.server_tag,
        )
