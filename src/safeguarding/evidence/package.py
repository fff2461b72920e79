"""Referral packages on disk: a folder or a zip of report, conversation, evidence and a manifest.

``manifest.json`` lists every other file with its sha256 and size, and the evidence chain head.
:func:`verify_package` checks, without any database:

1. every listed file is present with that sha256 and size, and no file is unlisted;
2. ``report.json`` and ``evidence.json`` name the same chain head as the manifest;
3. the evidence segment is a contiguous hash chain ending at that head (each hash recomputed);
4. every case entry in ``evidence.json`` has a payload whose sha256 is the one the segment sealed.

Anchoring the head elsewhere (the authority's ticket, the ``referral_export`` entry in the log) then
proves the package came from an unbroken log. ``safeguarding evidence verify`` checks the log itself.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from safeguarding.errors import InputError
from safeguarding.evidence.canonical import JsonValue, chain_hash, sha256_hex
from safeguarding.evidence.chain import ChainHead, envelope_json
from safeguarding.evidence.referral import Referral

MANIFEST_FORMAT = "safeguarding.referral.manifest/1"
FILES = ("report.json", "conversation.json", "evidence.json")


def _dump(value: JsonValue) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def package_files(referral: Referral) -> dict[str, bytes]:
    """The package's files by name, manifest included (its own hash is the package's fingerprint)."""
    files = {
        "report.json": _dump(referral.report),
        "conversation.json": _dump(referral.conversation),
        "evidence.json": _dump(referral.evidence),
    }
    manifest: dict[str, JsonValue] = {
        "format": MANIFEST_FORMAT,
        "package_id": referral.package_id,
        "created_at": referral.report["created_at"],
        "chain_head": referral.head.as_json(),
        "files": [{"path": n, "sha256": sha256_hex(b), "bytes": len(b)} for n, b in sorted(files.items())],
    }
    files["manifest.json"] = _dump(manifest)
    return files


def write_package(files: dict[str, bytes], out: Path) -> Path:
    """Write to ``out``: a zip when it ends in ``.zip``, else a new (or empty) folder.

    Written to a temporary name first and renamed, so an interrupted export leaves no half package.
    """
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".zip":
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".referral-", suffix=".zip")
        os.close(fd)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        os.replace(tmp, out)
        return out
    tmpdir = Path(tempfile.mkdtemp(dir=out.parent, prefix=".referral-"))
    for name, data in files.items():
        (tmpdir / name).write_bytes(data)
    if out.exists():
        out.rmdir()
    os.replace(tmpdir, out)
    return out


def read_package(path: Path) -> dict[str, bytes]:
    """Every file of a package folder or zip, by name (folders are not descended)."""
    if not path.exists():
        raise InputError(f"{path}: no such package")
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
    try:
        with zipfile.ZipFile(path) as z:
            return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    except zipfile.BadZipFile:
        raise InputError(f"{path}: not a folder or a zip file") from None


@dataclass(frozen=True, slots=True)
class PackageCheck:
    problems: tuple[str, ...]
    head: ChainHead | None
    files: int

    @property
    def ok(self) -> bool:
        return not self.problems


def _json(files: dict[str, bytes], name: str, problems: list[str]) -> dict[str, JsonValue]:
    try:
        value = json.loads(files[name])
    except KeyError:
        problems.append(f"{name} is missing")
        return {}
    except ValueError as exc:
        problems.append(f"{name} is not JSON: {exc}")
        return {}
    if not isinstance(value, dict):
        problems.append(f"{name} is not a JSON object")
        return {}
    return value


def _head(value: JsonValue) -> ChainHead | None:
    if isinstance(value, dict):
        c, s, h = value.get("chain"), value.get("seq"), value.get("hash")
        if isinstance(c, str) and isinstance(s, int) and isinstance(h, str):
            return ChainHead(c, s, h)
    return None


def verify_package(path: Path) -> PackageCheck:
    """Check a package's hashes and evidence chain (see the module docstring); never raises on tampering."""
    files = read_package(path)
    problems: list[str] = []
    manifest = _json(files, "manifest.json", problems)
    if not manifest:
        return PackageCheck(tuple(problems), None, len(files))
    if manifest.get("format") != MANIFEST_FORMAT:
        problems.append(f"manifest.json: unknown format {manifest.get('format')!r}")
    listed: set[str] = set()
    entries = manifest.get("files")
    for f in entries if isinstance(entries, list) else []:
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            problems.append("manifest.json: malformed file entry")
            continue
        name = str(f["path"])
        listed.add(name)
        if name not in files:
            problems.append(f"{name}: listed in the manifest but missing")
        elif sha256_hex(files[name]) != f.get("sha256"):
            problems.append(f"{name}: sha256 differs from the manifest (file altered)")
        elif len(files[name]) != f.get("bytes"):
            problems.append(f"{name}: size differs from the manifest")
    for name in sorted(set(files) - listed - {"manifest.json"}):
        problems.append(f"{name}: not listed in the manifest")
    for name in FILES:
        if name not in listed:
            problems.append(f"{name}: required file not listed in the manifest")
    head = _head(manifest.get("chain_head"))
    if head is None:
        problems.append("manifest.json: chain_head missing or malformed")
    report = _json(files, "report.json", problems)
    evidence = _json(files, "evidence.json", problems)
    rep_ev = report.get("evidence")
    if head and (not isinstance(rep_ev, dict) or _head(rep_ev.get("chain_head")) != head):
        problems.append("report.json: chain head differs from the manifest")
    if head and _head(evidence.get("chain_head")) != head:
        problems.append("evidence.json: chain head differs from the manifest")
    if head:
        problems.extend(_check_segment(evidence, head))
    problems.extend(_check_conversation(_json(files, "conversation.json", problems), evidence))
    return PackageCheck(tuple(problems), head, len(files))


def _check_segment(evidence: dict[str, JsonValue], head: ChainHead) -> list[str]:
    """Recompute the segment's hashes up to the head and tie each case entry's payload to it."""
    problems: list[str] = []
    segment = evidence.get("segment")
    if not isinstance(segment, list) or not segment:
        return ["evidence.json: no chain segment"]
    sealed: dict[int, str] = {}
    prev_seq: int | None = None
    prev_hash: str | None = None
    for raw in segment:
        try:
            assert isinstance(raw, dict)
            seq, ph, h, kind, psha = (
                raw["seq"],
                raw["prev_hash"],
                raw["hash"],
                raw["kind"],
                raw["payload_sha256"],
            )
            at = datetime.fromisoformat(str(raw["at"]))
            assert isinstance(seq, int) and isinstance(ph, str) and isinstance(h, str)
            assert isinstance(kind, str) and isinstance(psha, str) and raw.get("chain") == head.chain
        except (AssertionError, KeyError, ValueError):
            return [*problems, "evidence.json: malformed segment entry"]
        if prev_seq is not None and (seq != prev_seq + 1 or ph != prev_hash):
            problems.append(f"evidence entry {seq}: does not follow entry {prev_seq}")
        if chain_hash(ph, envelope_json(head.chain, seq, at, kind, psha)) != h:
            problems.append(f"evidence entry {seq}: hash does not match its envelope")
        sealed[seq] = psha
        prev_seq, prev_hash = seq, h
    if (prev_seq, prev_hash) != (head.seq, head.hash):
        problems.append("evidence.json: the segment does not end at the chain head")
    case_entries = evidence.get("entries")
    for raw in case_entries if isinstance(case_entries, list) else []:
        if not isinstance(raw, dict) or not isinstance(raw.get("seq"), int):
            problems.append("evidence.json: malformed case entry")
            continue
        seq = int(raw["seq"])  # type: ignore[arg-type]
        payload = raw.get("payload")
        if seq not in sealed:
            problems.append(f"evidence entry {seq}: not in the chain segment")
        elif isinstance(payload, str) and sha256_hex(payload) != sealed[seq]:
            problems.append(f"evidence entry {seq}: payload altered (sha256 differs from the chain)")
    return problems


def _check_conversation(conversation: dict[str, JsonValue], evidence: dict[str, JsonValue]) -> list[str]:
    """Each message taken from the evidence log must say what its (sealed) log entry says."""
    payloads: dict[int, JsonValue] = {}
    raw_entries = evidence.get("entries")
    for raw in raw_entries if isinstance(raw_entries, list) else []:
        if isinstance(raw, dict) and isinstance(raw.get("seq"), int) and isinstance(raw.get("payload"), str):
            payloads[int(raw["seq"])] = json.loads(str(raw["payload"]))  # type: ignore[arg-type]
    problems = []
    messages = conversation.get("messages")
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, dict) or m.get("source") != "evidence":
            continue
        seq = m.get("evidence_seq")
        data = payloads.get(seq) if isinstance(seq, int) else None
        if not isinstance(data, dict) or any(
            m.get(k) != data.get(k) for k in ("sender", "sent_at", "text", "recipients")
        ):
            problems.append(f"conversation.json: message {m.get('index')} differs from evidence entry {seq}")
    return problems
