"""A bounded schemathesis run over the published OpenAPI document: whatever it sends, never a 500.

Runs in-process (ASGI) on SQLite, as a platform (API key) and as the deployment admin, so both the
platform routes and the management routes are exercised past authentication. Bounded: a few dozen
examples per operation, no shrinking deadline.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "service"))
from service_helpers import Events, KeywordDetector, Service, grooming_story, running, settings_for

from safeguarding.engine import FrozenClock

HEADERS: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    from datetime import UTC, datetime

    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    clock = FrozenClock(datetime(2026, 1, 5, 12, tzinfo=UTC))
    # encrypted mode switched on too (without its key its routes answer 503 by design), so they are fuzzed
    settings = settings_for(
        f"sqlite:///{db}", max_body_bytes=256 * 1024, franking_key=base64.b64encode(bytes(range(32))).decode()
    )
    with running(settings, clock, KeywordDetector()) as svc:
        svc.add_tenant("acme")
        svc.send("acme", grooming_story(Events()))
        HEADERS["platform"] = svc.key_headers("acme")
        HEADERS["admin"] = svc.admin
        yield svc


FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _fuzz(svc: Service, who: str) -> list[str]:
    """Every operation of the published schema, fuzzed; returns what ran (for the coverage assert)."""
    api = schemathesis.openapi.from_asgi("/openapi.json", svc.client.app)
    ran = []
    for result in api.get_all_operations():
        op = result.ok()

        @given(case=op.as_strategy())
        @FUZZ
        def run(case: Any) -> None:
            response = case.call(headers=HEADERS[who])
            case.validate_response(response, checks=[not_a_server_error])
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        run()
        ran.append(f"{op.method.upper()} {op.path}")
    return ran


def test_no_server_errors_as_a_platform(fuzz_service: Service) -> None:
    assert len(_fuzz(fuzz_service, "platform")) >= 20


def test_no_server_errors_as_the_admin(fuzz_service: Service) -> None:
    assert len(_fuzz(fuzz_service, "admin")) >= 20
