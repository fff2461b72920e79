"""End-to-end-encrypted mode, server side: pure checks the service calls (no SQL, no web).

* :func:`accept_envelope` — check an upload from the authenticated sender, stamp it with the server's
  franking tag, record it in the :class:`StampLedger` (refusing replays and nonce reuse);
  :func:`message_event` turns it into the engine's ``message`` event without text.
* :func:`verify_report` — a user's report: the revealed text is exactly what the accused sent.
* :func:`verify_device_alert` — a device's text-free alert, signed by the device.
* :func:`verify_device_identity` — a device's public keys before registering them.

Every refusal is a :class:`VerificationError` (an ``InputError``) with a :class:`Rejection` code. The
scheme, its threat model and its limits are in ``docs/e2ee.md``; the device side is
:mod:`safeguarding.client`.
"""

from safeguarding.e2ee.alerts import DeviceAlert, DeviceAlertKind, VerifiedDeviceAlert, verify_device_alert
from safeguarding.e2ee.franking import (
    Accepted,
    MemoryStampLedger,
    ServerKey,
    ServerKeyRing,
    StampLedger,
    accept_envelope,
    commit,
    message_event,
    opens,
    server_tag,
)
from safeguarding.e2ee.identity import (
    DeviceDirectory,
    DeviceIdentity,
    MemoryDirectory,
    verify_device_identity,
)
from safeguarding.e2ee.reasons import Rejection, VerificationError
from safeguarding.e2ee.reports import (
    Report,
    RevealedMessage,
    VerifiedMessage,
    VerifiedReport,
    verify_report,
)
from safeguarding.e2ee.wire import Envelope, KeyPackage, StampedEnvelope, StampRecord

__all__ = [
    "Accepted",
    "DeviceAlert",
    "DeviceAlertKind",
    "DeviceDirectory",
    "DeviceIdentity",
    "Envelope",
    "KeyPackage",
    "MemoryDirectory",
    "MemoryStampLedger",
    "Rejection",
    "Report",
    "RevealedMessage",
    "ServerKey",
    "ServerKeyRing",
    "StampLedger",
    "StampRecord",
    "StampedEnvelope",
    "VerificationError",
    "VerifiedDeviceAlert",
    "VerifiedMessage",
    "VerifiedReport",
    "accept_envelope",
    "commit",
    "message_event",
    "opens",
    "server_tag",
    "verify_device_alert",
    "verify_device_identity",
    "verify_report",
]
