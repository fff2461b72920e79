"""One engine per tenant, and how several worker processes share one PostgreSQL database safely.

Each tenant gets its own :class:`~safeguarding.engine.Engine` over a
:class:`~safeguarding.store.tenant.TenantStore`; all share the policy, the detector and the database.

**Several workers.** An engine caches what it reads and assumes it is the only writer of it. With
several processes on one PostgreSQL database that no longer holds, so every write batch runs under
the tenant's writer lock (a PostgreSQL advisory lock) and bumps the tenant's *write epoch* before and
after it::

    lock(tenant)                       # one writer per tenant at a time, across processes
      e = bump(tenant)                 # committed at once: a crash mid-batch still tells the others
      if e - 1 != mine: drop cache     # someone else wrote since this worker last did
      process_batch(...)               # one transaction, as always
      mine = bump(tenant)              # "done": readers that saw the in-flight epoch look again
    unlock(tenant)

Reads (contact decisions, risk) compare the stored epoch with the worker's and drop the cache when it
moved. To keep the hot path at one epoch query per ``staleness`` seconds rather than one per request, a
read may lag another worker's latest write by up to ``SAFEGUARDING_READ_STALENESS_SECONDS`` (default
0.05); writes never lag: they check under the lock. No event is ever processed twice: besides the lock,
the event id is the primary key of ``sg_events`` and is inserted in the batch's own transaction. On
SQLite there is one worker process, so none of this runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from safeguarding.engine import Clock, Engine, Outcome, Rejected
from safeguarding.errors import EventError
from safeguarding.events import Event
from safeguarding.policy import Policy
from safeguarding.store.sql import SqlStore
from safeguarding.store.tenancy import TenancyStore
from safeguarding.store.tenant import TenantStore

Result = Outcome | Rejected


class TenantEngines:
    def __init__(
        self,
        sql: SqlStore,
        tenancy: TenancyStore,
        policy: Policy,
        detector: Any,
        clock: Clock,
        *,
        coordinated: bool,
        staleness: float = 0.0,
    ) -> None:
        self.sql = sql
        self.tenancy = tenancy
        self.policy = policy
        self.detector = detector
        self.clock = clock
        self.coordinated = coordinated
        self.staleness = staleness
        self._checked: dict[str, float] = {}
        self._writing: dict[str, int] = {}
        self._engines: dict[str, Engine] = {}
        self._stores: dict[str, TenantStore] = {}
        self._epochs: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def engine(self, tenant: str) -> Engine:
        with self._guard:
            eng = self._engines.get(tenant)
            if eng is None:
                store = self._stores[tenant] = TenantStore(self.sql, tenant)
                eng = self._engines[tenant] = Engine(self.policy, store, self.detector, self.clock)
                self._locks[tenant] = threading.Lock()
            return eng

    def busy(self, tenant: str) -> bool:
        """True while a batch of ``tenant`` is being written in this process (its engine is locked)."""
        return self._writing.get(tenant, 0) > 0

    def write(self, tenant: str, items: Sequence[Event | EventError]) -> list[Result]:
        """Process a batch for ``tenant`` (one transaction); see the module docstring for several workers."""
        eng = self.engine(tenant)
        with self._guard:
            self._writing[tenant] = self._writing.get(tenant, 0) + 1
        staged = self._stores[tenant].stage(items)  # message text for the store's evidence hook
        try:
            if not self.coordinated:
                return eng.process_batch(items)
            with self._locks[tenant], self.tenancy.writing(tenant) as turn:
                if turn.before - 1 != self._epochs.get(tenant):
                    eng.reset_cache()
                self._epochs[tenant] = turn.before  # until the closing bump: this worker's own write
                results = eng.process_batch(items)
            self._epochs[tenant] = turn.after if turn.after is not None else turn.before
            self._checked[tenant] = time.monotonic()
            return results
        finally:
            self._stores[tenant].unstage(staged)
            with self._guard:
                self._writing[tenant] -= 1

    def read(self, tenant: str) -> Engine:
        """The tenant's engine, its cache no older than ``staleness`` seconds behind other workers' writes."""
        eng = self.engine(tenant)
        if self.coordinated:
            mono = time.monotonic()
            if mono - self._checked.get(tenant, -1e9) >= self.staleness:
                now = self.tenancy.epoch(tenant)
                if now != self._epochs.get(tenant):
                    eng.reset_cache()
                    self._epochs[tenant] = now
                self._checked[tenant] = mono
        return eng

    def close(self) -> None:
        with self._guard:
            self._engines.clear()
            self._stores.clear()
