"""Device identities (public keys) and the directory that serves them.

Each device has two key pairs: X25519 to receive conversation keys (``crypto_box``) and Ed25519 to sign.
The public half is a :class:`DeviceIdentity`, self-signed so that the encryption key is bound to the
signing key by its owner. The server is the directory (it hands out identities); a malicious directory
could substitute keys, which is why :attr:`DeviceIdentity.fingerprint` exists: two people can compare it
out of band (a "safety number"). That comparison is the app's job; see ``docs/e2ee.md``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from safeguarding.e2ee.codec import ID, WireObject, blob, check_bytes, check_id, lp
from safeguarding.e2ee.reasons import Rejection, VerificationError
from safeguarding.errors import ConflictError

KEY_BYTES = 32
SIGNATURE_BYTES = 64
DEVICE_DOMAIN = "safeguarding/device/v1"


@dataclass(frozen=True, slots=True)
class DeviceIdentity(WireObject):
    """A device's public keys, as registered with the server and handed to other devices."""

    wire_name: ClassVar[str] = "device identity"

    account: str = field(metadata=ID)
    device: str = field(metadata=ID)
    box_key: bytes = field(metadata=blob(size=KEY_BYTES))
    """X25519 public key (conversation keys are sealed to it)."""
    sign_key: bytes = field(metadata=blob(size=KEY_BYTES))
    """Ed25519 public key (messages, key packages, alerts and reports are signed with its secret half)."""
    signature: bytes = field(metadata=blob(size=SIGNATURE_BYTES))
    """Ed25519 signature by ``sign_key`` over :meth:`signed_bytes`."""

    def __post_init__(self) -> None:
        check_id("device identity", "account", self.account)
        check_id("device identity", "device", self.device)
        check_bytes("device identity", "box_key", self.box_key, size=KEY_BYTES)
        check_bytes("device identity", "sign_key", self.sign_key, size=KEY_BYTES)
        check_bytes("device identity", "signature", self.signature, size=SIGNATURE_BYTES)

    def signed_bytes(self) -> bytes:
        return lp(DEVICE_DOMAIN, self.account, self.device, self.box_key, self.sign_key)

    @property
    def fingerprint(self) -> str:
        """A short, human-comparable digest of both public keys (eight groups of four hex digits)."""
        digest = hashlib.blake2b(self.sign_key + self.box_key, digest_size=16).hexdigest()
        return " ".join(digest[i : i + 4] for i in range(0, 32, 4))

    def verify(self) -> None:
        """Raise ``BAD_SIGNATURE`` unless the identity is signed by its own signing key."""
        verify_signature(self, self.signed_bytes(), self.signature, "device identity")


def verify_signature(
    identity: DeviceIdentity, message: bytes, signature: bytes, what: str, *, message_id: str | None = None
) -> None:
    """Check an Ed25519 signature by ``identity``; ``BAD_SIGNATURE`` naming ``what`` otherwise."""
    try:
        VerifyKey(identity.sign_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        raise VerificationError(
            Rejection.BAD_SIGNATURE,
            f"the {what} signature does not verify with device {identity.device!r} of {identity.account!r}",
            message_id=message_id,
        ) from None


def verify_device_identity(identity: DeviceIdentity, *, account: str | None = None) -> DeviceIdentity:
    """What the server checks before registering a device: self-signed, and for the signed-in account."""
    if account is not None and identity.account != account:
        raise VerificationError(
            Rejection.SENDER_MISMATCH,
            f"a device for {identity.account!r} cannot be registered by {account!r}",
        )
    identity.verify()
    return identity


class DeviceDirectory(Protocol):
    """Where public device identities are looked up (the service's device table implements it)."""

    def device(self, account: str, device: str) -> DeviceIdentity | None: ...

    def devices(self, account: str) -> tuple[DeviceIdentity, ...]: ...


def require_device(
    directory: DeviceDirectory, account: str, device: str, *, message_id: str | None = None
) -> DeviceIdentity:
    found = directory.device(account, device)
    if found is None:
        raise VerificationError(
            Rejection.UNKNOWN_DEVICE,
            f"device {device!r} of {account!r} is not registered",
            message_id=message_id,
        )
    return found


class MemoryDirectory:
    """A directory in a dictionary (tests, the demo). Refuses a changed key for a known device.

    Why refuse: silently accepting new keys for an existing device is exactly the substitution attack
    a directory must not make easy; a reinstalled app registers as a new device instead.
    """

    def __init__(self) -> None:
        self._devices: dict[tuple[str, str], DeviceIdentity] = {}

    def register(self, identity: DeviceIdentity) -> DeviceIdentity:
        verify_device_identity(identity)
        key = (identity.account, identity.device)
        known = self._devices.get(key)
        if known is not None and known != identity:
            raise ConflictError(f"device {identity.device!r} of {identity.account!r} has other keys")
        self._devices[key] = identity
        return identity

    def device(self, account: str, device: str) -> DeviceIdentity | None:
        return self._devices.get((account, device))

    def devices(self, account: str) -> tuple[DeviceIdentity, ...]:
        return tuple(d for (a, _), d in sorted(self._devices.items()) if a == account)
