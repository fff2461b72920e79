"""Encrypted mode's tables: device directory, stamp ledger, delivery inbox, device alerts, verified reports.

What is stored here is what ``docs/e2ee.md`` says the server may hold: public device keys, the metadata
and franking commitment of every accepted envelope (:class:`~safeguarding.e2ee.StampRecord`), ciphertext
and sealed key packages only until the recipient device acknowledges them, and text-free device alerts.
The one exception is ``sg_e2ee_reports``: a verified report holds the messages its reporter chose to
reveal, read only through the moderators' route.

Every row carries its ``tenant`` (the engine's ``<tenant>/<id>`` namespacing is not needed: these tables
are the service's own). Stamp records are kept as their canonical JSON, so ``received_at`` comes back to
the microsecond whatever the database does with times (the franking tag covers it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError

from safeguarding.e2ee import DeviceIdentity, StampRecord, VerifiedDeviceAlert
from safeguarding.e2ee.codec import b64
from safeguarding.errors import ConflictError
from safeguarding.store import schema as t
from safeguarding.store.rows import RowStore
from safeguarding.store.schema import ID, TENANT, UTCDateTime, metadata

devices = Table(
    "sg_e2ee_devices",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("account", String(256), primary_key=True),
    Column("device", String(256), primary_key=True),
    Column("identity", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

stamps = Table(
    "sg_e2ee_stamps",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("message_id", String(256), primary_key=True),
    Column("conversation", String(256), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("sender", String(256), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("record", Text, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant", "conversation", "nonce", name="uq_sg_e2ee_stamps_nonce"),
)
Index("ix_sg_e2ee_stamps_conversation", stamps.c.tenant, stamps.c.conversation)

inbox = Table(
    "sg_e2ee_inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("account", String(256), nullable=False),
    Column("device", String(256), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref", String(ID), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant", "account", "device", "kind", "ref", name="uq_sg_e2ee_inbox_item"),
)
Index("ix_sg_e2ee_inbox_device", inbox.c.tenant, inbox.c.account, inbox.c.device, inbox.c.id)

device_alerts = Table(
    "sg_e2ee_device_alerts",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("alert_id", String(256), primary_key=True),
    Column("account", String(256), nullable=False),
    Column("device", String(256), nullable=False),
    Column("conversation", String(256), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)
Index("ix_sg_e2ee_device_alerts_device", device_alerts.c.tenant, device_alerts.c.device)

reports = Table(
    "sg_e2ee_reports",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("report_id", String(256), primary_key=True),
    Column("reporter", String(256), nullable=False),
    Column("conversation", String(256), nullable=False),
    Column("verified", Text, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)

QueueItem = tuple[str, str, str, str, dict[str, Any]]
"""``(account, device, kind, ref, payload)``."""

TABLES = (devices, stamps, inbox, device_alerts, reports)


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    kind: str
    ref: str
    payload: dict[str, Any]
    created_at: datetime


class TenantDirectory:
    """:class:`~safeguarding.e2ee.DeviceDirectory` over ``sg_e2ee_devices`` for one tenant."""

    def __init__(self, store: E2EEStore, tenant: str) -> None:
        self.store, self.tenant = store, tenant

    def device(self, account: str, device: str) -> DeviceIdentity | None:
        c = devices.c
        stmt = select(c.identity).where(c.tenant == self.tenant, c.account == account, c.device == device)
        with self.store.engine.connect() as conn:
            found = conn.execute(stmt).scalar_one_or_none()
        return None if found is None else DeviceIdentity.from_dict(json.loads(found))

    def devices(self, account: str) -> tuple[DeviceIdentity, ...]:
        c = devices.c
        stmt = select(c.identity).where(c.tenant == self.tenant, c.account == account).order_by(c.device)
        with self.store.engine.connect() as conn:
            return tuple(DeviceIdentity.from_dict(json.loads(v)) for v in conn.execute(stmt).scalars())


class TenantLedger:
    """:class:`~safeguarding.e2ee.StampLedger` over ``sg_e2ee_stamps`` for one tenant (``add`` is atomic:
    the primary key and the (conversation, nonce) constraint refuse a second writer)."""

    def __init__(self, store: E2EEStore, tenant: str) -> None:
        self.store, self.tenant = store, tenant

    def get(self, message_id: str) -> StampRecord | None:
        c = stamps.c
        stmt = select(c.record).where(c.tenant == self.tenant, c.message_id == message_id)
        with self.store.engine.connect() as conn:
            found = conn.execute(stmt).scalar_one_or_none()
        return None if found is None else StampRecord.from_dict(json.loads(found))

    def nonce_used(self, conversation: str, nonce: bytes) -> bool:
        c = stamps.c
        stmt = select(c.message_id).where(
            c.tenant == self.tenant, c.conversation == conversation, c.nonce == b64(nonce)
        )
        with self.store.engine.connect() as conn:
            return conn.execute(stmt).first() is not None

    def add(self, record: StampRecord) -> None:
        row = {
            "tenant": self.tenant,
            "message_id": record.message_id,
            "conversation": record.conversation,
            "nonce": b64(record.nonce),
            "sender": record.sender,
            "recipients": json.dumps(list(record.recipients)),
            "record": json.dumps(record.to_dict(), sort_keys=True),
            "received_at": record.received_at,
        }
        try:
            with self.store.engine.begin() as conn:
                conn.execute(stamps.insert(), [row])
        except IntegrityError:
            raise ConflictError(f"message {record.message_id!r} or its nonce was already stamped") from None


class E2EEStore(RowStore):
    def directory(self, tenant: str) -> TenantDirectory:
        return TenantDirectory(self, tenant)

    def ledger(self, tenant: str) -> TenantLedger:
        return TenantLedger(self, tenant)

    # -- devices -----------------------------------------------------------------------------------------
    def register(self, tenant: str, identity: DeviceIdentity, at: datetime) -> bool:
        """Store a verified identity; True if new. Other keys for a known device: :class:`ConflictError`."""
        known = self.directory(tenant).device(identity.account, identity.device)
        if known is not None:
            if known != identity:
                raise ConflictError(
                    f"device {identity.device!r} of {identity.account!r} is registered with other keys "
                    "(keys are never replaced: register a reinstalled app as a new device)"
                )
            return False
        row = {
            "tenant": tenant,
            "account": identity.account,
            "device": identity.device,
            "identity": json.dumps(identity.to_dict(), sort_keys=True),
            "created_at": at,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(devices.insert(), [row])
        except IntegrityError:
            return self.register(tenant, identity, at)  # a concurrent registration: compare with it
        return True

    # -- conversations as the metadata shows them -----------------------------------------------------
    def participants(self, tenant: str, conversation: str) -> set[str]:
        """Every sender and recipient of the conversation's accepted envelopes."""
        c = stamps.c
        stmt = select(c.sender, c.recipients).where(c.tenant == tenant, c.conversation == conversation)
        out: set[str] = set()
        with self.engine.connect() as conn:
            for sender, recipients in conn.execute(stmt):
                out.add(sender)
                out.update(json.loads(recipients))
        return out

    # -- the inbox ---------------------------------------------------------------------------------------
    def enqueue(
        self, tenant: str, items: list[tuple[str, str, str, str, dict[str, Any]]], at: datetime
    ) -> int:
        """Queue ``(account, device, kind, ref, payload)`` items; an item already queued is skipped."""
        rows = [
            {"tenant": tenant, "account": a, "device": d, "kind": k, "ref": r,
             "payload": json.dumps(p, sort_keys=True), "created_at": at}
            for a, d, k, r, p in items
        ]  # fmt: skip
        if not rows:
            return 0
        with self.engine.begin() as conn:
            conn.execute(self.sql._insert(inbox).on_conflict_do_nothing(), rows)
        return len(rows)

    def pending(self, tenant: str, account: str, device: str, kind: str, limit: int) -> list[InboxItem]:
        c = inbox.c
        stmt = (
            select(inbox)
            .where(c.tenant == tenant, c.account == account, c.device == device, c.kind == kind)
            .order_by(c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                InboxItem(int(r.id), r.kind, r.ref, json.loads(r.payload), r.created_at)
                for r in conn.execute(stmt)
            ]

    def acknowledge(self, tenant: str, account: str, device: str, kind: str, upto: int) -> int:
        """Delete the device's items of ``kind`` up to and including ``upto`` (the server keeps no copy)."""
        c = inbox.c
        stmt = delete(inbox).where(
            c.tenant == tenant, c.account == account, c.device == device, c.kind == kind, c.id <= upto
        )
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    # -- device alerts -----------------------------------------------------------------------------------
    def recent_alerts(self, tenant: str, account: str, device: str, since: datetime) -> int:
        c = device_alerts.c
        stmt = select(func.count()).where(
            c.tenant == tenant, c.account == account, c.device == device, c.received_at >= since
        )
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def has_alert(self, tenant: str, alert_id: str) -> bool:
        c = device_alerts.c
        with self.engine.connect() as conn:
            stmt = select(c.alert_id).where(c.tenant == tenant, c.alert_id == alert_id)
            return conn.execute(stmt).first() is not None

    def add_device_alert(self, tenant: str, alert: VerifiedDeviceAlert, at: datetime) -> bool:
        """Record the alert and index it (kind ``device_grooming``) in one transaction; False if known."""
        row = {
            "tenant": tenant,
            "alert_id": alert.alert_id,
            "account": alert.account,
            "device": alert.device,
            "conversation": alert.conversation,
            "received_at": at,
        }
        index = _alert_row(
            tenant,
            key=f"device-alert:{alert.alert_id}",
            kind="device_grooming",
            subject=None,
            conversation=alert.conversation,
            risk=alert.risk,
            stages=[s.value for s in alert.stages],
            reasons=[[r.code, r.message, r.weight] for r in alert.reasons],
            event_id=alert.alert_id,
            event_at=alert.created_at,
            created_at=at,
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(device_alerts.insert(), [row])
                conn.execute(self.sql._insert(t.alerts).on_conflict_do_nothing(), [index])
        except IntegrityError:
            return False
        return True

    # -- verified reports --------------------------------------------------------------------------------
    def report(self, tenant: str, report_id: str) -> dict[str, Any] | None:
        c = reports.c
        with self.engine.connect() as conn:
            found = conn.execute(
                select(c.verified).where(c.tenant == tenant, c.report_id == report_id)
            ).scalar_one_or_none()
        return None if found is None else dict(json.loads(found))

    def add_report(self, tenant: str, verified: dict[str, Any], alert: dict[str, Any], at: datetime) -> bool:
        """Store a verified report and index it (kind ``verified_report``); False if already stored."""
        row = {
            "tenant": tenant,
            "report_id": verified["report_id"],
            "reporter": verified["reporter"],
            "conversation": verified["conversation"],
            "verified": json.dumps(verified, sort_keys=True),
            "received_at": at,
        }
        index = _alert_row(tenant, created_at=at, **alert)
        try:
            with self.engine.begin() as conn:
                conn.execute(reports.insert(), [row])
                conn.execute(self.sql._insert(t.alerts).on_conflict_do_nothing(), [index])
        except IntegrityError:
            return False
        return True


def _alert_row(
    tenant: str,
    *,
    key: str,
    kind: str,
    subject: str | None,
    conversation: str | None,
    risk: float,
    stages: list[str],
    reasons: list[list[Any]],
    event_id: str,
    event_at: datetime,
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "key": key,
        "kind": kind,
        "subject": subject,
        "conversation": conversation,
        "risk": float(risk),
        "stages": ",".join(stages),
        "reasons": json.dumps(reasons),
        "event_id": event_id,
        "event_at": event_at,
        "created_at": created_at,
        "status": "open",
    }
