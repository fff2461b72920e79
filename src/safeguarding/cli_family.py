"""``safeguarding family``: the families' scheduled job (weekly summaries by email)."""

from __future__ import annotations

import json

import click

from safeguarding.cli_errors import handle_errors


@click.group("family")
def family_group() -> None:
    """Families: parents' weekly summaries (docs/families.md)."""


@family_group.command("send-summaries")
@click.option(
    "--db", "url", envvar="SAFEGUARDING_DATABASE_URL", help="Database URL (default: the settings')."
)
@handle_errors
def send_summaries(url: str | None) -> None:
    """Email every linked parent this week's summary, once per week (SMTP from SAFEGUARDING_SMTP_*)."""
    from safeguarding.service.context import build_context
    from safeguarding.service.family import send_summaries as send
    from safeguarding.settings import load_settings
    from safeguarding.store import upgrade_database

    settings = load_settings(**({"database_url": url} if url else {}))
    upgrade_database(settings.database_url)
    ctx = build_context(settings, detector=None)
    try:
        click.echo(json.dumps(send(ctx)))
    finally:
        ctx.sql.close()
