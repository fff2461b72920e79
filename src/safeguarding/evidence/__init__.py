"""Tamper-evident evidence: a hash-chained append-only log, retention with legal holds, referrals.

Pure core (no SQL, no web): :mod:`.canonical`, :mod:`.chain`, :mod:`.record`, :mod:`.retention`,
:mod:`.referral`, :mod:`.package`. Adapters: :mod:`.sql` (the log and holds in the database) and
:mod:`.export` (a referral from the database). Format and rules: ``docs/evidence.md``.

Nothing heavy is imported here; the SQL adapter is imported from :mod:`safeguarding.evidence.sql`.
"""

from safeguarding.evidence.canonical import GENESIS, JsonValue, canonical_json, chain_hash, sha256_hex
from safeguarding.evidence.chain import (
    Break,
    ChainHead,
    EntryDraft,
    EntryKind,
    EvidenceEntry,
    EvidenceLog,
    MemoryEvidenceLog,
    Verification,
    Verifier,
    seal,
    verify_entries,
)
from safeguarding.evidence.package import PackageCheck, package_files, verify_package, write_package
from safeguarding.evidence.record import (
    IpCapture,
    ModerationAction,
    record_action,
    record_ip_captures,
    record_messages,
    record_outcome,
)
from safeguarding.evidence.referral import (
    CaseFile,
    Participant,
    PlatformMessage,
    Priority,
    Referral,
    ReporterInfo,
    build_referral,
)
from safeguarding.evidence.retention import LegalHold, PurgePlan, RetentionItem, RetentionPolicy, plan_purge

__all__ = [
    "GENESIS",
    "Break",
    "CaseFile",
    "ChainHead",
    "EntryDraft",
    "EntryKind",
    "EvidenceEntry",
    "EvidenceLog",
    "IpCapture",
    "JsonValue",
    "LegalHold",
    "MemoryEvidenceLog",
    "ModerationAction",
    "PackageCheck",
    "Participant",
    "PlatformMessage",
    "Priority",
    "PurgePlan",
    "Referral",
    "ReporterInfo",
    "RetentionItem",
    "RetentionPolicy",
    "Verification",
    "Verifier",
    "build_referral",
    "canonical_json",
    "chain_hash",
    "package_files",
    "plan_purge",
    "record_action",
    "record_ip_captures",
    "record_messages",
    "record_outcome",
    "seal",
    "sha256_hex",
    "verify_entries",
    "verify_package",
    "write_package",
]
