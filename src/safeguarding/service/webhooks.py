"""Webhooks for alerts and moderator actions: signed, retried with back-off, delivered at least once
(``docs/webhooks.md``).

The engine writes each alert to the outbox in the same transaction as the event that raised it; the
console writes each moderator action (:func:`enqueue_action`) in the transaction that records it. The
relay here (a thread in every worker) claims due items, POSTs them to the tenant's webhook URL and
records the result. A receiver may see an item more than once (a crash after sending, before
recording) and must deduplicate on ``Safeguarding-Id``, stable across retries: for an alert the event
id plus the alert's index (``e116:1``), for an action ``action-<id>`` (never ending in ``:<n>``, so the
two cannot collide).

Signature: ``Safeguarding-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`` with the
timestamp in ``Safeguarding-Timestamp`` (Unix seconds); :func:`verify_signature` is the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, insert

from safeguarding.engine.clock import Clock
from safeguarding.store import schema as t
from safeguarding.store.alerts import AlertStore, Attempt, RelayResult
from safeguarding.store.protocol import OutboxItem
from safeguarding.store.tenancy import TenancyStore, TenantRecord
from safeguarding.store.tenant import SEP, split_key

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "Safeguarding-Signature"
TIMESTAMP_HEADER = "Safeguarding-Timestamp"
ID_HEADER = "Safeguarding-Id"
ATTEMPT_HEADER = "Safeguarding-Attempt"
TOLERANCE_SECONDS = 300
ACTION = "action"
"""The outbox kind (and webhook ``type``) of a moderator action."""


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check: the signature matches and the timestamp is recent (no replays)."""
    if not timestamp or not signature:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    expected = sign(secret, ts, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in signature.split(","))


def webhook_body(tenant: str, key: str, item: OutboxItem) -> bytes:
    """The JSON body for one outbox item (deterministic: the same bytes on every retry)."""
    doc: dict[str, Any] = {
        "id": key,
        "type": item.kind,
        "tenant": tenant,
        "created_at": item.created_at.isoformat(),
        "data": json.loads(item.payload),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def action_key(action_id: int) -> str:
    """The webhook id of moderator action ``action_id`` (an alert's id always ends in ``:<n>``)."""
    return f"action-{action_id}"


def enqueue_action(
    conn: Connection,
    tenant: str,
    *,
    action_id: int,
    action: str,
    subject: str | None,
    conversation: str | None,
    alert: str | None,
    moderator: str | None,
    reason_code: str,
    at: datetime,
    about_action: int | None = None,
    overturns: int | None = None,
) -> None:
    """Put a moderator action in the outbox, on ``conn`` (the action's own transaction), for the
    platform to carry out. ``moderator`` is the user id, never an email; the free-text reason stays in
    the evidence log (it may quote messages), the platform gets the ``reason_code``."""
    payload = {
        "action_id": action_id,
        "kind": action,
        "subject": subject,
        "conversation": conversation,
        "alert": alert,
        "moderator": moderator,
        "reason_code": reason_code,
        "at": at.isoformat(),
        "about_action": about_action,
        "overturns": overturns,
    }
    body = json.dumps(payload, sort_keys=True)
    key = f"{tenant}{SEP}{action_key(action_id)}"
    conn.execute(insert(t.outbox).values(key=key, kind=ACTION, payload=body, created_at=at, attempts=0))


class WebhookRelay:
    """Delivers due outbox items; ``run_once`` is one pass (tests call it), ``start`` loops in a thread."""

    def __init__(
        self,
        alerts: AlertStore,
        tenancy: TenancyStore,
        clock: Clock,
        *,
        timeout: float,
        max_attempts: int,
        backoff: float,
        backoff_max: float,
        interval: float,
        transport: httpx.BaseTransport | None = None,
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        self.alerts = alerts
        self.tenancy = tenancy
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.interval = interval
        self.on_result = on_result or (lambda result: None)
        self.client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def retry_delay(self, attempts: int) -> float:
        """Exponential back-off with jitter: 50-100% of ``backoff * 2**(attempts-1)``, capped."""
        base = min(self.backoff_max, self.backoff * (2 ** max(0, attempts - 1)))
        return float(base * random.uniform(0.5, 1.0))

    def run_once(self, limit: int = 50) -> RelayResult:
        tenants: dict[str, TenantRecord | None] = {}
        now = self.clock.now()

        def deliver(item: OutboxItem) -> Attempt:
            tenant, key = split_key(item.key)
            if tenant not in tenants:
                tenants[tenant] = self.tenancy.tenant(tenant)
            return self._deliver(tenants[tenant], tenant, key, item, now)

        return self.alerts.relay_due(deliver, now, limit)

    def _deliver(
        self, rec: TenantRecord | None, tenant: str, key: str, item: OutboxItem, now: datetime
    ) -> Attempt:
        if rec is None or not rec.webhook_url or not rec.webhook_secret:
            self.on_result("skipped")
            return Attempt(True, error=f"no webhook configured when the {item.kind} was recorded")
        body = webhook_body(tenant, key, item)
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: key,
            "Idempotency-Key": key,
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(rec.webhook_secret, ts, body),
            ATTEMPT_HEADER: str(item.attempts + 1),
            "User-Agent": "safeguarding-webhooks/1",
        }
        error: str
        try:
            resp = self.client.post(rec.webhook_url, content=body, headers=headers)
            if 200 <= resp.status_code < 300:
                self.on_result("delivered")
                return Attempt(True)
            error = f"receiver answered {resp.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = item.attempts + 1
        if attempts >= self.max_attempts:
            log.warning("webhook for tenant %s gave up after %d attempts: %s", tenant, attempts, error)
            self.on_result("given_up")
            return Attempt(False, None, error)
        self.on_result("failed")
        return Attempt(False, now + timedelta(seconds=self.retry_delay(attempts)), error)

    # -- the background loop ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="safeguarding-webhooks", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                while self.run_once().delivered >= 50:  # drain a backlog without waiting
                    if self._stop.is_set():
                        break
            except Exception:  # keep relaying whatever one pass hit (the database may be restarting)
                log.exception("webhook relay pass failed; retrying in %.1fs", self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.client.close()
