"""The engine's working set: state read in bulk before a batch, changed in memory, written in one go.

Why: one round trip per event would cap throughput at a few hundred events a second; prefetching the
accounts, edges, windows and conversations a batch touches (a handful of ``IN`` queries) and writing
every change in one transaction keeps it in the thousands. What was read stays cached between batches
(this engine is the single writer of what it caches); after a failed commit the cache is dropped, so
memory never disagrees with the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from safeguarding.events.types import (
    AcceptEvent,
    AccountEvent,
    DeclineEvent,
    Event,
    GroupInviteEvent,
    MessageEvent,
    ParentalControlsEvent,
    accounts_of,
)
from safeguarding.signals.windows import AccountWindows, bucket_of
from safeguarding.store.protocol import (
    AccountRecord,
    ChangeSet,
    ConversationRecord,
    EdgeKey,
    EdgeKind,
    OutboxItem,
    ProcessedEvent,
    Store,
)

_PAIR_KINDS = (EdgeKind.FOLLOW, EdgeKind.CONTACT, EdgeKind.BLOCK, EdgeKind.REQUEST, EdgeKind.MESSAGED)
_F, _C, _B, _M = EdgeKind.FOLLOW.value, EdgeKind.CONTACT.value, EdgeKind.BLOCK.value, EdgeKind.MESSAGED.value
_A = EdgeKind.APPROVED.value


def pair_keys(a: str, b: str) -> list[EdgeKey]:
    """Every edge between two accounts, both directions: what any contact decision may look at."""
    keys: list[EdgeKey] = []
    for kind in _PAIR_KINDS:
        keys.append((kind.value, a, b))
        keys.append((kind.value, b, a))
    return keys


def message_keys(sender: str, recipient: str) -> list[EdgeKey]:
    """The edges a message decision reads (contacts are stored both ways, so one direction suffices)."""
    return [
        (_B, sender, recipient),
        (_B, recipient, sender),
        (_F, recipient, sender),
        (_F, sender, recipient),
        (_C, recipient, sender),
        (_M, sender, recipient),
        (_A, recipient, sender),
    ]


def group_keys(account: str, group: str) -> list[EdgeKey]:
    return [(EdgeKind.MEMBER.value, account, group), (EdgeKind.INVITE.value, account, group)]


class WorkingSet:
    """Cached, mutable engine state plus the changes not yet committed."""

    def __init__(self, store: Store, retention_hours: int) -> None:
        self.store = store
        self.retention_hours = retention_hours
        self.clear()

    def clear(self) -> None:
        """Forget everything cached and every uncommitted change."""
        self.accounts: dict[str, AccountRecord | None] = {}
        self.edge_cache: dict[EdgeKey, bool] = {}
        self.windows: dict[str, AccountWindows] = {}
        self.conversations: dict[str, ConversationRecord | None] = {}
        self.live: dict[str, Any] = {}
        """Detector states of cached conversations, as live objects (dumped to bytes at commit)."""
        self.processed: dict[str, ProcessedEvent] = {}
        self._reset_changes()

    def _reset_changes(self) -> None:
        self.new_events: list[ProcessedEvent] = []
        self.dirty_accounts: set[str] = set()
        self.dirty_edges: dict[EdgeKey, datetime | None] = {}
        self.deltas: dict[tuple[str, str, int], int] = {}
        self.new_members: set[tuple[str, str, int, str]] = set()
        self.dirty_conversations: set[str] = set()
        self.outbox: list[OutboxItem] = []

    @property
    def size(self) -> int:
        return len(self.accounts) + len(self.edge_cache) + len(self.windows) + len(self.conversations)

    # -- bulk loading ----------------------------------------------------------------------------
    def prefetch(self, events: Sequence[Event]) -> None:
        """Load what ``events`` will touch and is not cached yet, in a few bulk reads."""
        if not events:
            return
        ids = [e.id for e in events if e.id not in self.processed]
        accounts: set[str] = set()
        keys: set[EdgeKey] = set()
        convs: set[str] = set()
        for e in events:
            named = accounts_of(e)
            accounts.update(named)
            if isinstance(e, AccountEvent | ParentalControlsEvent):
                continue
            if isinstance(e, MessageEvent):
                convs.add(e.conversation)
                for r in e.recipients:
                    keys.update(message_keys(e.sender, r))
                    if e.group is not None:
                        keys.update(group_keys(r, e.group))
                continue
            keys.update(pair_keys(e.actor, e.target))
            group = e.group if isinstance(e, AcceptEvent | DeclineEvent | GroupInviteEvent) else None
            if group:
                keys.update(group_keys(e.actor, group))
                keys.update(group_keys(e.target, group))
        self.load_accounts(accounts)
        missing_keys = [k for k in keys if k not in self.edge_cache]
        if missing_keys:
            present = self.store.edges(missing_keys)
            for k in missing_keys:
                self.edge_cache[k] = k in present
        need_windows = [a for a in accounts if a not in self.windows]
        if need_windows:
            since = min(bucket_of(e.at) for e in events) - self.retention_hours
            self._load_windows(need_windows, since)
        self.load_conversations(convs)
        if ids:
            self.processed.update(self.store.processed(ids))

    def load_accounts(self, ids: Iterable[str]) -> None:
        missing = [a for a in ids if a not in self.accounts]
        if missing:
            found = self.store.accounts(missing)
            for a in missing:
                self.accounts[a] = found.get(a)

    def load_conversations(self, ids: Iterable[str]) -> None:
        missing = [c for c in ids if c not in self.conversations]
        if missing:
            found = self.store.conversations(missing)
            for c in missing:
                self.conversations[c] = found.get(c)

    def _load_windows(self, accounts: list[str], since: int) -> None:
        per: dict[str, tuple[list[tuple[str, int, int]], list[tuple[str, int, str]]]] = {
            a: ([], []) for a in accounts
        }
        for a, c, b, v in self.store.counters(accounts, since):
            per[a][0].append((c, b, v))
        for a, c, b, m in self.store.members(accounts, since):
            per[a][1].append((c, b, m))
        for a, (counts, members) in per.items():
            self.windows[a] = AccountWindows.from_rows(counts, members)

    # -- reads and writes during a batch -----------------------------------------------------------
    def account(self, account_id: str) -> AccountRecord | None:
        if account_id not in self.accounts:
            self.load_accounts([account_id])
        return self.accounts[account_id]

    def put_account(self, record: AccountRecord) -> None:
        self.accounts[record.id] = record
        self.dirty_accounts.add(record.id)

    def has(self, kind: EdgeKind, src: str, dst: str) -> bool:
        key = (kind.value, src, dst)
        found = self.edge_cache.get(key)
        if found is None:
            found = bool(self.store.edges([key]))
            self.edge_cache[key] = found
        return found

    def add_edge(self, kind: EdgeKind, src: str, dst: str, at: datetime) -> None:
        key = (kind.value, src, dst)
        if not self.has(kind, src, dst):
            self.edge_cache[key] = True
            self.dirty_edges[key] = at

    def remove_edge(self, kind: EdgeKind, src: str, dst: str) -> None:
        key = (kind.value, src, dst)
        if self.has(kind, src, dst):
            self.edge_cache[key] = False
            self.dirty_edges[key] = None

    def window(self, account_id: str, at: datetime) -> AccountWindows:
        w = self.windows.get(account_id)
        if w is None:
            self._load_windows([account_id], bucket_of(at) - self.retention_hours)
            w = self.windows[account_id]
        return w

    def count(self, account_id: str, counter: str, at: datetime, n: int = 1) -> None:
        bucket = bucket_of(at)
        self.window(account_id, at).add(counter, bucket, n)
        key = (account_id, counter, bucket)
        self.deltas[key] = self.deltas.get(key, 0) + n

    def add_member(self, account_id: str, counter: str, at: datetime, member: str) -> None:
        bucket = bucket_of(at)
        if self.window(account_id, at).add_member(counter, bucket, member):
            self.new_members.add((account_id, counter, bucket, member))

    def conversation(self, conversation_id: str) -> ConversationRecord | None:
        if conversation_id not in self.conversations:
            self.load_conversations([conversation_id])
        return self.conversations[conversation_id]

    def put_conversation(self, record: ConversationRecord, live_state: Any = None) -> None:
        self.conversations[record.id] = record
        if live_state is not None:
            self.live[record.id] = live_state
        self.dirty_conversations.add(record.id)

    def record_event(self, event: ProcessedEvent) -> None:
        self.processed[event.id] = event
        self.new_events.append(event)

    def add_outbox(self, item: OutboxItem) -> None:
        self.outbox.append(item)

    # -- commit ----------------------------------------------------------------------------------
    def drain(self, dump_state: Callable[[Any], bytes] | None = None) -> ChangeSet:
        """Everything changed since the last drain, as one :class:`ChangeSet`; resets the change log.

        ``dump_state`` turns a live detector state into bytes (the detector's ``dump_state``).
        """
        conversations = []
        for cid in sorted(self.dirty_conversations):
            rec = self.conversations[cid]
            assert rec is not None
            live = self.live.get(cid)
            if live is not None and dump_state is not None:
                rec = replace(rec, detector_state=dump_state(live))
                self.conversations[cid] = rec
            conversations.append(rec)
        changes = ChangeSet(
            events=tuple(self.new_events),
            accounts=tuple(a for i in sorted(self.dirty_accounts) if (a := self.accounts[i]) is not None),
            edges_added=tuple((k, s, d, at) for (k, s, d), at in self.dirty_edges.items() if at is not None),
            edges_removed=tuple(key for key, at in self.dirty_edges.items() if at is None),
            counter_deltas=tuple((a, c, b, n) for (a, c, b), n in self.deltas.items() if n),
            members=tuple(sorted(self.new_members)),
            conversations=tuple(conversations),
            outbox=tuple(self.outbox),
        )
        self._reset_changes()
        return changes

    def prune_memory(self, before_bucket: int) -> None:
        for w in self.windows.values():
            w.prune(before_bucket)
