"""Configuration from ``SAFEGUARDING_*`` environment variables and flags, built by a factory.

Nothing is read at import time: :func:`load_settings` reads the environment when called, and
:func:`build_engine` is the one place that turns settings into a running engine (policy, store,
detector). Invalid settings or a broken policy raise :class:`~safeguarding.errors.ConfigError`, so a
process fails at start-up rather than running with a configuration nobody meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from safeguarding.errors import ConfigError

if TYPE_CHECKING:
    from safeguarding.engine import Clock, Engine

DEFAULT_DATABASE_URL = "sqlite:///safeguarding.db"


class Settings(BaseSettings):
    """Engine settings. Environment: ``SAFEGUARDING_DATABASE_URL``, ``SAFEGUARDING_POLICY`` ..."""

    model_config = SettingsConfigDict(env_prefix="SAFEGUARDING_", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    """``sqlite:///path.db`` (default, in the working directory) or ``postgresql://user@host/db``."""
    policy: Path | None = None
    """Policy file; None means the shipped default policy."""
    model: Path | None = None
    """Detector model directory; None means the model bundled with the package."""
    text_scoring: bool = True
    """Score message text with the grooming detector. Off: policy and metadata signals only."""
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    """Events per transaction when replaying or ingesting streams."""
    migrate_on_start: bool = True
    """Bring the database schema up to date when opening it."""


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with ``overrides`` (e.g. CLI flags; None values are ignored)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from None


def build_engine(settings: Settings, *, clock: Clock | None = None) -> Engine:
    """Policy + SQL store + (optionally) the text detector, assembled into an :class:`Engine`.

    Order matters for failing closed: the policy is validated before the database is touched.
    """
    from safeguarding.engine import Engine
    from safeguarding.policy import load_policy
    from safeguarding.store import open_store

    policy = load_policy(settings.policy)
    detector = None
    if settings.text_scoring:
        from safeguarding.detection import load_detector

        detector = load_detector(settings.model)
    store = open_store(settings.database_url, migrate=settings.migrate_on_start)
    return Engine(policy, store, detector, clock)
