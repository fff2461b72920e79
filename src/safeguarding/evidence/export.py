"""Exporting a referral from the database: hold, build, write, log, in one transaction.

Order matters. The case is put on legal hold first (logged), so the package's chain head already
covers the hold; the package is written to disk; then a ``referral_export`` entry records the package
id and the sha256 of its manifest, anchoring the package in the log. If the transaction fails after
the files were written, the files are removed: no package exists that the log does not know.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from safeguarding.errors import InputError, NotFoundError
from safeguarding.evidence.canonical import sha256_hex
from safeguarding.evidence.chain import ChainHead, EntryKind, iso
from safeguarding.evidence.package import package_files, write_package
from safeguarding.evidence.referral import (
    CaseFile,
    Participant,
    PlatformMessage,
    Priority,
    ReporterInfo,
    build_referral,
)
from safeguarding.evidence.sql import (
    SqlEvidenceLog,
    case_entries,
    chain_head,
    iter_entries,
    place_hold,
    resolve_case,
)


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    package_id: str
    manifest_sha256: str
    head: ChainHead
    entries: int
    messages: int


def read_platform_conversation(path: Path) -> tuple[str, tuple[PlatformMessage, ...]]:
    """The platform's copy of one conversation, in the ``scan`` JSONL shape (docs/scan.md), one line:
    ``{"id": str, "messages": [{"author": str, "text": str, "time": ISO-8601 with offset,
    "id": str?, "recipients": [str]?}]}``. Times must carry a zone: a court needs to know which one.
    """
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if len(lines) != 1:
        raise InputError("give exactly one conversation (one JSON line)", where=str(path))
    try:
        doc = json.loads(lines[0])
        cid = doc["id"]
        out = []
        for i, m in enumerate(doc["messages"]):
            at = datetime.fromisoformat(str(m["time"]).replace("Z", "+00:00"))
            if at.tzinfo is None:
                raise InputError(f"message {i}: time {m['time']!r} has no time zone", where=f"{path}:1")
            rec = m.get("recipients") or ()
            out.append(
                PlatformMessage(m.get("id"), at, str(m["author"]), m.get("text"), tuple(map(str, rec)))
            )
    except InputError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a conversation line: {exc}", where=f"{path}:1") from None
    if not isinstance(cid, str):
        raise InputError("conversation id must be a string", where=f"{path}:1")
    return cid, tuple(out)


def _participants(conn: object, ids: Sequence[str], chain: str | None = None) -> tuple[Participant, ...]:
    """Accounts of the case. The service stores a platform's accounts as ``<tenant>/<id>``: look both up
    and report the platform's own id."""
    from safeguarding.store.schema import accounts

    prefix = f"{chain}/" if chain else ""
    wanted = list(ids) + ([prefix + i for i in ids if not i.startswith(prefix)] if prefix else [])
    rows = conn.execute(select(accounts).where(accounts.c.id.in_(wanted))).all()  # type: ignore[attr-defined]
    seen: dict[str, Participant] = {}
    for r in rows:
        pid = r.id.removeprefix(prefix) if prefix else r.id
        seen.setdefault(
            pid, Participant(pid, r.age_band, r.assurance, r.birth_date, r.country, r.timezone, r.created_at)
        )
    return tuple(seen.values())


def export_referral(
    engine: Engine,
    case: str,
    out: Path,
    *,
    reporter: ReporterInfo,
    actor: str,
    now: datetime,
    priority: Priority | None = None,
    chain: str | None = None,
    platform_messages: Sequence[PlatformMessage] = (),
    platform_conversation: str | None = None,
    package_id: str | None = None,
) -> ExportResult:
    """Build the referral package of ``case`` (an alert key or a conversation id) into ``out``.

    ``platform_messages``: the platform's copy of the conversation (id ``platform_conversation``),
    merged with the messages preserved in the log; it must be the case's conversation.
    """
    existed = out.exists()
    try:
        return _export(
            engine, case, out, reporter, actor, now, priority or Priority(), chain,
            platform_messages, platform_conversation, package_id,
        )  # fmt: skip
    except BaseException:
        if not existed and out.exists():
            _remove(out)  # the log does not know this package: it must not exist
        raise


def _export(
    engine: Engine,
    case: str,
    out: Path,
    reporter: ReporterInfo,
    actor: str,
    now: datetime,
    priority: Priority,
    chain: str | None,
    platform_messages: Sequence[PlatformMessage],
    platform_conversation: str | None,
    package_id: str | None,
) -> ExportResult:
    with engine.begin() as conn:
        refs = resolve_case(conn, case, chain)
        if not refs:
            raise NotFoundError(f"no evidence for case {case!r} (give an alert key or a conversation id)")
        if len({r.chain for r in refs}) > 1:
            raise InputError(f"case {case!r} exists in several evidence chains; name one with --chain")
        ref = refs[0]
        subject = next((r.subject for r in refs if r.subject), None)
        if ref.conversation is None and subject is None:
            raise NotFoundError(f"case {case!r} names neither a conversation nor an account")
        if platform_conversation is not None and platform_conversation != ref.conversation:
            raise InputError(
                f"the conversation file is {platform_conversation!r}, "
                f"the case's conversation {ref.conversation!r}"
            )
        reason = f"referral of case {case}"
        if ref.conversation is not None:
            place_hold(conn, ref.chain, ref.conversation, reason=reason, actor=actor, at=now)
        if subject is not None:
            place_hold(conn, ref.chain, subject, reason=reason, actor=actor, at=now, account=True)
        first = case_entries(conn, ref.chain, conversation=ref.conversation, subject=subject)
        accounts = {subject} if subject else set()
        for e in first:
            data = e.data()
            if e.kind == EntryKind.MESSAGE and isinstance(data, dict):
                accounts.add(str(data.get("sender")))
                recipients = data.get("recipients")
                accounts.update(x for x in recipients if isinstance(x, str)) if isinstance(
                    recipients, list
                ) else None
        accounts.update(m.sender for m in platform_messages)
        accounts.update(r for m in platform_messages for r in m.recipients)
        account_ids = tuple(sorted(a for a in accounts if a))
        entries = case_entries(
            conn, ref.chain, conversation=ref.conversation, subject=subject, accounts=account_ids
        )
        head = chain_head(conn, ref.chain)
        assert head is not None and entries  # the hold entries were just appended
        segment = tuple(iter_entries(conn, ref.chain, from_seq=entries[0].seq))
        case_file = CaseFile(
            case=case,
            chain=ref.chain,
            conversation=ref.conversation,
            subject=subject,
            entries=tuple(entries),
            segment=segment,
            head=head,
            participants=_participants(conn, account_ids, ref.chain),
            platform_messages=tuple(platform_messages),
        )
        pid = package_id or f"{now.strftime('%Y%m%dT%H%M%SZ')}-{sha256_hex(f'{case}|{head.hash}')[:12]}"
        referral = build_referral(case_file, reporter, package_id=pid, created_at=now, priority=priority)
        files = package_files(referral)
        write_package(files, out)
        manifest_sha = sha256_hex(files["manifest.json"])
        SqlEvidenceLog(conn, ref.chain).append(
            EntryKind.REFERRAL_EXPORT,
            {
                "package_id": pid,
                "manifest_sha256": manifest_sha,
                "chain_head": head.as_json(),
                "conversation": ref.conversation,
                "subject": subject,
                "ref": case,
                "imminent_danger": priority.imminent_danger,
                "actor": actor,
                "exported_at": iso(now),
            },
            at=now,
        )
    messages = referral.conversation.get("messages")
    return ExportResult(
        out, pid, manifest_sha, head, len(entries), len(messages) if isinstance(messages, list) else 0
    )


def _remove(out: Path) -> None:
    if out.is_dir():
        shutil.rmtree(out, ignore_errors=True)
    else:
        out.unlink(missing_ok=True)
