"""How every ``safeguarding`` command reports the project's errors: one line and an exit code.

Exit codes: 0 ok, 1 internal error, 2 bad input or configuration (the message names the line and problem).
Its own module so that the command modules (:mod:`safeguarding.cli`, :mod:`safeguarding.cli_records`)
share it without importing each other.
"""

from __future__ import annotations

import sys
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
