"""The ``safeguarding`` command line. Thin: parse arguments, call the library, map errors to exit codes.

Exit codes: 0 ok, 1 internal error, 2 bad input or configuration (the message names the line and problem).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click

from safeguarding.errors import ConfigError, InputError, ModelError, SafeguardingError

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the project's errors into a one-line message and an exit code; never a traceback for input."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (InputError, ConfigError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except ModelError as exc:
            click.echo(f"model error: {exc}", err=True)
            sys.exit(2)
        except SafeguardingError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.option("-v", "--verbose", count=True, help="More logging (never message text).")
@click.version_option(package_name="safeguarding")
def main(verbose: int) -> None:
    """Safeguarding: child online-safety engine."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Output JSONL (default stdout).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "pan12"]), default="jsonl", show_default=True)
@click.option("--authors", is_flag=True, help="One line per author over all conversations (PAN12 problem 1).")
@click.option("--model", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Model directory.")
@handle_errors
def scan(file: Path, output: Path | None, fmt: str, authors: bool, model: Path | None) -> None:
    """Score conversations in FILE with the streaming grooming detector (contract: docs/scan.md)."""
    from safeguarding.detection import load_detector
    from safeguarding.detection.scan import run_scan

    det = load_detector(model)
    n = run_scan(det, file, output, fmt="pan12" if fmt == "pan12" else "jsonl", authors=authors)
    if output is not None:
        click.echo(f"wrote {n} lines to {output}", err=True)


@main.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=0, show_default=True)
@click.option("--max-per-source", default=2500, show_default=True, help="Cap on benign conversations per source.")
@handle_errors
def train(data_dir: Path, out_dir: Path, seed: int, max_per_source: int) -> None:
    """Train the grooming detector on DATA_DIR and write the model artifact and its card to OUT_DIR."""
    try:
        from safeguarding.detection.train import TrainOptions
        from safeguarding.detection.train import train as run_train
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigError(f"training needs the 'train' extra: pip install 'safeguarding[train]' ({exc})") from exc
    opts = TrainOptions(seed=seed, max_conversations_per_source=max_per_source)
    result = run_train(data_dir, out_dir, opts, progress=lambda s: click.echo(s, err=True))
    click.echo(f"model {result.version} written to {out_dir} (threshold {result.config.threshold:.2f})")
