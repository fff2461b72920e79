"""The hash chain: entries, sealing, the :class:`EvidenceLog` protocol and verification.

Each entry's hash is ``sha256(prev_hash || canonical_json(envelope))`` where the envelope is
``{"v", "chain", "seq", "at", "kind", "payload_sha256"}``. Why an envelope instead of hashing the
payload itself: retention must be able to *remove* personal data (message text, identifiers) from old
entries that are not on legal hold without breaking the chain. A purge clears the payload and keeps
``payload_sha256``, so the chain still verifies and still proves the entry existed, when, and of what
kind. A purge is itself an entry (``retention_purge``) naming the sequence numbers it cleared, so a
payload removed *outside* a purge is reported as tampering.

A chain is keyed by name (the service uses one per tenant), numbered from 1 without gaps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple, Protocol

from safeguarding.evidence.canonical import GENESIS, JsonValue, canonical_json, chain_hash, sha256_hex

ENVELOPE_VERSION = 1


class EntryKind(StrEnum):
    ALERT = "alert"
    """The engine raised an alert (``ref`` is the alert key ``<event id>:<n>``)."""
    DECISION = "decision"
    """A contact decision other than a plain allow."""
    ACTION = "action"
    """A moderator action: dismiss, warn, restrict, suspend, escalate, appeal decisions."""
    MESSAGE = "message"
    """A preserved message of a case (text, time, participants)."""
    IP_CAPTURE = "ip_capture"
    """An IP address the platform supplied for an account (login, registration, upload ...)."""
    LEGAL_HOLD = "legal_hold"
    HOLD_RELEASED = "hold_released"
    REFERRAL_EXPORT = "referral_export"
    """A referral package was built (payload: package id, manifest sha256, chain head)."""
    FAMILY = "family"
    """A parent link made or ended, a parent's approval or refusal of a contact (who did it)."""
    RETENTION_PURGE = "retention_purge"
    """Payloads cleared by retention (payload: the sequence ranges); never purged itself."""


REFERENCE_KINDS = frozenset({EntryKind.LEGAL_HOLD, EntryKind.HOLD_RELEASED, EntryKind.REFERRAL_EXPORT})
"""Kinds kept as report references (five years by default) rather than as case evidence."""


def iso(at: datetime) -> str:
    """A time as the log writes it: UTC, microseconds, ``Z`` suffix (one spelling per instant)."""
    if at.tzinfo is None:
        raise ValueError("evidence times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class EvidenceEntry:
    """One sealed entry. ``payload`` is the canonical JSON that was hashed, None once purged.

    ``conversation``, ``subject`` and ``ref`` are lookup keys copied out of the payload (so a case can be
    found without reading every payload); verification checks they still match it.
    """

    chain: str
    seq: int
    at: datetime
    kind: str
    payload: str | None
    payload_sha256: str
    prev_hash: str
    hash: str
    conversation: str | None = None
    subject: str | None = None
    ref: str | None = None

    def envelope(self) -> str:
        return envelope_json(self.chain, self.seq, self.at, self.kind, self.payload_sha256)

    def data(self) -> JsonValue:
        """The payload parsed, or None when purged."""
        return None if self.payload is None else json.loads(self.payload)

    def public(self, *, with_payload: bool) -> dict[str, JsonValue]:
        """The entry as written into a referral package (``with_payload`` False: the envelope only)."""
        out: dict[str, JsonValue] = {
            "chain": self.chain,
            "seq": self.seq,
            "at": iso(self.at),
            "kind": self.kind,
            "payload_sha256": self.payload_sha256,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }
        if with_payload:
            out["payload"] = self.payload
        return out


def envelope_json(chain: str, seq: int, at: datetime, kind: str, payload_sha256: str) -> str:
    return canonical_json(
        {
            "v": ENVELOPE_VERSION,
            "chain": chain,
            "seq": seq,
            "at": iso(at),
            "kind": kind,
            "payload_sha256": payload_sha256,
        }
    )


def keys_of(payload: JsonValue) -> tuple[str | None, str | None, str | None]:
    """The lookup keys ``(conversation, subject, ref)`` a payload names (strings or None)."""
    if not isinstance(payload, dict):
        return None, None, None

    def get(name: str) -> str | None:
        v = payload.get(name)
        return v if isinstance(v, str) else None

    return get("conversation"), get("subject"), get("ref")


def seal(chain: str, seq: int, prev_hash: str, at: datetime, kind: str, payload: JsonValue) -> EvidenceEntry:
    """Make entry ``seq`` of ``chain`` after an entry whose hash is ``prev_hash``."""
    text = canonical_json(payload)
    digest = sha256_hex(text)
    at = datetime.fromisoformat(iso(at))  # the stored precision, so the entry re-hashes after a round trip
    conversation, subject, ref = keys_of(payload)
    h = chain_hash(prev_hash, envelope_json(chain, seq, at, kind, digest))
    return EvidenceEntry(chain, seq, at, kind, text, digest, prev_hash, h, conversation, subject, ref)


class EntryDraft(NamedTuple):
    """An entry to append, before it is sealed: what :meth:`EvidenceLog.append_many` takes."""

    kind: str
    payload: JsonValue
    at: datetime


def seal_after(chain: str, head: ChainHead | None, drafts: Iterable[EntryDraft]) -> list[EvidenceEntry]:
    """Seal ``drafts`` in order as the entries that follow ``head`` (None: an empty chain)."""
    seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS)
    out: list[EvidenceEntry] = []
    for d in drafts:
        seq += 1
        entry = seal(chain, seq, prev, d.at, d.kind, d.payload)
        out.append(entry)
        prev = entry.hash
    return out


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest entry of a chain: anchoring ``(seq, hash)`` outside the database (a referral package,
    a ticket, an e-mail) makes later truncation or rewriting of the chain detectable."""

    chain: str
    seq: int
    hash: str

    def as_json(self) -> dict[str, JsonValue]:
        return {"chain": self.chain, "seq": self.seq, "hash": self.hash}


@dataclass(frozen=True, slots=True)
class Break:
    """Why entry ``seq`` of ``chain`` fails verification."""

    chain: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"chain {self.chain!r} entry {self.seq}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int
    purged: int
    heads: tuple[ChainHead, ...]
    breaks: tuple[Break, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        return min(self.breaks, key=lambda b: (b.chain, b.seq)) if self.breaks else None


class EvidenceLog(Protocol):
    """Where evidence is appended. The SQL log appends in the caller's transaction."""

    @property
    def chain(self) -> str: ...

    def append(self, kind: str, payload: JsonValue, *, at: datetime) -> EvidenceEntry:
        """Seal ``payload`` as the next entry and store it; returns the sealed entry."""
        ...

    def append_many(self, drafts: Iterable[EntryDraft]) -> list[EvidenceEntry]:
        """Seal ``drafts`` in order as the next entries and store them together; returns them sealed.

        The same chain as appending them one by one, written at once (the SQL log: one insert).
        """
        ...

    def head(self) -> ChainHead | None:
        """The newest entry, or None for an empty chain."""
        ...


@dataclass
class MemoryEvidenceLog:
    """An in-memory :class:`EvidenceLog` for tests and for building packages without a database."""

    chain: str = "default"
    entries: list[EvidenceEntry] = field(default_factory=list)

    def append(self, kind: str, payload: JsonValue, *, at: datetime) -> EvidenceEntry:
        prev = self.entries[-1].hash if self.entries else GENESIS
        entry = seal(self.chain, len(self.entries) + 1, prev, at, kind, payload)
        self.entries.append(entry)
        return entry

    def append_many(self, drafts: Iterable[EntryDraft]) -> list[EvidenceEntry]:
        entries = seal_after(self.chain, self.head(), drafts)
        self.entries.extend(entries)
        return entries

    def head(self) -> ChainHead | None:
        last = self.entries[-1] if self.entries else None
        return ChainHead(self.chain, last.seq, last.hash) if last else None

    def redact(self, seqs: Iterable[int]) -> None:
        """Clear payloads as a retention purge does (the purge entry is the caller's to append)."""
        for s in seqs:
            e = self.entries[s - 1]
            self.entries[s - 1] = replace(e, payload=None, conversation=None, subject=None, ref=None)


@dataclass
class _ChainState:
    prev_seq: int = 0
    prev_hash: str = GENESIS
    cleared: list[int] = field(default_factory=list)
    purge_ranges: list[tuple[int, int]] = field(default_factory=list)


class Verifier:
    """Checks entries fed in ``(chain, seq)`` order; keeps O(1) state per chain besides purge ranges.

    For every entry: the sequence continues without a gap, ``prev_hash`` is the previous entry's hash,
    the hash recomputes from the envelope, the payload (when present) hashes to ``payload_sha256`` and
    its lookup keys match the row. A cleared payload must be covered by a ``retention_purge`` entry.
    """

    def __init__(self) -> None:
        self._chains: dict[str, _ChainState] = {}
        self._breaks: list[Break] = []
        self.checked = 0
        self.purged = 0

    def feed(self, e: EvidenceEntry) -> None:
        st = self._chains.setdefault(e.chain, _ChainState())
        self.checked += 1
        if e.seq != st.prev_seq + 1:
            self._breaks.append(Break(e.chain, st.prev_seq + 1, f"entry missing (next stored is {e.seq})"))
        elif problem := self._check(st, e):
            self._breaks.append(Break(e.chain, e.seq, problem))
        st.prev_seq, st.prev_hash = e.seq, e.hash

    def _check(self, st: _ChainState, e: EvidenceEntry) -> str | None:
        if e.prev_hash != st.prev_hash:
            return "prev_hash does not match the previous entry's hash"
        if chain_hash(e.prev_hash, e.envelope()) != e.hash:
            return "hash does not match the entry (time, kind, or payload hash altered)"
        if e.payload is None:
            self.purged += 1
            if st.cleared and st.cleared[-1] == e.seq - 1 and len(st.cleared) % 2 == 0:
                st.cleared[-1] = e.seq  # extend the current range [start, end]
            else:
                st.cleared.extend((e.seq, e.seq))
            return None
        if sha256_hex(e.payload) != e.payload_sha256:
            return "payload altered (sha256 differs)"
        data = json.loads(e.payload)
        if keys_of(data) != (e.conversation, e.subject, e.ref):
            return "lookup keys (conversation, subject, ref) do not match the payload"
        if e.kind == EntryKind.RETENTION_PURGE and isinstance(data, dict):
            for r in data.get("cleared", []) if isinstance(data.get("cleared"), list) else []:
                if isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) for x in r):
                    st.purge_ranges.append((int(r[0]), int(r[1])))
        return None

    def result(self) -> Verification:
        breaks = list(self._breaks)
        for name, st in self._chains.items():
            pairs = zip(st.cleared[::2], st.cleared[1::2], strict=True)
            for start, end in pairs:
                for s in range(start, end + 1):
                    if not any(a <= s <= b for a, b in st.purge_ranges):
                        breaks.append(Break(name, s, "payload removed outside a retention purge"))
                        break
        heads = tuple(ChainHead(n, st.prev_seq, st.prev_hash) for n, st in sorted(self._chains.items()))
        breaks.sort(key=lambda b: (b.chain, b.seq))
        return Verification(self.checked, self.purged, heads, tuple(breaks))


def verify_entries(entries: Iterable[EvidenceEntry]) -> Verification:
    """Verify entries given in ``(chain, seq)`` order (see :class:`Verifier`)."""
    v = Verifier()
    for e in entries:
        v.feed(e)
    return v.result()
