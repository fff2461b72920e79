"""What the parent view reads from the engine's and the moderation tables (metadata only, never text).

:class:`FamilyReads` is the read half of :class:`safeguarding.store.families.FamilyStore`: the engine's
accounts and edges (ids namespaced ``<tenant>/<id>``), message metadata from ``sg_messages`` and the alert
index. Kept apart so each module stays small.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select

from safeguarding.store import schema as t
from safeguarding.store.moderation import messages
from safeguarding.store.protocol import EdgeKind
from safeguarding.store.rows import RowStore


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the parent view shows about one account (from the engine's account table)."""

    id: str
    display_name: str | None
    age_band: str
    assurance: str
    birth_date: date | None
    controls: int


@dataclass(frozen=True, slots=True)
class MessageMeta:
    """A message's metadata (never its text): who, to whom, when, in which conversation."""

    conversation: str
    sender: str
    recipients: tuple[str, ...]
    at: datetime


class FamilyReads(RowStore):
    # -- what the parent view reads from the engine's tables ----------------------------------------------
    def accounts(self, tenant: str, ids: Sequence[str], when: datetime) -> dict[str, AccountFacts]:
        """The accounts' facts, ``age_band`` as of ``when`` (a birth date wins over a stored band)."""
        from safeguarding.policy.ages import band_at
        from safeguarding.types import AgeBand

        if not ids:
            return {}
        p = f"{tenant}/"
        a = t.accounts.c
        rows = self._all(
            select(a.id, a.display_name, a.age_band, a.assurance, a.birth_date, a.controls).where(
                a.id.in_([p + i for i in ids])
            )
        )
        return {
            r.id[len(p) :]: AccountFacts(
                r.id[len(p) :],
                r.display_name,
                band_at(AgeBand(r.age_band), r.birth_date, when).value,
                r.assurance,
                r.birth_date,
                int(r.controls or 0),
            )
            for r in rows
        }

    def conversation_stages(self, tenant: str, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The grooming stages the detector has seen so far in each conversation (latest, not at alert)."""
        if not ids:
            return {}
        p = f"{tenant}/"
        c = t.conversations.c
        rows = self._all(select(c.id, c.stages).where(c.id.in_([p + i for i in ids])))
        return {r.id[len(p) :]: tuple(s for s in r.stages.split(",") if s) for r in rows}

    def edges_of(
        self, tenant: str, account: str, kinds: Sequence[EdgeKind]
    ) -> list[tuple[str, str, str, datetime]]:
        """``(kind, src, dst, since)`` of every edge of ``kinds`` from or to ``account`` (ids un-prefixed)."""
        p = f"{tenant}/"
        e = t.edges.c
        me = p + account
        rows = self._all(
            select(e.kind, e.src, e.dst, e.since).where(
                e.kind.in_([k.value for k in kinds]), or_(e.src == me, e.dst == me)
            )
        )
        return [(r.kind, r.src[len(p) :], r.dst[len(p) :], r.since) for r in rows]

    def messages_with(
        self, tenant: str, child: str, others: Sequence[str], since: datetime
    ) -> list[MessageMeta]:
        """Metadata (no text) of messages since ``since``: by ``child``, or to it by one of ``others``."""
        m = messages.c
        senders = [child, *others]
        out: list[MessageMeta] = []
        for i in range(0, len(senders), 500):
            part = senders[i : i + 500]
            rows = self._all(
                select(m.conversation, m.sender, m.recipients, m.at).where(
                    m.tenant == tenant, m.sender.in_(part), m.at >= since
                )
            )
            for r in rows:
                to = tuple(json.loads(r.recipients))
                if r.sender == child or child in to:
                    out.append(MessageMeta(r.conversation, r.sender, to, r.at))
        return out

    def conversations_of(self, tenant: str, account: str) -> list[str]:
        """The conversations ``account`` wrote in (one index range: ``ix_sg_messages_sender``)."""
        m = messages.c
        rows = self._all(select(m.conversation).where(m.tenant == tenant, m.sender == account).distinct())
        return sorted(r[0] for r in rows)

    def alerts_about(self, tenant: str, conversations: Sequence[str], accounts: Sequence[str]) -> list[Any]:
        """Alerts in any of ``conversations`` or about any of ``accounts`` (newest first)."""
        a = t.alerts.c
        if not conversations and not accounts:
            return []
        cond = or_(a.conversation.in_(list(conversations)), a.subject.in_(list(accounts)))
        return self._all(select(t.alerts).where(a.tenant == tenant, cond).order_by(a.id.desc()).limit(200))
