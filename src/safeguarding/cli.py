"""The ``safeguarding`` command line. Thin: parse arguments, call the library, map errors to exit codes.

Exit codes: 0 ok, 1 internal error, 2 bad input or configuration (the message names the line and problem).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from safeguarding.cli_errors import handle_errors
from safeguarding.cli_family import family_group
from safeguarding.cli_records import evidence_group, feedback_group, referral_group, retention_group
from safeguarding.errors import ConfigError, InputError, ModelError

__all__ = ["handle_errors", "main"]


@click.group()
@click.option("-v", "--verbose", count=True, help="More logging (never message text).")
@click.version_option(package_name="safeguarding")
def main(verbose: int) -> None:
    """Safeguarding: child online-safety engine."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


# evidence, referrals, retention, moderator feedback (docs/evidence.md, docs/console.md)
for _group in (evidence_group, referral_group, retention_group, feedback_group, family_group):
    main.add_command(_group)


@main.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--example", is_flag=True, help="Score the small example bundled with the package.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Output JSONL (default stdout)."
)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "pan12"]), default="jsonl", show_default=True)
@click.option("--authors", is_flag=True, help="One line per author over all conversations (PAN12 problem 1).")
@click.option(
    "--model", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Model directory."
)
@handle_errors
def scan(
    file: Path | None, example: bool, output: Path | None, fmt: str, authors: bool, model: Path | None
) -> None:
    """Score conversations in FILE with the streaming grooming detector (contract: docs/scan.md)."""
    from safeguarding.detection import load_detector
    from safeguarding.detection.scan import example_path, run_scan

    if (file is None) == (not example):
        raise InputError("give exactly one of FILE or --example")
    if file is None:
        file = example_path()

    det = load_detector(model)
    n = run_scan(det, file, output, fmt="pan12" if fmt == "pan12" else "jsonl", authors=authors)
    if output is not None:
        click.echo(f"wrote {n} lines to {output}", err=True)


@main.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--max-per-source", default=2500, show_default=True, help="Cap on benign conversations per source."
)
@click.option(
    "--feedback",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Moderator feedback JSONL (safeguarding feedback export), added to the train part only.",
)
@handle_errors
def train(data_dir: Path, out_dir: Path, seed: int, max_per_source: int, feedback: Path | None) -> None:
    """Train the grooming detector on DATA_DIR and write the model artifact and its card to OUT_DIR."""
    try:
        from safeguarding.detection.train import TrainOptions
        from safeguarding.detection.train import train as run_train
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigError(
            f"training needs the 'train' extra: pip install 'safeguarding[train]' ({exc})"
        ) from exc
    opts = TrainOptions(seed=seed, max_conversations_per_source=max_per_source)
    result = run_train(data_dir, out_dir, opts, progress=lambda s: click.echo(s, err=True), feedback=feedback)
    click.echo(f"model {result.version} written to {out_dir} (threshold {result.config.threshold:.2f})")


@main.command()
@click.argument("data_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--model", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Model directory."
)
@click.option(
    "--part",
    type=click.Choice(["test", "dev"]),
    default="test",
    show_default=True,
    help="Which held-back part of DATA_DIR to score (train never).",
)
@click.option(
    "--lookalikes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled look-alike JSONL (e.g. benchmarks/data/lookalikes_dev.jsonl).",
)
@click.option(
    "--pan12", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Official PAN12 XML."
)
@click.option(
    "--predators",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Predator id list for --pan12.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report as JSON."
)
@handle_errors
def evaluate(
    data_dir: Path | None,
    model: Path | None,
    part: str,
    lookalikes: Path | None,
    pan12: Path | None,
    predators: Path | None,
    output: Path | None,
) -> None:
    """Evaluate a model: PAN12 problem 1, early detection at 10/50/200 messages, per-source breakdowns."""
    import json

    from safeguarding.detection import evaluate as ev
    from safeguarding.detection import load_detector

    det = load_detector(model)
    report: dict[str, object] = {"model": det.version, "threshold": det.threshold}
    if data_dir is not None:
        from safeguarding.detection.train import held_back_records

        held = held_back_records(data_dir, "dev" if part == "dev" else "test")
        report[f"data_{part}"] = ev.evaluate_records(det, held)
    if lookalikes is not None:
        report["lookalikes"] = ev.evaluate_lookalikes(det, lookalikes)
    if pan12 is not None:
        if predators is None:
            raise InputError("--pan12 needs --predators (the official predator id list)")
        report["pan12"] = ev.evaluate_pan12(det, pan12, predators)
    if len(report) == 2:
        raise InputError("nothing to evaluate: give DATA_DIR, --lookalikes or --pan12")
    text = json.dumps(report, indent=2)
    if output is not None:
        output.write_text(text + "\n")
    click.echo(text)


# -- engine: policy check, database migrations, replay (docs/policy.md, docs/store.md, docs/replay.md) --


@main.group("policy")
def policy_group() -> None:
    """Contact policies (rules as data): check a file before switching it on."""


@policy_group.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def policy_check(file: Path | None) -> None:
    """Validate policy FILE (default: the shipped policy) and list its rules; exit 2 listing every problem."""
    from safeguarding.policy import load_policy

    for line in load_policy(file).describe():
        click.echo(line)
    click.echo("ok")


@main.group("db")
def db_group() -> None:
    """The engine's database (SQLite by default, PostgreSQL by URL)."""


@db_group.command("upgrade")
@click.option(
    "--db", "url", help="Database URL (default: SAFEGUARDING_DATABASE_URL, else sqlite:///safeguarding.db)."
)
@click.option("--revision", default="head", show_default=True, help="Alembic revision to reach.")
@handle_errors
def db_upgrade(url: str | None, revision: str) -> None:
    """Create or migrate the engine's tables."""
    from safeguarding.settings import load_settings
    from safeguarding.store import upgrade_database

    settings = load_settings(database_url=url)
    click.echo(f"database at revision {upgrade_database(settings.database_url, revision)}")


@main.command("replay")
@click.argument("events", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy file to decide with (default: the shipped policy).",
)
@click.option("--db", "url", help="Database URL to keep state in (default: a temporary SQLite database).")
@click.option(
    "--text/--no-text",
    default=True,
    show_default=True,
    help="Score message text with the grooming detector, or use policy and metadata signals only.",
)
@click.option(
    "--model", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Model directory."
)
@click.option(
    "--batch-size",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Events per transaction.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Output JSONL (default stdout)."
)
@click.option("--summary", is_flag=True, help="Print counts by decision, rule and alert to stderr.")
@handle_errors
def replay_cmd(
    events: Path,
    policy_file: Path | None,
    url: str | None,
    text: bool,
    model: Path | None,
    batch_size: int,
    output: Path | None,
    summary: bool,
) -> None:
    """Run EVENTS.jsonl through the engine; one JSON line per event (contract: docs/replay.md).

    Bad events are reported on stderr with their id while the rest proceed (exit code 2 at the end).
    With --db the run is resumable: rerunning after a crash re-emits committed outcomes unchanged.
    """
    import tempfile

    from safeguarding.replay import replay
    from safeguarding.settings import build_engine, load_settings

    with tempfile.TemporaryDirectory(prefix="safeguarding-replay-") as tmp:
        db_url = url or f"sqlite:///{Path(tmp) / 'replay.db'}"
        settings = load_settings(
            database_url=db_url, policy=policy_file, model=model, text_scoring=text, batch_size=batch_size
        )
        try:
            engine = build_engine(settings)
        except ModelError as exc:
            raise ModelError(
                f"{exc} (use --no-text to replay with policy and metadata signals only)"
            ) from exc
        name = "<stdin>" if str(events) == "-" else str(events)
        with (
            click.open_file(str(events), encoding="utf-8") as src,
            click.open_file(str(output) if output else "-", "w", encoding="utf-8") as out,
        ):
            result = replay(
                src,
                engine,
                out,
                batch_size=batch_size,
                name=name,
                on_reject=lambda r: click.echo(f"error: {r.reason}", err=True),
            )
        engine.close()
    if summary:
        for line in result.lines():
            click.echo(line, err=True)
    if result.rejected:
        click.echo(f"{result.rejected} of {result.events} events rejected", err=True)
        sys.exit(2)


# -- the service (docs/service.md) ----------------------------------------------------------------------


@main.command("serve")
@click.option(
    "--db", "url", help="Database URL (default: SAFEGUARDING_DATABASE_URL, else sqlite:///safeguarding.db)."
)
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default 8000).")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Worker processes (more than one needs PostgreSQL)."
)
@click.option(
    "--demo",
    is_flag=True,
    help="Seed a demo platform from the synthetic generator, play it through the engine, print how to look.",
)
@click.option(
    "--demo-credentials",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --demo: write the demo sign-ins and API key as JSON to this file.",
)
@click.option(
    "--e2ee",
    is_flag=True,
    help="End-to-end-encrypted mode (docs/e2ee.md): needs SAFEGUARDING_FRANKING_KEY unless --demo.",
)
@click.option("--text/--no-text", default=None, help="Score message text with the detector (default) or not.")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path), help="Policy file.")
@click.option(
    "--model", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Model directory."
)
@handle_errors
def serve_cmd(
    url: str | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    demo: bool,
    demo_credentials: Path | None,
    e2ee: bool,
    text: bool | None,
    policy_file: Path | None,
    model: Path | None,
) -> None:
    """Run the HTTP service: events in, decisions and alerts out (API at /docs)."""
    from safeguarding.service.serve import serve

    serve(
        url=url, host=host, port=port, workers=workers, demo=demo, demo_credentials=demo_credentials,
        text=text, policy=policy_file, model=model, echo=click.echo, e2ee=e2ee,
    )  # fmt: skip
