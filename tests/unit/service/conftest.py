"""Service fixtures: a running app (in-process) over every SQL database, with a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from service_helpers import KeywordDetector, Service, running, settings_for

from safeguarding.engine import FrozenClock


@pytest.fixture
def service(db_url: str, frozen_clock: FrozenClock) -> Iterator[Service]:
    """The service with the keyword detector, a deployment admin signed in, and platform ``acme``."""
    with running(settings_for(db_url), frozen_clock, KeywordDetector()) as svc:
        svc.add_tenant("acme")
        yield svc


@pytest.fixture
def sqlite_service(sqlite_url: str, frozen_clock: FrozenClock) -> Iterator[Service]:
    """The same on SQLite only (for tests about the HTTP layer rather than the database)."""
    with running(settings_for(sqlite_url), frozen_clock, KeywordDetector()) as svc:
        svc.add_tenant("acme")
        yield svc
