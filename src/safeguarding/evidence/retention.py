"""Retention and legal holds, as pure functions of records and a time.

The rules (defaults; ``docs/evidence.md`` explains them):

- Evidence that is not on hold is purged ``evidence_days`` after it was recorded: its payload (text,
  identifiers) is cleared; the chain skeleton stays, so verification keeps working.
- A legal hold on a case protects its entries until the hold is released *and* ``hold_min_days`` (at
  least 365: the US REPORT Act 2024's one-year preservation) have passed since it was placed. A hold
  on a conversation covers every entry of that conversation; a hold on an account covers the entries
  about the account outside any conversation (account alerts, actions, IP captures), not the account's
  other conversations, which are other children's cases.
- References to reports (legal holds, releases, referral exports) are kept ``reference_days``
  (five years by default, the UK CSEA reporting regulations' record-keeping period).
- ``retention_purge`` entries are never purged: they carry no personal data and prove every later gap.
- Evidence entries are never *deleted*: a purge clears a payload and keeps the entry's place in the
  chain (append-only; ``docs/evidence.md`` §1).
- The tables kept beside the log follow the same clock and the same holds, but their rows are deleted:
  ``sg_messages`` (message text, by the message's time) and ``sg_referral_packages`` (by when the package
  was built). A hold on a conversation keeps its messages and the packages built from its cases
  (:func:`held_cases`, :class:`TablePurge`).

Why pure: the same plan is shown by ``--dry-run`` and carried out by the SQL adapter, and tests run it
against a frozen clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from safeguarding.errors import ConfigError
from safeguarding.evidence.chain import REFERENCE_KINDS, EntryKind

MIN_HOLD_DAYS = 365


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    evidence_days: int = 180
    hold_min_days: int = MIN_HOLD_DAYS
    reference_days: int = 5 * 365 + 1

    def __post_init__(self) -> None:
        if self.evidence_days < 1:
            raise ConfigError("retention: evidence_days must be at least 1")
        if self.hold_min_days < MIN_HOLD_DAYS:
            raise ConfigError(
                f"retention: hold_min_days must be at least {MIN_HOLD_DAYS} (held data is preserved "
                "for at least one year)"
            )
        if self.reference_days < self.hold_min_days:
            raise ConfigError("retention: reference_days must be at least hold_min_days")


@dataclass(frozen=True, slots=True)
class LegalHold:
    """A hold on everything the evidence log holds about ``case`` (a conversation or account id)."""

    id: int
    chain: str
    case: str
    reason: str
    placed_at: datetime
    placed_by: str
    released_at: datetime | None = None
    released_by: str | None = None
    account: bool = False
    """The case is an account (its alerts and actions) rather than a conversation."""

    def protects_until(self, policy: RetentionPolicy) -> datetime | None:
        """None while unreleased (protected indefinitely); else the later of release and the minimum."""
        floor = self.placed_at + timedelta(days=policy.hold_min_days)
        return None if self.released_at is None else max(self.released_at, floor)

    def active(self, now: datetime, policy: RetentionPolicy) -> bool:
        until = self.protects_until(policy)
        return until is None or now < until


@dataclass(frozen=True, slots=True)
class RetentionItem:
    """What retention needs to know of an entry (no payload)."""

    chain: str
    seq: int
    at: datetime
    kind: str
    conversation: str | None
    subject: str | None
    purged: bool = False


@dataclass(frozen=True, slots=True)
class PurgePlan:
    clear: dict[str, tuple[int, ...]]
    """Per chain, the sequence numbers whose payload is cleared."""
    kept_on_hold: int
    kept_as_reference: int
    kept_young: int
    holds_to_delete: tuple[int, ...]
    """Released holds whose reference period is over."""

    @property
    def cleared(self) -> int:
        return sum(len(v) for v in self.clear.values())

    def ranges(self, chain: str) -> list[list[int]]:
        """The chain's cleared sequence numbers as ``[[first, last], ...]`` (for the purge entry)."""
        out: list[list[int]] = []
        for s in self.clear.get(chain, ()):
            if out and out[-1][1] == s - 1:
                out[-1][1] = s
            else:
                out.append([s, s])
        return out


@dataclass(frozen=True, slots=True)
class HeldCases:
    """The cases under an active hold at one moment, per chain (the service's chain is the tenant)."""

    conversations: frozenset[tuple[str, str]]
    accounts: frozenset[tuple[str, str]]

    def covers(self, chain: str, conversation: str | None, subject: str | None) -> bool:
        """A conversation hold covers everything in it; an account hold only what is outside any
        conversation (the account's other conversations are other children's cases)."""
        if conversation is not None:
            return (chain, conversation) in self.conversations
        return subject is not None and (chain, subject) in self.accounts

    def conversations_of(self, chain: str) -> list[str]:
        return sorted(c for ch, c in self.conversations if ch == chain)


def held_cases(holds: Iterable[LegalHold], policy: RetentionPolicy, now: datetime) -> HeldCases:
    active = [h for h in holds if h.active(now, policy)]
    return HeldCases(
        frozenset((h.chain, h.case) for h in active if not h.account),
        frozenset((h.chain, h.case) for h in active if h.account),
    )


def evidence_cutoff(policy: RetentionPolicy, now: datetime) -> datetime:
    """Unheld evidence (and message text, and referral packages) recorded before this is purged."""
    return now - timedelta(days=policy.evidence_days)


@dataclass(frozen=True, slots=True)
class TablePurge:
    """What a retention run deleted (or, in a dry run, would delete) from one table beside the log."""

    table: str
    removed: int
    kept_on_hold: int
    kept_young: int


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """One retention run: the evidence log's purge plan and the rows deleted from the other tables."""

    evidence: PurgePlan
    tables: tuple[TablePurge, ...]
    evidence_days: int
    dry_run: bool

    def lines(self) -> list[str]:
        """The run's report for people (counts and sequence ranges only, never content)."""
        p, verb, days = self.evidence, "would remove" if self.dry_run else "removed", self.evidence_days
        out = [f"{verb} the payloads of {p.cleared} evidence entries (older than {days} days)"]
        out += [
            f"  chain {c}: entries {', '.join(f'{a}-{b}' for a, b in p.ranges(c))}" for c in sorted(p.clear)
        ]
        out.append(
            f"kept: {p.kept_on_hold} on legal hold, {p.kept_as_reference} report references, "
            f"{p.kept_young} younger than the retention period; {len(p.holds_to_delete)} expired holds "
            f"{'would be ' if self.dry_run else ''}deleted"
        )
        out += [
            f"{verb} {t.removed} rows of {t.table} (older than {days} days); kept {t.kept_on_hold} on "
            f"legal hold, {t.kept_young} younger"
            for t in self.tables
        ]
        out.append("evidence entries are never deleted: a purged entry keeps its place in the chain")
        return out


def plan_purge(
    items: Iterable[RetentionItem], holds: Iterable[LegalHold], policy: RetentionPolicy, now: datetime
) -> PurgePlan:
    """Decide what a retention run clears. ``items`` in any order; already purged ones are skipped."""
    hold_list = list(holds)
    held = held_cases(hold_list, policy, now)
    evidence_cut = evidence_cutoff(policy, now)
    reference_cut = now - timedelta(days=policy.reference_days)
    clear: dict[str, list[int]] = {}
    on_hold = as_reference = young = 0
    for it in items:
        if it.purged or it.kind == EntryKind.RETENTION_PURGE:
            continue
        if held.covers(it.chain, it.conversation, it.subject):
            on_hold += 1
            continue
        if it.kind in REFERENCE_KINDS:
            if it.at >= reference_cut:
                as_reference += 1
                continue
        elif it.at >= evidence_cut:
            young += 1
            continue
        clear.setdefault(it.chain, []).append(it.seq)
    expired = tuple(h.id for h in hold_list if h.released_at is not None and h.released_at < reference_cut)
    return PurgePlan({c: tuple(sorted(s)) for c, s in clear.items()}, on_hold, as_reference, young, expired)
