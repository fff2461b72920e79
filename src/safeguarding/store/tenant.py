"""One tenant's view of the shared engine tables: every id is stored as ``<tenant>/<id>``.

Why namespacing rather than a ``tenant`` column in every engine table: the engine and its
:class:`~safeguarding.store.protocol.Store` contract stay exactly as they are (the pure core knows
nothing of platforms), two platforms may use the same account, conversation and event ids without ever
meeting, and every engine index keeps working unchanged. The service builds one
:class:`~safeguarding.engine.Engine` per tenant over a :class:`TenantStore`; what the engine reads and
writes never leaves that tenant's prefix, so isolation holds by construction (and is tested).

Tenant ids are ``[a-z0-9-]`` (see :data:`TENANT_ID`), so the ``/`` after them is unambiguous whatever a
platform's own ids contain.

:meth:`TenantStore.commit` also indexes the batch's alerts (``sg_alerts``) in the same transaction, so
an alert is listed by ``GET /v1/alerts`` exactly when the event that raised it is stored, and (through
:func:`~safeguarding.store.moderation.preserve_batch`) keeps the batch's message text and appends its
alerts, decisions and flagged conversations' messages to the tenant's evidence chain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from safeguarding.events.types import MessageEvent
from safeguarding.store import schema as t
from safeguarding.store.protocol import (
    AccountRecord,
    ChangeSet,
    ConversationRecord,
    EdgeKey,
    OutboxItem,
    ProcessedEvent,
)
from safeguarding.store.sql import SqlStore

TENANT_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
"""A tenant id: 1-32 lower-case letters, digits and inner hyphens (it prefixes every stored id)."""
SEP = "/"


def tenant_prefix(tenant: str) -> str:
    if not TENANT_ID.match(tenant):
        raise ValueError(f"invalid tenant id {tenant!r} (1-32 of a-z, 0-9 and inner '-')")
    return tenant + SEP


def split_key(key: str) -> tuple[str, str]:
    """``("demo", "e5:0")`` from a stored outbox key ``"demo/e5:0"``."""
    tenant, _, rest = key.partition(SEP)
    return tenant, rest


class TenantStore:
    """The :class:`~safeguarding.store.protocol.Store` protocol for one tenant over a shared SQL store.

    ``close`` does nothing: the shared store belongs to whoever opened it.
    """

    def __init__(self, inner: SqlStore, tenant: str) -> None:
        self.inner = inner
        self.tenant = tenant
        self.prefix = tenant_prefix(tenant)
        self._n = len(self.prefix)
        self.staged: dict[str, MessageEvent] = {}
        """The message events of batches being processed, by id (the engine keeps no text)."""

    def stage(self, items: Collection[object]) -> list[str]:
        """Hand over a batch's message events before processing; returns the ids to :meth:`unstage`."""
        ids = []
        for item in items:
            if isinstance(item, MessageEvent):
                self.staged[item.id] = item
                ids.append(item.id)
        return ids

    def unstage(self, ids: Collection[str]) -> None:
        for i in ids:
            self.staged.pop(i, None)

    # -- id mapping ----------------------------------------------------------------------------------
    def _in(self, value: str) -> str:
        return self.prefix + value

    def _out(self, value: str) -> str:
        return value[self._n :]

    def _out_opt(self, value: str | None) -> str | None:
        return None if value is None else value[self._n :]

    # -- reads ---------------------------------------------------------------------------------------
    def processed(self, ids: Collection[str]) -> dict[str, ProcessedEvent]:
        found = self.inner.processed([self._in(i) for i in ids])
        return {self._out(k): replace(v, id=self._out(v.id)) for k, v in found.items()}

    def accounts(self, ids: Collection[str]) -> dict[str, AccountRecord]:
        found = self.inner.accounts([self._in(i) for i in ids])
        return {self._out(k): replace(v, id=self._out(v.id)) for k, v in found.items()}

    def edges(self, keys: Collection[EdgeKey]) -> set[EdgeKey]:
        p, n = self.prefix, self._n
        found = self.inner.edges([(k, p + s, p + d) for k, s, d in keys])
        return {(k, s[n:], d[n:]) for k, s, d in found}

    def counters(self, accounts: Collection[str], since_bucket: int) -> list[tuple[str, str, int, int]]:
        n = self._n
        rows = self.inner.counters([self._in(a) for a in accounts], since_bucket)
        return [(a[n:], c, b, v) for a, c, b, v in rows]

    def members(self, accounts: Collection[str], since_bucket: int) -> list[tuple[str, str, int, str]]:
        n = self._n
        rows = self.inner.members([self._in(a) for a in accounts], since_bucket)
        return [(a[n:], c, b, m[n:]) for a, c, b, m in rows]

    def conversations(self, ids: Collection[str]) -> dict[str, ConversationRecord]:
        found = self.inner.conversations([self._in(i) for i in ids])
        return {
            self._out(k): replace(v, id=self._out(v.id), suspect=self._out_opt(v.suspect))
            for k, v in found.items()
        }

    # -- the write path --------------------------------------------------------------------------------
    def commit(self, changes: ChangeSet) -> None:
        p = self.prefix
        scoped = ChangeSet(
            events=tuple(replace(e, id=p + e.id) for e in changes.events),
            accounts=tuple(replace(a, id=p + a.id) for a in changes.accounts),
            edges_added=tuple((k, p + s, p + d, at) for k, s, d, at in changes.edges_added),
            edges_removed=tuple((k, p + s, p + d) for k, s, d in changes.edges_removed),
            counter_deltas=tuple((p + a, c, b, v) for a, c, b, v in changes.counter_deltas),
            members=tuple((p + a, c, b, p + m) for a, c, b, m in changes.members),
            conversations=tuple(
                replace(c, id=p + c.id, suspect=None if c.suspect is None else p + c.suspect)
                for c in changes.conversations
            ),
            outbox=tuple(replace(o, key=p + o.key) for o in changes.outbox),
        )
        from safeguarding.store.family_batch import record_batch
        from safeguarding.store.moderation import preserve_batch

        def hook(conn: Connection) -> None:
            preserve_batch(conn, self.tenant, changes, self.staged)
            record_batch(conn, self.tenant, changes)

        self.inner.commit(scoped, also=[(t.alerts, self._alert_rows(changes.events))], hook=hook)

    def _alert_rows(self, events: tuple[ProcessedEvent, ...]) -> list[dict[str, Any]]:
        """Index rows for the alerts the batch raised (read from the stored outcome records)."""
        rows: list[dict[str, Any]] = []
        for e in events:
            if '"a":' not in e.outcome:  # the common case: no alert, no parsing
                continue
            from safeguarding.engine.outcome import Outcome

            outcome = Outcome.from_record(e.id, e.outcome, duplicate=False)
            for i, a in enumerate(outcome.alerts):
                rows.append(
                    {
                        "tenant": self.tenant,
                        "key": f"{e.id}:{i}",
                        "kind": a.kind.value,
                        "subject": a.subject,
                        "conversation": a.conversation,
                        "risk": float(a.risk),
                        "stages": ",".join(a.stages),
                        "reasons": json.dumps([[r.code, r.message, r.weight] for r in a.reasons]),
                        "event_id": e.id,
                        "event_at": e.at,
                        "created_at": e.processed_at,
                        "status": "open",
                    }
                )
        return rows

    # -- outbox ----------------------------------------------------------------------------------------
    def pending_outbox(self, limit: int = 100) -> list[OutboxItem]:
        items = self.inner.pending_outbox(limit, prefix=self.prefix)
        return [replace(o, key=self._out(o.key)) for o in items]

    def relay_outbox(self, deliver: Callable[[OutboxItem], bool], when: datetime, limit: int = 100) -> int:
        def scoped(item: OutboxItem) -> bool:
            return deliver(replace(item, key=self._out(item.key)))

        return self.inner.relay_outbox(scoped, when, limit, prefix=self.prefix)

    def prune(self, before_bucket: int) -> int:
        """Prunes every tenant's expired window rows (they are unreachable whoever owns them)."""
        return self.inner.prune(before_bucket)

    def close(self) -> None:
        pass
