"""The engine: events in, decisions and alerts out, state kept in a :class:`~safeguarding.store.Store`.

``Engine.process(event)`` and ``Engine.process_batch(events)`` are the write path (a batch is one
transaction; an event already processed returns its stored outcome, so reprocessing is harmless);
``decide``, ``may_show`` and ``account_risk`` are read-only questions for a platform's hot path.

Everything is deterministic given the events, the policy, the detector and the injected clock (the
clock only stamps ``processed_at`` and outbox rows, and answers questions asked without a time).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from safeguarding.engine.clock import Clock, SystemClock
from safeguarding.engine.detector import ConversationDetector
from safeguarding.engine.outcome import Outcome, Rejected
from safeguarding.engine.process import EventProcessor
from safeguarding.engine.state import WorkingSet, group_keys, pair_keys
from safeguarding.errors import ConflictError, EventError
from safeguarding.events.types import Event
from safeguarding.policy.model import Action, Decision
from safeguarding.policy.policy import Policy
from safeguarding.signals.catalog import BUILTIN_SIGNALS, Signal
from safeguarding.signals.fusion import AccountRisk
from safeguarding.signals.windows import bucket_of
from safeguarding.store.memory import MemoryStore
from safeguarding.store.protocol import AccountRecord, ConversationRecord, ProcessedEvent, Store

log = logging.getLogger(__name__)
Result = Outcome | Rejected


def _canon(value: object) -> str:
    """Length-prefixed text: unambiguous whatever the strings contain, and cheap."""
    if value is None:
        return "~"
    if isinstance(value, tuple):
        return "[" + ",".join(_canon(v) for v in value) + "]"
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"{len(text)}:{text}"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def event_digest(event: Event) -> str:
    """A content hash of an event, to tell a harmless resend from an id reused for something else.

    Built from a canonical text of the fields (not ``repr``), so it is stable across Python versions:
    digests are stored and compared across runs.
    """
    cls = type(event)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(event))
    parts = [event.type.value]
    for name in names:
        v = getattr(event, name)
        parts.append(f"{len(v)}:{v}" if v.__class__ is str else _canon(v))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Engine:
    """Fuses contact policy, metadata signals and the streaming text detector into outcomes.

    ``detector`` is optional: without it (or for messages without text, as in end-to-end-encrypted
    mode) policy and signals still apply. The engine is safe to share between threads (calls are
    serialised) but assumes it is the only writer of the state it has cached; several processes on
    one database should partition events by conversation (see ``docs/store.md``).
    """

    def __init__(
        self,
        policy: Policy,
        store: Store | None = None,
        detector: ConversationDetector[Any] | None = None,
        clock: Clock | None = None,
        *,
        signals: Sequence[Signal] = BUILTIN_SIGNALS,
        max_cached: int = 500_000,
    ) -> None:
        self.policy = policy
        self.store: Store = store if store is not None else MemoryStore()
        self.detector = detector
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.max_cached = max_cached
        self._lock = threading.RLock()
        self._ws = WorkingSet(self.store, retention_hours=policy.signals.retention_hours + 1)
        self._proc = EventProcessor(policy, self._ws, detector, tuple(signals), self.clock)
        self._batches = 0

    # -- write path ------------------------------------------------------------------------------
    def process(self, event: Event) -> Outcome:
        """Process and commit one event. Raises :class:`EventError` for a bad event."""
        result = self.process_batch([event])[0]
        if isinstance(result, Rejected):
            raise EventError(result.reason, event_id=result.event)
        return result

    def process_batch(self, items: Sequence[Event | EventError]) -> list[Result]:
        """Process events in order and commit them in ONE transaction; one result per item, in order.

        Items may be :class:`EventError` (from parsing) so a stream keeps its positions: they come back
        as :class:`Rejected`, like events naming unknown accounts; the rest of the batch proceeds.
        If another worker committed one of these events meanwhile, the batch is retried once (those
        events then return their stored outcome).
        """
        with self._lock:
            try:
                return self._run(items)
            except ConflictError:
                log.info("batch conflicted with a concurrent commit; retrying once")
                self._drop()
                try:
                    return self._run(items)
                except BaseException:
                    self._drop()
                    raise
            except BaseException:
                self._drop()
                raise

    def _drop(self) -> None:
        self._ws.clear()
        self._proc.forget()

    def _run(self, items: Sequence[Event | EventError]) -> list[Result]:
        ws = self._ws
        events = [e for e in items if not isinstance(e, EventError)]
        ws.prefetch(events)
        now = self.clock.now()
        results: list[Result] = []
        for item in items:
            if isinstance(item, EventError):
                results.append(Rejected(item.event_id, str(item), item.where))
                continue
            results.append(self._one(item, now))
        dump = self.detector.dump_state if self.detector is not None else None
        self.store.commit(ws.drain(dump))
        self._batches += 1
        self._housekeeping(events)
        return results

    def _one(self, event: Event, now: datetime) -> Result:
        ws = self._ws
        digest = event_digest(event)
        prior = ws.processed.get(event.id)
        if prior is not None:
            if prior.digest != digest:
                return Rejected(event.id, f"event {event.id!r}: id already used for a different event")
            return Outcome.from_record(event.id, prior.outcome)
        try:
            outcome = self._proc.handle(event)
        except EventError as exc:
            return Rejected(event.id, str(exc))
        ws.record_event(ProcessedEvent(event.id, event.type.value, digest, event.at, now, outcome.record()))
        for item in self._proc.outbox_items(event.id, outcome.alerts):
            ws.add_outbox(item)
        return outcome

    def _housekeeping(self, events: Sequence[Event]) -> None:
        ws = self._ws
        if ws.size > self.max_cached:
            log.debug("working set over %d entries; dropping the cache", self.max_cached)
            self._drop()
        elif events and self._batches % 64 == 0:
            latest = max(bucket_of(e.at) for e in events)
            ws.prune_memory(latest - ws.retention_hours)
        # processed ids are only needed within a batch (older ones are re-read from the store)
        ws.processed.clear()

    # -- read-only questions -----------------------------------------------------------------------
    def decide(
        self,
        action: Action | str,
        sender: str,
        recipient: str,
        *,
        group: str | None = None,
        conversation: str | None = None,
        at: datetime | None = None,
    ) -> Decision:
        """May ``sender`` do ``action`` to ``recipient`` now? Stores nothing.

        An account the engine has never seen is judged with an unknown age (an adult as sender, a
        child as recipient) rather than refused: the hot path must answer, and must answer safely.
        """
        act = Action(action)
        when = at if at is not None else self.clock.now()
        with self._lock:
            ws = self._ws
            ws.load_accounts([sender, recipient])
            keys = pair_keys(sender, recipient) + (group_keys(recipient, group) if group else [])
            missing = [k for k in keys if k not in ws.edge_cache]
            if missing:
                present = self.store.edges(missing)
                for k in missing:
                    ws.edge_cache[k] = k in present
            conv = ws.conversation(conversation) if conversation is not None else None
            s_rec = ws.account(sender) or AccountRecord(sender)
            r_rec = ws.account(recipient) or AccountRecord(recipient)
            result = self._proc.decide_pair(
                act, s_rec, r_rec, when, group=group, conversation=conv, record=False
            )
            return result.decision

    def may_show(self, viewer: str, subject: str, *, at: datetime | None = None) -> Decision:
        """May ``viewer`` be shown ``subject`` (suggestions, search, connection lists)?"""
        return self.decide(Action.SUGGEST, viewer, subject, at=at)

    def account_risk(self, account: str, *, at: datetime | None = None) -> AccountRisk:
        """The account's fused metadata risk with every signal's value and reason."""
        when = at if at is not None else self.clock.now()
        with self._lock:
            return self._proc.account_risk(account, when)

    def conversation(self, conversation: str) -> ConversationRecord | None:
        """The conversation's summary (detector risk, flag, suspect, stages); None if never scored."""
        with self._lock:
            return self._ws.conversation(conversation)

    def account(self, account: str) -> AccountRecord | None:
        with self._lock:
            return self._ws.account(account)

    def prune(self, *, at: datetime | None = None) -> int:
        """Delete signal-window rows that no window can reach any more (older than the longest window)."""
        when = at if at is not None else self.clock.now()
        with self._lock:
            before = bucket_of(when) - self._ws.retention_hours
            self._ws.prune_memory(before)
            return self.store.prune(before)

    def reset_cache(self) -> None:
        """Forget cached state (the next batch re-reads it from the store)."""
        with self._lock:
            self._drop()

    def close(self) -> None:
        self.store.close()
