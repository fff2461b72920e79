"""Who a child talks to, as the parent view shows it: one row per person, newest and riskiest first.

Built from metadata only (first-message edges, follows, message times, alerts), so it works the same in
end-to-end-encrypted mode. A message body never enters these records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NEW_DAYS = 7
"""A contact first seen within this many days is shown as new."""


@dataclass(frozen=True, slots=True)
class Contact:
    account: str
    display_name: str | None
    age_band: str
    assurance: str
    adult: bool
    since: datetime
    last_at: datetime | None
    messages_week: int
    child_follows: bool
    follows_child: bool
    blocked: bool
    alerts: int
    open_alerts: int
    approval: str | None = None
    """``pending``, ``approved`` or ``declined`` when the child's parent approves new adults."""

    def new(self, now: datetime) -> bool:
        return now - self.since <= timedelta(days=NEW_DAYS)

    @property
    def mutual(self) -> bool:
        return self.child_follows and self.follows_child


def risk_rank(c: Contact, now: datetime) -> int:
    """3: open alert; 2: any alert or a pending approval; 1: a new adult; 0: everyone else."""
    if c.open_alerts:
        return 3
    if c.alerts or c.approval == "pending":
        return 2
    if c.adult and c.new(now):
        return 1
    return 0


def ranked(contacts: list[Contact], now: datetime) -> list[Contact]:
    """Riskiest first, then newest first, then by account id (a stable order for equal rows)."""
    by_id = sorted(contacts, key=lambda c: c.account)
    by_new = sorted(by_id, key=lambda c: c.since, reverse=True)
    return sorted(by_new, key=lambda c: risk_rank(c, now), reverse=True)
