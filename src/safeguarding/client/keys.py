"""A device's secret keys and the symmetric primitives the client uses (libsodium via PyNaCl).

* Identity: X25519 (``crypto_box``) to receive conversation keys, Ed25519 to sign.
* Conversation key: 256 random bits per conversation *epoch*, sealed to every member device with
  ``crypto_box`` and signed (:class:`~safeguarding.e2ee.KeyPackage`). A new epoch (new key) is opened
  whenever membership changes; removed members never get it.
* Messages: XChaCha20-Poly1305 (IETF) under the conversation key, a random 192-bit nonce per message,
  the envelope header as associated data, the plaintext padded to a multiple of :data:`PAD_BLOCK` bytes
  so the size the server sees says little about the text's length.
"""

from __future__ import annotations

import hashlib
import os

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError
from nacl.public import Box, PrivateKey, PublicKey
from nacl.signing import SigningKey

from safeguarding.e2ee.identity import DeviceIdentity
from safeguarding.e2ee.reasons import Rejection, VerificationError

CONVERSATION_KEY_BYTES = 32
PAD_BLOCK = 64
_PAD_MARK = b"\x80"


def key_id_of(key: bytes) -> str:
    """A public name for a conversation key: 64 bits of a keyed-personalised BLAKE2b of it."""
    return hashlib.blake2b(key, digest_size=8, person=b"sg-conv-key-v1").hexdigest()


def new_conversation_key() -> bytes:
    return os.urandom(CONVERSATION_KEY_BYTES)


class DeviceKeys:
    """A device's two secret keys. Store :meth:`export_secret` in the platform keystore; never upload it."""

    def __init__(self, account: str, device: str, box_secret: PrivateKey, sign_secret: SigningKey) -> None:
        self.account = account
        self.device = device
        self._box = box_secret
        self._sign = sign_secret
        box_key = bytes(box_secret.public_key)
        sign_key = bytes(sign_secret.verify_key)
        unsigned = DeviceIdentity(account, device, box_key, sign_key, b"\0" * 64)
        signature = self._sign.sign(unsigned.signed_bytes()).signature
        self.identity = DeviceIdentity(account, device, box_key, sign_key, signature)
        """The public half, self-signed: what the server's directory stores and serves."""

    @classmethod
    def generate(cls, account: str, device: str) -> DeviceKeys:
        return cls(account, device, PrivateKey.generate(), SigningKey.generate())

    @classmethod
    def from_secret(cls, account: str, device: str, secret: bytes) -> DeviceKeys:
        """Rebuild from :meth:`export_secret` (64 bytes: X25519 secret, then Ed25519 seed)."""
        if len(secret) != 64:
            raise ValueError("a device secret has 64 bytes")
        return cls(account, device, PrivateKey(secret[:32]), SigningKey(secret[32:]))

    def export_secret(self) -> bytes:
        return bytes(self._box) + bytes(self._sign)

    def sign(self, data: bytes) -> bytes:
        return self._sign.sign(data).signature

    def seal_key(self, key: bytes, to: DeviceIdentity) -> bytes:
        """``crypto_box`` a conversation key from this device to ``to`` (nonce included)."""
        return bytes(Box(self._box, PublicKey(to.box_key)).encrypt(key))

    def open_key(self, sealed: bytes, sender: DeviceIdentity) -> bytes:
        try:
            key = Box(self._box, PublicKey(sender.box_key)).decrypt(sealed)
        except CryptoError:
            raise VerificationError(
                Rejection.TAMPERED, "the sealed conversation key does not open with this device's key"
            ) from None
        if len(key) != CONVERSATION_KEY_BYTES:
            raise VerificationError(Rejection.MALFORMED, "a sealed conversation key has the wrong size")
        return key

    def __repr__(self) -> str:
        return f"DeviceKeys(account={self.account!r}, device={self.device!r})"


def pad(data: bytes) -> bytes:
    """ISO/IEC 7816-4 padding (``0x80`` then zeros) up to a multiple of :data:`PAD_BLOCK`."""
    padded = data + _PAD_MARK
    return padded + b"\0" * (-len(padded) % PAD_BLOCK)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\0")
    if not stripped.endswith(_PAD_MARK):
        raise VerificationError(Rejection.MALFORMED, "bad padding in a decrypted message")
    return stripped[:-1]


def encrypt(key: bytes, nonce: bytes, header: bytes, plaintext: bytes) -> bytes:
    return crypto_aead_xchacha20poly1305_ietf_encrypt(pad(plaintext), header, nonce, key)


def decrypt(key: bytes, nonce: bytes, header: bytes, ciphertext: bytes, *, message_id: str) -> bytes:
    """Decrypt and authenticate ciphertext *and* header; ``tampered_ciphertext`` if either changed."""
    try:
        padded = crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, header, nonce, key)
    except CryptoError:
        raise VerificationError(
            Rejection.TAMPERED,
            "the ciphertext or its header was altered (authentication failed)",
            message_id=message_id,
        ) from None
    return unpad(padded)
