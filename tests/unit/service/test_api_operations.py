"""Health, metrics, OpenAPI, the tenant-namespaced store, rate limits, two workers on one database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from service_helpers import Events, KeywordDetector, Service, fast_passwords, grooming_story, settings_for

from safeguarding.engine import FrozenClock
from safeguarding.service.context import build_context
from safeguarding.service.ingest import Batch, parse_items
from safeguarding.service.ratelimit import RateLimiter
from safeguarding.store.protocol import (
    AccountRecord,
    ChangeSet,
    ConversationRecord,
    OutboxItem,
    ProcessedEvent,
)
from safeguarding.store.tenant import TenantStore, split_key, tenant_prefix


def test_health_reports_versions_and_readiness(service: Service) -> None:
    c = service.client
    body = c.get("/health").json()
    assert body["status"] == "ok" and body["ready"] and body["live"]
    assert body["model"] == {"text_scoring": True, "version": "keywords-1", "threshold": 0.5}
    assert body["policy"]["version"] and len(body["policy"]["sha256"]) == 64
    assert c.get("/health/live").json() == {"live": True}
    assert c.get("/health/ready").status_code == 200
    service.ctx.sql.engine.dispose()
    real = service.ctx.database_ok
    service.ctx.database_ok = lambda: False  # type: ignore[method-assign]
    try:
        assert c.get("/health/ready").status_code == 503
        assert c.get("/health").json()["status"] == "degraded"
    finally:
        service.ctx.database_ok = real  # type: ignore[method-assign]


def test_metrics_count_requests_events_alerts_and_decisions(service: Service) -> None:
    service.send("acme", grooming_story(Events()))
    service.client.post(
        "/v1/decisions/contact",
        json={"action": "message", "sender": "a1", "recipient": "k2"},
        headers=service.key_headers("acme"),
    )
    text = service.client.get("/metrics").text
    assert 'safeguarding_events_total{result="processed"} 9.0' in text
    assert 'safeguarding_alerts_total{kind="grooming"} 1.0' in text
    assert 'safeguarding_contact_decisions_total{decision="deny"} 1.0' in text
    assert 'route="/v1/events",status="200"' in text and "safeguarding_http_request_seconds_bucket" in text
    assert "acme" not in text and "a1" not in text  # no platform data in metrics


def test_unknown_routes_and_methods_are_problems(service: Service) -> None:
    r = service.client.get("/v1/nothing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert service.client.delete("/v1/events", headers=service.key_headers("acme")).status_code == 405
    r = service.client.get("/v1/alerts", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


def test_openapi_is_published_with_the_event_schema(service: Service) -> None:
    doc = service.client.get("/openapi.json").json()
    op = doc["paths"]["/v1/events"]["post"]
    variants = op["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    titles = {v["title"] for v in variants[0]["oneOf"]}
    assert "message event" in titles and len(titles) == 13
    assert variants[1]["maxItems"] == service.ctx.settings.max_batch_events
    assert "$defs" not in str(doc) and "#/$defs" not in str(doc)
    assert service.client.get("/docs").status_code == 200


def test_tenant_store_namespaces_every_id(sqlite_url: str) -> None:
    from safeguarding.store import open_store

    sql = open_store(sqlite_url)
    a, b = TenantStore(sql, "a"), TenantStore(sql, "b")
    at = datetime(2026, 1, 5, tzinfo=UTC)
    a.commit(
        ChangeSet(
            events=(ProcessedEvent("e1", "account", "d", at, at, '{"t":"account"}'),),
            accounts=(AccountRecord("u1"),),
            edges_added=(("follow", "u1", "u2", at),),
            counter_deltas=(("u1", "n", 5, 1),),
            members=(("u1", "m", 5, "u2"),),
            conversations=(ConversationRecord("c1", suspect="u1"),),
            outbox=(OutboxItem("e1:0", "alert", "{}", at),),
        )
    )
    assert set(a.processed(["e1"])) == {"e1"} and b.processed(["e1"]) == {}
    assert a.accounts(["u1"])["u1"].id == "u1" and b.accounts(["u1"]) == {}
    assert a.edges([("follow", "u1", "u2")]) == {("follow", "u1", "u2")} and not b.edges(
        [("follow", "u1", "u2")]
    )
    assert a.counters(["u1"], 0) == [("u1", "n", 5, 1)] and b.counters(["u1"], 0) == []
    assert a.members(["u1"], 0) == [("u1", "m", 5, "u2")]
    assert a.conversations(["c1"])["c1"].suspect == "u1" and b.conversations(["c1"]) == {}
    assert [o.key for o in a.pending_outbox()] == ["e1:0"] and b.pending_outbox() == []
    assert sql.pending_outbox()[0].key == "a/e1:0" and split_key("a/e1:0") == ("a", "e1:0")
    with pytest.raises(ValueError):
        tenant_prefix("A/B")
    sql.close()


def test_rate_limiter_refills() -> None:
    now = [0.0]
    rl = RateLimiter(2.0, None, now=lambda: now[0])
    assert [rl.check("k") for _ in range(4)] == [0.0] * 4  # burst = 2 x rate
    assert rl.check("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert rl.check("k") == 0.0
    assert rl.check("other") == 0.0
    assert RateLimiter(10.0, None, share=2).check("x", rate=4.0) == 0.0


def test_two_workers_on_one_postgres_see_each_others_writes(pg_url: str) -> None:
    """Two contexts (as two processes would) take turns on one conversation: as if one worker did it all."""
    clock = FrozenClock(datetime(2026, 1, 5, 12, tzinfo=UTC))
    settings = settings_for(pg_url)
    one, two = (build_context(settings, clock=clock, detector=KeywordDetector(), passwords=fast_passwords())
                for _ in range(2))  # fmt: skip
    from safeguarding.service import admin

    admin.create_tenant(one, "acme", "Acme")
    ev = Events()
    events = grooming_story(ev) + [ev.msg("a1", "k1", text="secret again") for _ in range(4)]
    items = [parse_items(Batch([e], single=False), strict_fields=True)[0] for e in events]
    results = []
    for i, item in enumerate(items):  # alternate workers, event by event
        results += (one if i % 2 else two).ingest("acme", [item])
    assert all(not hasattr(r, "reason") for r in results)
    grooming = [a for r in results for a in r.alerts if a.kind.value == "grooming"]  # type: ignore[union-attr]
    assert len(grooming) == 1  # each worker saw the other's flag: the alert is raised once
    for ctx in (one, two):
        conv = ctx.engines.read("acme").conversation("c1")
        assert conv is not None and conv.messages == 8 and conv.flagged
    dup = one.ingest("acme", [items[3]])[0]
    assert dup.duplicate  # type: ignore[union-attr]
    one.close()
    two.close()
