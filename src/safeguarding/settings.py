"""Configuration from ``SAFEGUARDING_*`` environment variables and flags, built by a factory.

Nothing is read at import time: :func:`load_settings` reads the environment when called, and
:func:`build_engine` is the one place that turns settings into a running engine (policy, store,
detector). Invalid settings or a broken policy raise :class:`~safeguarding.errors.ConfigError`, so a
process fails at start-up rather than running with a configuration nobody meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, ValidationError
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

    # -- the HTTP service (``safeguarding serve``, docs/service.md) --------------------------------
    host: str = "127.0.0.1"
    """Address to listen on. Loopback by default: exposing the service is a deliberate choice."""
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    """Worker processes. More than one needs PostgreSQL (they coordinate through it)."""
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    """Largest request body accepted; larger ones get 413 before they are read."""
    max_batch_events: int = Field(default=5000, ge=1, le=100_000)
    """Most events in one ``POST /v1/events``."""
    rate_limit_per_second: float = Field(default=200.0, gt=0)
    """Default request rate per API key (a key may carry its own); over it: 429 with Retry-After."""
    rate_limit_burst: int | None = Field(default=None, ge=1)
    """Requests a key may send at once after being idle; default twice the rate."""
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    """How long a sign-in lasts."""
    cookie_secure: bool | None = None
    """Mark the session cookie ``Secure``. None: when the request came over HTTPS."""
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    """How long a worker trusts a looked-up API key or session (revocation takes at most this long)."""
    accept_unknown_event_fields: bool = False
    """The HTTP API rejects event fields it does not know (typos never pass silently); True ignores them."""
    webhooks: bool = True
    """Run the webhook relay in this process."""
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=12, ge=1, le=100)
    """Give up on an alert delivery after this many failed attempts (it stays readable at /v1/alerts)."""
    webhook_backoff_seconds: float = Field(default=2.0, gt=0)
    """First retry delay; doubled for each failure (with jitter) up to ``webhook_backoff_max_seconds``."""
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    relay_interval_seconds: float = Field(default=1.0, gt=0, le=3600)
    smtp_host: str | None = None
    """SMTP server for parents' weekly summaries; unset: summaries are in-app only."""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "safeguarding@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    read_staleness_seconds: float = Field(default=0.05, ge=0, le=60)
    """With several workers on PostgreSQL: how far a decision may lag another worker's latest write."""
    admin_email: str | None = None
    """With ``admin_password``: create this deployment admin at start-up if absent. No default."""
    admin_password: SecretStr | None = None
    franking_key: SecretStr | None = None
    """Encrypted mode (docs/e2ee.md): base64 of 32 random bytes, the server's franking key (one ring is
    derived from it per platform). Unset: the ``/v1/e2ee`` routes answer 503; ``serve --e2ee`` needs it
    unless ``--demo`` (which makes one up)."""
    franking_key_id: str = Field(default="franking-1", min_length=1, max_length=64)
    """Names the franking key in every stamp, so a rotated key's old tags still verify."""
    franking_previous_keys: SecretStr | None = None
    """Keys retired by rotation, still accepted for old stamps: ``id=base64,id=base64``."""


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
