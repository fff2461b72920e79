"""``safeguarding evidence|referral|retention|feedback``: the commands over what the service records.

Thin like :mod:`safeguarding.cli` (which registers these groups on ``main``): parse arguments, call the
library, print counts and hashes — never message text. Formats and rules: ``docs/evidence.md``,
``docs/console.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from safeguarding.cli_errors import handle_errors

__all__ = ["evidence_group", "feedback_group", "referral_group", "retention_group"]

_DB_HELP = "Database URL (default: SAFEGUARDING_DATABASE_URL, else sqlite:///safeguarding.db)."


def _evidence_engine(url: str | None):  # type: ignore[no-untyped-def]
    """An engine on an up-to-date database (the evidence tables come with the migrations)."""
    from safeguarding.settings import load_settings
    from safeguarding.store import upgrade_database
    from safeguarding.store.sql import create_db_engine

    settings = load_settings(database_url=url)
    upgrade_database(settings.database_url)
    return create_db_engine(settings.database_url)


@click.group("evidence")
def evidence_group() -> None:
    """The hash-chained evidence log of alerts, decisions, moderator actions and exports."""


@evidence_group.command("verify")
@click.option("--db", "url", help=_DB_HELP)
@click.option("--chain", help="Verify one chain only (default: all).")
@handle_errors
def evidence_verify(url: str | None, chain: str | None) -> None:
    """Recompute every entry's hash; exit 1 naming the first broken entry, else print each chain's head."""
    from safeguarding.evidence.sql import verify_log

    engine = _evidence_engine(url)
    try:
        with engine.connect() as conn:
            result = verify_log(conn, chain)
    finally:
        engine.dispose()
    for h in result.heads:
        click.echo(f"chain {h.chain}: head {h.seq} {h.hash}")
    if not result.ok:
        for b in result.breaks[:20]:
            click.echo(f"BROKEN: {b}", err=True)
        first = result.first_break
        click.echo(f"evidence log FAILED verification: first broken entry {first}", err=True)
        sys.exit(1)
    click.echo(f"ok: {result.checked} entries verified ({result.purged} purged by retention)")


@evidence_group.command("holds")
@click.option("--db", "url", help=_DB_HELP)
@click.option("--chain", help="One platform's holds only (default: all).")
@handle_errors
def evidence_holds(url: str | None, chain: str | None) -> None:
    """List legal holds: id, platform, case, placed, released, and until when the data stays protected."""
    from safeguarding.evidence.config import load_retention
    from safeguarding.evidence.sql import holds

    policy = load_retention()
    engine = _evidence_engine(url)
    try:
        with engine.connect() as conn:
            found = holds(conn, chain)
    finally:
        engine.dispose()
    for h in found:
        until = h.protects_until(policy)
        kind = "account" if h.account else "conversation"
        click.echo(
            f"{h.id}\t{h.chain}\t{kind} {h.case}\tplaced {h.placed_at.isoformat()} by {h.placed_by}\t"
            + (f"released {h.released_at.isoformat()} by {h.released_by}\t" if h.released_at else "active\t")
            + f"protected until {until.isoformat() if until else 'released (indefinitely while active)'}"
        )
    click.echo(f"{len(found)} hold(s)")


@evidence_group.command("release-hold")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="Why the hold ends (recorded in the evidence log).")
@click.option("--actor", required=True, help="Who releases it (recorded in the evidence log).")
@click.option("--db", "url", help=_DB_HELP)
@handle_errors
def evidence_release_hold(hold_id: int, reason: str, actor: str, url: str | None) -> None:
    """Release a legal hold. Its data stays protected until the minimum hold period has passed."""
    from datetime import UTC, datetime

    from safeguarding.evidence.config import load_retention
    from safeguarding.evidence.sql import release_hold

    engine = _evidence_engine(url)
    try:
        with engine.begin() as conn:
            h = release_hold(conn, hold_id, actor=actor, at=datetime.now(UTC), reason=reason)
    finally:
        engine.dispose()
    until = h.protects_until(load_retention())
    click.echo(f"released hold {h.id} on {h.case}; protected until {until.isoformat() if until else 'now'}")


@click.group("referral")
def referral_group() -> None:
    """Referral packages for law enforcement (NCMEC CyberTipline, UK NCA)."""


@referral_group.command("export")
@click.argument("case")
@click.option("--db", "url", required=True, help="Database URL holding the evidence log.")
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="Package folder (new or empty), or a file ending in .zip.")  # fmt: skip
@click.option("--chain", help="Evidence chain (tenant) when CASE is in several.")
@click.option(
    "--imminent-danger", "danger", metavar="REASON", help="Flag the referral as urgent, saying why."
)
@click.option("--conversation", "conv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The platform's copy of the conversation (one JSONL line, times with zone).")  # fmt: skip
@click.option("--actor", default="cli", show_default=True, help="Who exports (recorded in the log).")
@handle_errors
def referral_export(
    case: str,
    url: str,
    out: Path,
    chain: str | None,
    danger: str | None,
    conv_file: Path | None,
    actor: str,
) -> None:
    """Build the referral package of CASE (an alert key ``<event id>:<n>`` or a conversation id).

    The case is put on legal hold and the export is recorded in the evidence log. Reporter details come
    from SAFEGUARDING_REPORTER_COMPANY, _FIRST_NAME, _LAST_NAME, _EMAIL (and optional _PHONE, _COUNTRY,
    _TERMS_OF_SERVICE_URL, _PLATFORM).
    """
    from datetime import UTC, datetime

    from safeguarding.evidence.config import load_reporter
    from safeguarding.evidence.export import export_referral, read_platform_conversation
    from safeguarding.evidence.referral import Priority

    reporter = load_reporter()
    cid, msgs = read_platform_conversation(conv_file) if conv_file else (None, ())
    engine = _evidence_engine(url)
    try:
        res = export_referral(
            engine, case, out, reporter=reporter, actor=actor, now=datetime.now(UTC),
            priority=Priority(danger is not None, danger), chain=chain,
            platform_messages=msgs, platform_conversation=cid,
        )  # fmt: skip
    finally:
        engine.dispose()
    click.echo(f"wrote {res.path}: {res.messages} messages, {res.entries} evidence entries")
    click.echo(f"package {res.package_id} manifest sha256 {res.manifest_sha256}")
    click.echo(f"chain {res.head.chain} head {res.head.seq} {res.head.hash}")


@referral_group.command("verify")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@handle_errors
def referral_verify(package: Path) -> None:
    """Check every file's sha256 against the manifest and the evidence chain up to its head."""
    from safeguarding.evidence.package import verify_package

    check = verify_package(package)
    if not check.ok:
        for p in check.problems:
            click.echo(f"FAILED: {p}", err=True)
        sys.exit(1)
    head = check.head
    assert head is not None
    click.echo(f"ok: {check.files} files, chain {head.chain} head {head.seq} {head.hash}")


@click.group("retention")
def retention_group() -> None:
    """Retention of evidence: purge what is past its time unless it is on legal hold."""


@retention_group.command("run")
@click.option("--db", "url", help=_DB_HELP)
@click.option("--dry-run", is_flag=True, help="Report what would be removed; change nothing.")
@click.option(
    "--evidence-days", type=click.IntRange(1), help="Override SAFEGUARDING_RETENTION_EVIDENCE_DAYS."
)
@handle_errors
def retention_run(url: str | None, dry_run: bool, evidence_days: int | None) -> None:
    """Purge unheld data older than the retention period and report what was removed, per table.

    Evidence entries keep their place in the chain (their payloads are cleared); message text
    (sg_messages) and stored referral packages (sg_referral_packages) are deleted. Legal holds protect
    a held case's conversation, messages and packages.
    """
    from datetime import UTC, datetime

    from safeguarding.evidence.config import load_retention
    from safeguarding.store.retention import run_all

    policy = load_retention(evidence_days=evidence_days)
    engine = _evidence_engine(url)
    try:
        with engine.begin() as conn:
            report = run_all(conn, policy, datetime.now(UTC), dry_run=dry_run)
    finally:
        engine.dispose()
    for line in report.lines():
        click.echo(line)


@click.group("feedback")
def feedback_group() -> None:
    """Moderators' decisions as labelled conversations for training (docs/console.md)."""


@feedback_group.command("export")
@click.option("--db", "url", help=_DB_HELP)
@click.option("--tenant", help="One platform only (default: every platform).")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file to write (the scan contract's conversation lines, with a label).")  # fmt: skip
@handle_errors
def feedback_export(url: str | None, tenant: str | None, out: Path) -> None:
    """Write dismissed cases as ``benign`` and confirmed or escalated grooming cases as ``grooming``.

    For ``safeguarding train DATA_DIR --feedback FILE``. The file holds message text: keep it as you
    keep the database. Only counts are printed.
    """
    from safeguarding.store.feedback import export_feedback

    engine = _evidence_engine(url)
    try:
        with engine.connect() as conn:
            counts = export_feedback(conn, out, tenant=tenant)
    finally:
        engine.dispose()
    click.echo(
        f"wrote {counts.get('benign', 0) + counts.get('grooming', 0)} conversations to {out}: "
        f"{counts.get('benign', 0)} benign, {counts.get('grooming', 0)} grooming "
        f"({counts.get('skipped', 0)} cases without message text skipped)"
    )
