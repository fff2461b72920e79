"""Configuration of referrals and retention, from ``SAFEGUARDING_REPORTER_*`` / ``SAFEGUARDING_RETENTION_*``.

Kept beside the evidence code (not in :mod:`safeguarding.settings`) so the two can be folded into the
main settings later without changing their environment names. Built by factories, never at import;
missing reporter details stop an export (fail closed: a referral without a contact is useless).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from safeguarding.errors import ConfigError
from safeguarding.evidence.referral import ReporterInfo
from safeguarding.evidence.retention import MIN_HOLD_DAYS, RetentionPolicy


class ReporterSettings(BaseSettings):
    """``SAFEGUARDING_REPORTER_COMPANY``, ``..._FIRST_NAME``, ``..._LAST_NAME``, ``..._EMAIL`` (required)."""

    model_config = SettingsConfigDict(env_prefix="SAFEGUARDING_REPORTER_", extra="ignore", frozen=True)

    company: str = Field(min_length=1)
    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    email: str = Field(min_length=3, pattern=r".+@.+")
    phone: str | None = None
    country: str | None = None
    terms_of_service_url: str | None = None
    platform: str | None = None


class RetentionSettings(BaseSettings):
    """``SAFEGUARDING_RETENTION_EVIDENCE_DAYS``, ``..._HOLD_MIN_DAYS``, ``..._REFERENCE_DAYS``."""

    model_config = SettingsConfigDict(env_prefix="SAFEGUARDING_RETENTION_", extra="ignore", frozen=True)

    evidence_days: int = Field(default=180, ge=1)
    hold_min_days: int = Field(default=MIN_HOLD_DAYS, ge=MIN_HOLD_DAYS)
    reference_days: int = Field(default=5 * 365 + 1, ge=MIN_HOLD_DAYS)


def _problems(exc: ValidationError, prefix: str) -> str:
    return "; ".join(f"{prefix}{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())


def load_reporter(**overrides: Any) -> ReporterInfo:
    try:
        s = ReporterSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(f"referral reporter settings: {_problems(exc, 'SAFEGUARDING_REPORTER_')}") from None
    return ReporterInfo(**s.model_dump())


def load_retention(**overrides: Any) -> RetentionPolicy:
    try:
        s = RetentionSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(f"retention settings: {_problems(exc, 'SAFEGUARDING_RETENTION_')}") from None
    return RetentionPolicy(s.evidence_days, s.hold_min_days, s.reference_days)
