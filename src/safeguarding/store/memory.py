"""A dictionary-backed :class:`~safeguarding.store.protocol.Store`: for tests, notebooks and one-off runs.

It honours the same contract as the SQL store (atomic commit, duplicate event ids rejected, counters
as deltas), which is what lets one engine test suite run against every store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime

from safeguarding.errors import ConflictError
from safeguarding.store.protocol import (
    AccountRecord,
    ChangeSet,
    ConversationRecord,
    EdgeKey,
    OutboxItem,
    ProcessedEvent,
)


class MemoryStore:
    """Everything in dictionaries; gone when the object is."""

    def __init__(self) -> None:
        self._events: dict[str, ProcessedEvent] = {}
        self._accounts: dict[str, AccountRecord] = {}
        self._edges: dict[EdgeKey, datetime] = {}
        self._counters: dict[tuple[str, str, int], int] = {}
        self._members: set[tuple[str, str, int, str]] = set()
        self._conversations: dict[str, ConversationRecord] = {}
        self._outbox: dict[str, tuple[OutboxItem, datetime | None]] = {}

    def processed(self, ids: Collection[str]) -> dict[str, ProcessedEvent]:
        return {i: self._events[i] for i in ids if i in self._events}

    def accounts(self, ids: Collection[str]) -> dict[str, AccountRecord]:
        return {i: self._accounts[i] for i in ids if i in self._accounts}

    def edges(self, keys: Collection[EdgeKey]) -> set[EdgeKey]:
        return {k for k in keys if k in self._edges}

    def counters(self, accounts: Collection[str], since_bucket: int) -> list[tuple[str, str, int, int]]:
        wanted = set(accounts)
        return [(a, c, b, v) for (a, c, b), v in self._counters.items() if a in wanted and b >= since_bucket]

    def members(self, accounts: Collection[str], since_bucket: int) -> list[tuple[str, str, int, str]]:
        wanted = set(accounts)
        return [m for m in self._members if m[0] in wanted and m[2] >= since_bucket]

    def conversations(self, ids: Collection[str]) -> dict[str, ConversationRecord]:
        return {i: self._conversations[i] for i in ids if i in self._conversations}

    def commit(self, changes: ChangeSet) -> None:
        clash = [e.id for e in changes.events if e.id in self._events]
        if clash:
            raise ConflictError(f"event {clash[0]!r} was already processed")
        for e in changes.events:
            self._events[e.id] = e
        for a in changes.accounts:
            self._accounts[a.id] = a
        for k in changes.edges_removed:
            self._edges.pop(k, None)
        for kind, src, dst, since in changes.edges_added:
            self._edges.setdefault((kind, src, dst), since)
        for acc, counter, bucket, delta in changes.counter_deltas:
            key = (acc, counter, bucket)
            self._counters[key] = self._counters.get(key, 0) + delta
        self._members.update(changes.members)
        for c in changes.conversations:
            self._conversations[c.id] = c
        for o in changes.outbox:
            self._outbox.setdefault(o.key, (o, None))

    def pending_outbox(self, limit: int = 100) -> list[OutboxItem]:
        return [o for o, done in self._outbox.values() if done is None][:limit]

    def relay_outbox(self, deliver: Callable[[OutboxItem], bool], when: datetime, limit: int = 100) -> int:
        sent = 0
        for item in self.pending_outbox(limit):
            if deliver(item):
                self._outbox[item.key] = (item, when)
                sent += 1
            else:
                self._outbox[item.key] = (replace(item, attempts=item.attempts + 1), None)
        return sent

    def prune(self, before_bucket: int) -> int:
        old = [k for k in self._counters if k[2] < before_bucket]
        for k in old:
            del self._counters[k]
        old_members = {m for m in self._members if m[2] < before_bucket}
        self._members -= old_members
        return len(old) + len(old_members)

    def close(self) -> None:
        pass
