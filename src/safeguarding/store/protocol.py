"""The engine's persistence contract: a small ``Store`` protocol and the rows it moves.

The engine reads state in bulk before a batch (``accounts``, ``edges``, ``counters`` ...) and writes
everything a batch changed with one :meth:`Store.commit` — one transaction per batch, never one per
event. No SQL here: this module is part of the pure core; :mod:`.sql` and :mod:`.memory` implement it.

Rows are designed for many workers on one database later (design §7): counters are written as
*deltas* (``value = value + delta``), distinct-counter members and edges as inserts that ignore
duplicates, and an event id is inserted into the processed-events table in the same transaction as
its effects, so a replayed or concurrently processed event is never counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from safeguarding.types import AgeBand, Assurance


class EdgeKind(StrEnum):
    """Relationships between accounts (``dst`` is a group id for ``member`` and ``invite``)."""

    FOLLOW = "follow"  # src follows dst
    CONTACT = "contact"  # src accepted dst's contact request (stored both ways)
    BLOCK = "block"  # src blocked dst
    REQUEST = "request"  # src sent dst a contact request that is still pending
    INVITE = "invite"  # src was invited to group dst and has not answered yet
    MEMBER = "member"  # src joined group dst
    MESSAGED = "messaged"  # src has messaged dst at least once (first-contact detection)
    APPROVED = "approved"  # a parent of child src approved contact from dst (parental controls)


EdgeKey = tuple[str, str, str]
"""``(kind, src, dst)``."""


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An account's profile plus the engine's per-account alert bookkeeping."""

    id: str
    age_band: AgeBand = AgeBand.UNKNOWN
    birth_date: date | None = None
    assurance: Assurance = Assurance.SELF_DECLARED
    created_at: datetime | None = None
    country: str | None = None
    timezone: str | None = None
    risk_alerted: bool = False
    pattern_alert_until: datetime | None = None
    display_name: str | None = None
    controls: int = 0
    """:class:`safeguarding.families.Control` bits a linked parent set."""


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """The compact summary of a conversation: the detector's state blob and alert flags, no text."""

    id: str
    detector_version: str = ""
    detector_state: bytes | None = None
    messages: int = 0
    flagged: bool = False
    alerted: bool = False
    risk: float = 0.0
    suspect: str | None = None
    stages: tuple[str, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProcessedEvent:
    """A processed event: its content digest (to spot an id reused for other content) and its outcome."""

    id: str
    type: str
    digest: str
    at: datetime
    processed_at: datetime
    outcome: str
    """The outcome record as canonical JSON (see :mod:`safeguarding.engine.outcome`)."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A side effect to deliver at least once (webhook, notification); ``key`` is its idempotency key."""

    key: str
    kind: str
    payload: str
    created_at: datetime
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Everything one batch changed. Applied atomically by :meth:`Store.commit`."""

    events: tuple[ProcessedEvent, ...] = ()
    accounts: tuple[AccountRecord, ...] = ()
    edges_added: tuple[tuple[str, str, str, datetime], ...] = ()
    edges_removed: tuple[EdgeKey, ...] = ()
    counter_deltas: tuple[tuple[str, str, int, int], ...] = ()
    """``(account, counter, bucket, delta)``."""
    members: tuple[tuple[str, str, int, str], ...] = ()
    """``(account, counter, bucket, member)``."""
    conversations: tuple[ConversationRecord, ...] = ()
    outbox: tuple[OutboxItem, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.events
            or self.accounts
            or self.edges_added
            or self.edges_removed
            or self.counter_deltas
            or self.members
            or self.conversations
            or self.outbox
        )


class Store(Protocol):
    """Where engine state lives. Reads are bulk; :meth:`commit` is one transaction.

    :meth:`commit` raises :class:`~safeguarding.errors.ConflictError` when one of the batch's event ids
    was committed meanwhile by someone else; nothing of the batch is then stored.
    """

    def processed(self, ids: Collection[str]) -> dict[str, ProcessedEvent]: ...

    def accounts(self, ids: Collection[str]) -> dict[str, AccountRecord]: ...

    def edges(self, keys: Collection[EdgeKey]) -> set[EdgeKey]:
        """Which of ``keys`` exist."""
        ...

    def counters(self, accounts: Collection[str], since_bucket: int) -> list[tuple[str, str, int, int]]:
        """``(account, counter, bucket, value)`` rows with ``bucket >= since_bucket``."""
        ...

    def members(self, accounts: Collection[str], since_bucket: int) -> list[tuple[str, str, int, str]]: ...

    def conversations(self, ids: Collection[str]) -> dict[str, ConversationRecord]: ...

    def commit(self, changes: ChangeSet) -> None: ...

    def pending_outbox(self, limit: int = 100) -> list[OutboxItem]:
        """Undelivered outbox items, oldest first (read only)."""
        ...

    def relay_outbox(self, deliver: Callable[[OutboxItem], bool], when: datetime, limit: int = 100) -> int:
        """Hand undelivered items to ``deliver`` inside one transaction, oldest first.

        Rows are claimed with ``FOR UPDATE SKIP LOCKED`` where the database has it, so several relays
        never hand out the same item at once; an item is marked delivered when ``deliver`` returns True
        and its attempt count grows otherwise. Delivery is at least once: receivers deduplicate on
        ``key``. Returns how many were delivered.
        """
        ...

    def prune(self, before_bucket: int) -> int:
        """Delete counter rows older than ``before_bucket`` (outside every window); returns rows deleted."""
        ...

    def close(self) -> None: ...
