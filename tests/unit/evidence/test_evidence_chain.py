"""The hash chain: sealing, canonical bytes, and verification naming the first broken entry."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import replace
from datetime import timedelta

import pytest
from evidence_helpers import T0, grooming_outcome, record_case

from safeguarding.evidence import (
    GENESIS,
    EntryKind,
    MemoryEvidenceLog,
    canonical_json,
    record_outcome,
    sha256_hex,
    verify_entries,
)
from safeguarding.evidence.canonical import chain_hash


def test_canonical_json_is_sorted_compact_utf8_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_entry_hash_is_sha256_of_prev_hex_then_envelope_as_a_shell_reproduces_it() -> None:
    log = MemoryEvidenceLog("acme")
    e = log.append(EntryKind.ACTION, {"action": "warn", "actor": "mod"}, at=T0)
    assert e.seq == 1 and e.prev_hash == GENESIS
    assert e.hash == hashlib.sha256((GENESIS + e.envelope()).encode()).hexdigest()
    shell = subprocess.run(
        ["sh", "-c", 'printf "%s%s" "$0" "$1" | sha256sum', GENESIS, e.envelope()],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shell.stdout.split()[0] == e.hash
    assert e.payload_sha256 == sha256_hex(e.payload or "")
    assert '"payload_sha256"' in e.envelope() and '"actor"' not in e.envelope()


def test_a_recorded_case_verifies_and_reports_its_head() -> None:
    log = MemoryEvidenceLog("acme")
    record_case(log)
    result = verify_entries(log.entries)
    assert result.ok and result.checked == len(log.entries) and result.purged == 0
    assert result.heads[0].seq == len(log.entries) and result.heads[0].hash == log.entries[-1].hash
    assert [e.seq for e in log.entries] == list(range(1, len(log.entries) + 1))


def test_record_outcome_keeps_alerts_and_non_allow_decisions_and_skips_duplicates() -> None:
    log = MemoryEvidenceLog()
    out = record_outcome(log, grooming_outcome(), actor="engine", at=T0, conversation="c1", subject="m1")
    assert [e.kind for e in out] == ["alert", "decision"]
    alert = out[0].data()
    assert isinstance(alert, dict) and alert["ref"] == "e3:0" and alert["risk"] == 0.91
    assert (out[0].conversation, out[0].subject, out[0].ref) == ("c1", "m1", "e3:0")
    dup = replace(grooming_outcome(), duplicate=True)
    assert record_outcome(log, dup, actor="engine", at=T0) == []


@pytest.mark.parametrize(
    ("what", "broken_at", "reason"),
    [
        ("payload", 4, "payload altered"),
        ("time", 4, "hash does not match"),
        ("hash", 4, "hash does not match"),
        ("prev", 4, "prev_hash"),
        ("keys", 4, "lookup keys"),
        ("delete", 4, "entry missing"),
        ("clear", 4, "outside a retention purge"),
    ],
)
def test_tampering_names_the_first_broken_entry(what: str, broken_at: int, reason: str) -> None:
    log = MemoryEvidenceLog("acme")
    record_case(log)
    entries = list(log.entries)
    e = entries[3]
    if what == "payload":
        entries[3] = replace(e, payload=(e.payload or "").replace("tell", "TELL").replace("0.91", "0.11"))
    elif what == "time":
        entries[3] = replace(e, at=e.at + timedelta(seconds=1))
    elif what == "hash":
        entries[3] = replace(e, hash="f" * 64)
    elif what == "prev":
        entries[3] = replace(e, prev_hash="0" * 64)
    elif what == "keys":
        entries[3] = replace(e, conversation="other")
    elif what == "delete":
        del entries[3]
    elif what == "clear":
        entries[3] = replace(e, payload=None)
    result = verify_entries(entries)
    assert not result.ok
    first = result.first_break
    assert first is not None and first.seq == broken_at and reason in first.reason, result.breaks


def test_cleared_payloads_verify_when_a_purge_entry_covers_them() -> None:
    log = MemoryEvidenceLog("acme")
    record_case(log)
    log.redact([1, 2, 3])
    assert not verify_entries(log.entries).ok
    log.append(EntryKind.RETENTION_PURGE, {"cleared": [[1, 3]], "count": 3}, at=T0)
    result = verify_entries(log.entries)
    assert result.ok and result.purged == 3


def test_chains_are_verified_independently() -> None:
    a, b = MemoryEvidenceLog("a"), MemoryEvidenceLog("b")
    record_case(a)
    record_case(b, conversation="c2")
    result = verify_entries([*a.entries, *b.entries])
    assert result.ok and [h.chain for h in result.heads] == ["a", "b"]
    assert chain_hash(GENESIS, b.entries[0].envelope()) == b.entries[0].hash != a.entries[0].hash
