"""Settings come from SAFEGUARDING_* variables when asked for, and fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeguarding.errors import ConfigError, PolicyError
from safeguarding.settings import build_engine, load_settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAFEGUARDING_DATABASE_URL", raising=False)
    assert load_settings().database_url == "sqlite:///safeguarding.db"
    monkeypatch.setenv("SAFEGUARDING_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("SAFEGUARDING_BATCH_SIZE", "50")
    s = load_settings()
    assert (s.database_url, s.batch_size) == ("sqlite:///x.db", 50)
    assert load_settings(database_url="sqlite:///y.db", policy=None).database_url == "sqlite:///y.db"


def test_invalid_settings_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFEGUARDING_BATCH_SIZE", "0")
    with pytest.raises(ConfigError, match="batch_size"):
        load_settings()


def test_build_engine_checks_the_policy_before_the_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = 1\n")
    db = tmp_path / "never.db"
    settings = load_settings(database_url=f"sqlite:///{db}", policy=bad, text_scoring=False)
    with pytest.raises(PolicyError):
        build_engine(settings)
    assert not db.exists()


def test_build_engine_without_text(tmp_path: Path) -> None:
    eng = build_engine(load_settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", text_scoring=False))
    assert eng.detector is None and eng.policy.id == "safeguarding-default"
    eng.close()
