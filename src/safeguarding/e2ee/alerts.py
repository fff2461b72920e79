"""Device alerts: what a device tells the server when its own detector flags a conversation.

Only the conversation id, the kind, a coarse risk (two decimals) and the grooming stages leave the device,
signed by its key; never text, never which message (an index or id would let the server single out the
message for a later demand). The schema is closed: an unknown field is refused, so a modified app cannot
attach text to an alert and have the server store it.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from safeguarding.e2ee.codec import (
    ID,
    NUMBER,
    TIME,
    WireObject,
    blob,
    check_bytes,
    check_id,
    check_time,
    idents,
    lp,
    malformed,
    utc_iso,
)
from safeguarding.e2ee.identity import SIGNATURE_BYTES, DeviceDirectory, require_device, verify_signature
from safeguarding.e2ee.reasons import Rejection, VerificationError
from safeguarding.types import STAGES, Reason, Stage

ALERT_DOMAIN = "safeguarding/device-alert/v1"
RISK_DECIMALS = 2


class DeviceAlertKind(StrEnum):
    GROOMING = "grooming"
    """The on-device streaming grooming detector raised its alert for the conversation."""


@dataclass(frozen=True, slots=True)
class DeviceAlert(WireObject):
    """A signed, text-free alert from ``account``'s ``device`` about ``conversation``."""

    wire_name: ClassVar[str] = "device alert"

    alert_id: str = field(metadata=ID)
    account: str = field(metadata=ID)
    device: str = field(metadata=ID)
    conversation: str = field(metadata=ID)
    kind: DeviceAlertKind = field(metadata=ID)  # checked in __post_init__
    risk: float = field(metadata=NUMBER)
    stages: tuple[Stage, ...] = field(metadata=idents(max_items=len(STAGES)))
    model_version: str = field(metadata=ID)
    created_at: datetime = field(metadata=TIME)
    signature: bytes = field(metadata=blob(size=SIGNATURE_BYTES))

    def __post_init__(self) -> None:
        k = "device alert"
        for name in ("alert_id", "account", "device", "conversation", "model_version"):
            check_id(k, name, getattr(self, name))
        try:
            object.__setattr__(self, "kind", DeviceAlertKind(self.kind))
            stages = tuple(Stage(s) for s in self.stages)
        except ValueError as exc:
            raise malformed(k, str(exc)) from None
        if len(set(stages)) != len(stages):
            raise malformed(k, "stages repeat")
        object.__setattr__(self, "stages", tuple(s for s in STAGES if s in stages))
        if not isinstance(self.risk, float | int) or not math.isfinite(self.risk) or not 0 <= self.risk <= 1:
            raise malformed(k, "risk must be a number in [0, 1]")
        if round(self.risk, RISK_DECIMALS) != self.risk:
            raise malformed(k, f"risk must be rounded to {RISK_DECIMALS} decimals")
        object.__setattr__(self, "created_at", check_time(k, "created_at", self.created_at))
        check_bytes(k, "signature", self.signature, size=SIGNATURE_BYTES)

    def signed_bytes(self) -> bytes:
        return alert_signed_bytes(
            alert_id=self.alert_id,
            account=self.account,
            device=self.device,
            conversation=self.conversation,
            kind=self.kind,
            risk=self.risk,
            stages=self.stages,
            model_version=self.model_version,
            created_at=self.created_at,
        )


def alert_signed_bytes(
    *,
    alert_id: str,
    account: str,
    device: str,
    conversation: str,
    kind: DeviceAlertKind,
    risk: float,
    stages: tuple[Stage, ...],
    model_version: str,
    created_at: datetime,
) -> bytes:
    return lp(
        ALERT_DOMAIN,
        alert_id,
        account,
        device,
        conversation,
        kind.value,
        f"{risk:.{RISK_DECIMALS}f}",
        ",".join(s.value for s in stages),
        model_version,
        utc_iso(created_at),
    )


@dataclass(frozen=True, slots=True)
class VerifiedDeviceAlert:
    """A device alert whose signature, sender and time were checked; what the moderator queue shows."""

    alert_id: str
    account: str
    device: str
    conversation: str
    kind: DeviceAlertKind
    risk: float
    stages: tuple[Stage, ...]
    model_version: str
    created_at: datetime

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Sentences for the queue: who raised it, on what evidence, and that no text was shared."""
        head = Reason(
            "device_alert",
            f"the on-device detector (model {self.model_version}) on a device of participant "
            f"{self.account!r} flagged this conversation with risk {self.risk:.2f}; "
            "no message text was shared (end-to-end encrypted)",
            self.risk,
        )
        return (
            head,
            *(Reason(f"stage:{s.value}", f"the device saw the stage '{s.value}'") for s in self.stages),
        )


def verify_device_alert(
    alert: DeviceAlert,
    *,
    directory: DeviceDirectory,
    account: str | None = None,
    members: Collection[str] | None = None,
    now: datetime | None = None,
    max_age: timedelta = timedelta(days=1),
    max_skew: timedelta = timedelta(minutes=5),
) -> VerifiedDeviceAlert:
    """Check a device alert before it enters the moderator queue.

    ``account``: the authenticated uploader (must be the signer); ``members``: the conversation's
    participants as the server knows them from message metadata (the signer must be one: an outsider
    cannot raise alerts about other people's chats); ``now``: ``created_at`` within ``max_age`` in the
    past and ``max_skew`` in the future. Deduplicating ``alert_id`` and rate limits are the service's.
    """
    if account is not None and alert.account != account:
        raise VerificationError(
            Rejection.SENDER_MISMATCH, f"alert signed for {alert.account!r} but uploaded by {account!r}"
        )
    device = require_device(directory, alert.account, alert.device)
    verify_signature(device, alert.signed_bytes(), alert.signature, "device alert")
    if members is not None and alert.account not in members:
        raise VerificationError(
            Rejection.NOT_A_MEMBER, f"{alert.account!r} is not a participant of {alert.conversation!r}"
        )
    if now is not None and not (now - max_age <= alert.created_at <= now + max_skew):
        raise VerificationError(Rejection.STALE, f"alert time {utc_iso(alert.created_at)} is out of range")
    return VerifiedDeviceAlert(
        alert_id=alert.alert_id,
        account=alert.account,
        device=alert.device,
        conversation=alert.conversation,
        kind=alert.kind,
        risk=alert.risk,
        stages=alert.stages,
        model_version=alert.model_version,
        created_at=alert.created_at,
    )
