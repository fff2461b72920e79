"""Shared, generic fixtures: a frozen clock and databases.

Databases are hermetic: SQLite in a temporary directory always; PostgreSQL only when
``SAFEGUARDING_TEST_DATABASE_URL`` is set (``.ci/run`` sets it), each test then getting a fresh schema
that is dropped afterwards, so runs never see each other's rows and leave nothing behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

PG_ENV = "SAFEGUARDING_TEST_DATABASE_URL"
FROZEN_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen_clock():  # type: ignore[no-untyped-def]
    """A clock standing at 2026-01-05 12:00 UTC until a test moves it (``frozen_clock.advance(hours=1)``)."""
    from safeguarding.engine.clock import FrozenClock

    return FrozenClock(FROZEN_AT)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with a libpq ``options`` parameter that puts ``schema`` first on the search path."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    return url


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema, dropped (with everything in it) afterwards."""
    from sqlalchemy import create_engine, text

    from safeguarding.store.sql import normalise_url

    schema = f"sgtest_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(pg_base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(pg_base_url, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'safeguarding.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each SQL database the suite runs on: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'safeguarding.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Every :class:`~safeguarding.store.Store` implementation, freshly empty."""
    from safeguarding.store import MemoryStore, open_store

    if request.param == "memory":
        s = MemoryStore()
    elif request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'safeguarding.db'}")
    else:
        s = open_store(str(request.getfixturevalue("pg_url")))
    yield s
    s.close()
