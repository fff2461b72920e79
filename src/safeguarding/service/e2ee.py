"""Encrypted mode in the service: what the ``/v1/e2ee`` routes do, without the HTTP.

The routes (:mod:`safeguarding.service.routes.e2ee`) and the encrypted demo both call
:class:`E2EEService`, so the demo runs exactly the checks and the ingest path an app's uploads meet.
Every method takes the raw JSON an app sent and returns JSON; every refusal is a
:class:`~safeguarding.e2ee.VerificationError` (422 with its code) or another error of the one tree.

Who is uploading: the platform's server calls these routes with its API key on behalf of the signed-in
user, naming the account and device it authenticated (``X-Safeguarding-Account`` and
``X-Safeguarding-Device``). Everything a device signs is checked against that account, so a platform
cannot make one user's device speak for another's keys; it can only relay.

What reaches the engine: for each accepted envelope the text-free ``message`` event of
:func:`~safeguarding.e2ee.message_event`, through :meth:`ServiceContext.ingest` like ``POST /v1/events``
(contact policy and metadata signals apply unchanged; the engine's decision gates delivery); for each
verified report one ``report`` event per accused, so the reports-received signals count it.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from safeguarding.e2ee import (
    DeviceAlert,
    DeviceIdentity,
    Envelope,
    KeyPackage,
    Rejection,
    Report,
    ServerKey,
    ServerKeyRing,
    VerificationError,
    VerifiedReport,
    accept_envelope,
    message_event,
    verify_device_alert,
    verify_device_identity,
    verify_report,
)
from safeguarding.e2ee.codec import utc_iso
from safeguarding.e2ee.identity import require_device
from safeguarding.engine import Outcome, Rejected
from safeguarding.errors import ConfigError, InputError, NotFoundError, RateLimited
from safeguarding.events.types import ReportEvent
from safeguarding.service.context import ServiceContext
from safeguarding.settings import Settings
from safeguarding.store.e2ee import E2EEStore

log = logging.getLogger(__name__)

DEVICE_ALERTS_PER_HOUR = 10
"""A device may raise this many alerts an hour: alerts are signed, not truthful by construction."""
MAX_PENDING = 500
KIND_ENVELOPE = "envelope"
KIND_KEY_PACKAGE = "key_package"


class DeviceAlertsRateLimited(RateLimited):
    """429: this device raised too many alerts in the last hour."""

    def __init__(self) -> None:
        super().__init__(3600.0 / DEVICE_ALERTS_PER_HOUR, DEVICE_ALERTS_PER_HOUR / 3600.0)
        self.args = (f"a device may raise at most {DEVICE_ALERTS_PER_HOUR} alerts an hour",)


def keyring_from_settings(settings: Settings) -> ServerKeyRing | None:
    """The root franking key ring (None: encrypted mode is off). Bad keys stop start-up."""
    if settings.franking_key is None:
        return None
    current = ServerKey.from_b64(settings.franking_key_id, settings.franking_key.get_secret_value())
    previous: list[ServerKey] = []
    if settings.franking_previous_keys is not None:
        for part in settings.franking_previous_keys.get_secret_value().split(","):
            key_id, sep, text = part.strip().partition("=")
            if not sep:
                raise ConfigError("SAFEGUARDING_FRANKING_PREVIOUS_KEYS must be 'id=base64,id=base64'")
            previous.append(ServerKey.from_b64(key_id, text))
    return ServerKeyRing(current, previous)


def new_franking_key() -> str:
    """A fresh key as ``SAFEGUARDING_FRANKING_KEY`` expects it (the demo's, or for an operator)."""
    import os

    return base64.b64encode(os.urandom(32)).decode("ascii")


@dataclass
class E2EEService:
    ctx: ServiceContext
    root: ServerKeyRing | None
    store: E2EEStore = field(init=False)
    _rings: dict[str, ServerKeyRing] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.store = E2EEStore(self.ctx.sql)

    @classmethod
    def from_context(cls, ctx: ServiceContext) -> E2EEService:
        return cls(ctx, keyring_from_settings(ctx.settings))

    def ring(self, tenant: str) -> ServerKeyRing:
        """This platform's franking keys, derived from the configured one (tags never cross platforms)."""
        if self.root is None:
            raise NotFoundError(
                "encrypted mode is off on this service (its operator sets SAFEGUARDING_FRANKING_KEY)"
            )
        ring = self._rings.get(tenant)
        if ring is None:
            ring = self._rings[tenant] = self.root.derive(tenant)
        return ring

    def _now(self, now: datetime | None) -> datetime:
        return now if now is not None else self.ctx.clock.now()

    def _device(self, tenant: str, account: str, device: str) -> DeviceIdentity:
        return require_device(self.store.directory(tenant), account, device)

    # -- devices -------------------------------------------------------------------------------------
    def register_device(
        self, tenant: str, account: str, raw: object, *, now: datetime | None = None
    ) -> dict[str, Any]:
        self.ring(tenant)
        identity = verify_device_identity(DeviceIdentity.from_dict(raw), account=account)
        created = self.store.register(tenant, identity, self._now(now))
        return {
            "account": identity.account,
            "device": identity.device,
            "fingerprint": identity.fingerprint,
            "created": created,
        }

    def devices(self, tenant: str, account: str) -> dict[str, Any]:
        self.ring(tenant)
        found = self.store.directory(tenant).devices(account)
        return {
            "account": account,
            "devices": [{"identity": d.to_dict(), "fingerprint": d.fingerprint} for d in found],
        }

    # -- key packages --------------------------------------------------------------------------------
    def post_key_packages(
        self, tenant: str, account: str, device: str, raw: object, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """Verify each package (signed by the uploading device, for registered devices) and queue it.

        Contact policy is not applied here: a sealed key reveals nothing, and every message under it is
        gated by the policy on its own (a follow later must not leave the key unreadable).
        """
        self.ring(tenant)
        items = raw.get("packages") if isinstance(raw, dict) and "packages" in raw else [raw]
        if not isinstance(items, list) or not items or len(items) > 1000:
            raise InputError('send one key package, or {"packages": [...]} with 1-1000 of them')
        directory = self.store.directory(tenant)
        self._device(tenant, account, device)
        packages = [KeyPackage.from_dict(p) for p in items]
        queue = []
        for p in packages:
            if p.sender != account or p.sender_device != device:
                raise VerificationError(
                    Rejection.SENDER_MISMATCH,
                    f"key package from {p.sender!r}/{p.sender_device!r} uploaded by {account!r}/{device!r}",
                )
            p.verify(directory)
            ref = f"{p.conversation}:{p.key_id}"
            queue.append((p.recipient, p.recipient_device, KIND_KEY_PACKAGE, ref, p.to_dict()))
        self.store.enqueue(tenant, queue, self._now(now))
        return {"queued": len(queue)}

    # -- envelopes -----------------------------------------------------------------------------------
    def post_envelope(
        self, tenant: str, account: str, device: str, raw: object, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """Accept and stamp, feed the text-free event to the engine, queue for recipients it allows."""
        ring = self.ring(tenant)
        envelope = Envelope.from_dict(raw)
        self._device(tenant, account, device)
        accepted = accept_envelope(
            envelope,
            sender=account,
            sender_device=device,
            keyring=ring,
            ledger=self.store.ledger(tenant),
            received_at=self._now(now),
        )
        stamped = accepted.stamped
        # a duplicate upload is fed again: the engine is idempotent on the event id, and answers
        # 'duplicate' when it had processed it, so a crash between stamping and processing heals on retry
        [result] = self.ctx.ingest(tenant, [message_event(stamped)])
        if isinstance(result, Rejected):
            raise InputError(f"the engine refused the message's metadata: {result.reason}")
        allowed = _delivered(result, envelope.recipients)
        if not result.duplicate:
            queue = [
                (r, d.device, KIND_ENVELOPE, envelope.message_id, stamped.to_dict())
                for r in allowed
                for d in self.store.directory(tenant).devices(r)
            ]
            self.store.enqueue(tenant, queue, stamped.received_at)
        log.debug("e2ee envelope accepted (%d bytes, %d recipients)", envelope.size, len(envelope.recipients))
        return {
            "message_id": envelope.message_id,
            "status": "duplicate" if accepted.duplicate else "accepted",
            "received_at": utc_iso(stamped.received_at),
            "server_key_id": stamped.server_key_id,
            "server_tag": stamped.to_dict()["server_tag"],
            "decision": result.decision.verdict.value,
            "rule": result.decision.rule,
            "delivered_to": list(allowed),
            "refused": [r for r in envelope.recipients if r not in allowed],
        }

    # -- the inbox -----------------------------------------------------------------------------------
    def pending(
        self, tenant: str, account: str, device: str, kind: str, limit: int = MAX_PENDING
    ) -> dict[str, Any]:
        self.ring(tenant)
        self._device(tenant, account, device)
        items = self.store.pending(tenant, account, device, kind, min(max(limit, 1), MAX_PENDING))
        key = "envelopes" if kind == KIND_ENVELOPE else "packages"
        name = "stamped" if kind == KIND_ENVELOPE else "package"
        return {key: [{"seq": i.id, name: i.payload} for i in items]}

    def acknowledge(self, tenant: str, account: str, device: str, upto: int, kind: str) -> dict[str, Any]:
        self.ring(tenant)
        self._device(tenant, account, device)
        return {"deleted": self.store.acknowledge(tenant, account, device, kind, upto)}

    # -- device alerts -------------------------------------------------------------------------------
    def post_device_alert(
        self, tenant: str, account: str, device: str, raw: object, *, now: datetime | None = None
    ) -> dict[str, Any]:
        self.ring(tenant)
        at = self._now(now)
        alert = DeviceAlert.from_dict(raw)
        if self.store.has_alert(tenant, alert.alert_id):
            return {"alert_id": alert.alert_id, "status": "duplicate"}
        if alert.device != device:
            raise VerificationError(
                Rejection.SENDER_MISMATCH,
                f"alert signed by device {alert.device!r} but uploaded by {device!r}",
            )
        verified = verify_device_alert(
            alert,
            directory=self.store.directory(tenant),
            account=account,
            members=self.store.participants(tenant, alert.conversation),
            now=at,
        )
        recent = self.store.recent_alerts(tenant, account, device, at - timedelta(hours=1))
        if recent >= DEVICE_ALERTS_PER_HOUR:
            raise DeviceAlertsRateLimited()
        stored = self.store.add_device_alert(tenant, verified, at)
        return {"alert_id": alert.alert_id, "status": "accepted" if stored else "duplicate"}

    # -- reports -------------------------------------------------------------------------------------
    def post_report(
        self, tenant: str, account: str, device: str, raw: object, *, now: datetime | None = None
    ) -> dict[str, Any]:
        ring = self.ring(tenant)
        at = self._now(now)
        report = Report.from_dict(raw)
        if self.store.report(tenant, report.report_id) is not None:
            return {"report_id": report.report_id, "status": "duplicate"}
        if report.reporter_device != device:
            raise VerificationError(
                Rejection.SENDER_MISMATCH,
                f"report signed by device {report.reporter_device!r} but uploaded by {device!r}",
            )
        verified = verify_report(
            report,
            keyring=ring,
            directory=self.store.directory(tenant),
            ledger=self.store.ledger(tenant),
            reporter=account,
            now=at,
        )
        stored = self.store.add_report(tenant, report_json(verified), _report_alert(verified), at)
        if stored:
            events = [
                ReportEvent(
                    id=f"e2ee-report:{verified.report_id}:{i}",
                    at=at,
                    actor=verified.reporter,
                    target=accused,
                    reason=verified.reason,
                    conversation=verified.conversation,
                )
                for i, accused in enumerate(verified.accused)
                if accused != verified.reporter
            ]
            if events:
                self.ctx.ingest(tenant, list(events))
        return {
            "report_id": verified.report_id,
            "status": "accepted" if stored else "duplicate",
            "messages": len(verified.messages),
            "accused": list(verified.accused),
        }

    def report(self, tenant: str, report_id: str) -> dict[str, Any]:
        found = self.store.report(tenant, report_id)
        if found is None:
            raise NotFoundError(f"no verified report {report_id!r}")
        return found


def _delivered(result: Outcome, recipients: Sequence[str]) -> tuple[str, ...]:
    """The recipients the engine's decision lets the message reach (as for plaintext messages)."""
    if result.recipients:
        ok = {r.recipient for r in result.recipients if r.verdict.delivers}
        return tuple(r for r in recipients if r in ok)
    return tuple(recipients) if result.decision.verdict.delivers else ()


def report_json(v: VerifiedReport) -> dict[str, Any]:
    """The stored form of a verified report: the only record on the server holding message text."""
    return {
        "report_id": v.report_id,
        "reporter": v.reporter,
        "reporter_device": v.reporter_device,
        "conversation": v.conversation,
        "reason": v.reason,
        "created_at": utc_iso(v.created_at),
        "accused": list(v.accused),
        "messages": [
            {
                "message_id": m.message_id,
                "sender": m.sender,
                "sender_device": m.sender_device,
                "recipients": list(m.recipients),
                "received_at": utc_iso(m.received_at),
                "text": m.text,
            }
            for m in v.messages
        ],
    }


def _report_alert(v: VerifiedReport) -> dict[str, Any]:
    """The alert index row for a report: who and how many, never the text."""
    accused = ", ".join(repr(a) for a in v.accused)
    n = len(v.messages)
    return {
        "key": f"verified-report:{v.report_id}",
        "kind": "verified_report",
        "subject": v.accused[0] if len(v.accused) == 1 else None,
        "conversation": v.conversation,
        "risk": 1.0,
        "stages": [],
        "reasons": [
            [
                "verified_report",
                f"{v.reporter!r} reported {n} message{'s' if n != 1 else ''} ({v.reason}), each verified "
                f"as exactly what {accused} sent (message franking); moderators read them at "
                f"GET /v1/e2ee/reports/{v.report_id}",
                1.0,
            ]
        ],
        "event_id": v.report_id,
        "event_at": v.created_at,
    }
