"""Why an encrypted-mode object was refused: one reason code per failure, one error class.

Every check in :mod:`safeguarding.e2ee` (the server's) and :mod:`safeguarding.client` (the device's)
fails with :class:`VerificationError`, an :class:`~safeguarding.errors.InputError`, so the service maps
it to a 4xx response with its ``code`` without a special case, and a test can assert the exact reason
(a tampered ciphertext must not be reported as a forged tag: the moderator acts differently on each).
"""

from __future__ import annotations

from enum import StrEnum

from safeguarding.errors import InputError


class Rejection(StrEnum):
    """Machine-readable reasons. Values are stable: the service returns them to apps."""

    MALFORMED = "malformed"
    """A field is missing, of the wrong type or size, or unknown."""
    TAMPERED = "tampered_ciphertext"
    """The ciphertext or the header it is bound to was altered (the AEAD tag does not verify)."""
    REPLAY = "replay"
    """A message id that was already used (for another message, or delivered before)."""
    NONCE_REUSE = "nonce_reuse"
    """A nonce already used in this conversation: a replay under a new id, or a broken client."""
    UNKNOWN_KEY = "unknown_key"
    """The conversation key the message names is not known to this device."""
    UNKNOWN_DEVICE = "unknown_device"
    """The signing device is not registered in the directory."""
    BAD_SIGNATURE = "bad_signature"
    """An Ed25519 signature (device, message, key package, alert or report) does not verify."""
    BAD_COMMITMENT = "bad_commitment"
    """On receipt: the franking key does not open the commitment, so the message could not be reported."""
    SENDER_MISMATCH = "sender_mismatch"
    """The account or device named in the object is not the one that is authenticated."""
    NOT_A_MEMBER = "not_a_member"
    """The account is not a member of the conversation (for this key)."""
    NOT_A_RECIPIENT = "not_a_recipient"
    """The reporter, or this device, was not a recipient of the message."""
    FORGED_TAG = "forged_franking_tag"
    """The server tag does not verify: the message, its metadata or its commitment were not stamped."""
    ALTERED_PLAINTEXT = "altered_plaintext"
    """The revealed text (or franking key) does not open the commitment the sender made."""
    NEVER_SENT = "never_sent"
    """The server never accepted a message with this id."""
    WRONG_SENDER = "wrong_sender"
    """The report names another sender than the account that actually sent the message."""
    STALE = "stale"
    """A device alert or report with a time too far in the past or the future."""


class VerificationError(InputError):
    """An encrypted-mode object was refused. ``code`` says why; ``message_id`` names the message if any.

    A subclass of :class:`~safeguarding.errors.InputError` (4xx in the service): every cause is a
    client's or an attacker's doing, never a server fault.
    """

    def __init__(self, code: Rejection, reason: str, *, message_id: str | None = None) -> None:
        self.code = code
        self.message_id = message_id
        where = f"message {message_id!r}" if message_id else None
        super().__init__(f"{code.value}: {reason}", where=where)
