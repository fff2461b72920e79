"""Prometheus metrics, one registry per app (so tests and several apps in a process never collide).

Labels carry route templates, outcomes and kinds only — never an account, a conversation or a tenant —
so ``/metrics`` can be scraped without credentials and holds no platform's data.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _OutboxCollector(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.counts = counts

    def collect(self):  # type: ignore[no-untyped-def]
        try:
            c = self.counts()
        except Exception:  # a scrape must not fail because the database is away
            return
        g = GaugeMetricFamily("safeguarding_outbox_items", "Webhook outbox items by state", labels=["state"])
        for state, n in sorted(c.items()):
            g.add_metric([state], n)
        yield g


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "safeguarding_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "safeguarding_http_request_seconds", "HTTP request latency", ["method", "route"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.events = Counter(
            "safeguarding_events", "Events received by result (processed, duplicate, rejected)", ["result"],
            registry=r,
        )  # fmt: skip
        self.alerts = Counter("safeguarding_alerts", "Alerts raised", ["kind"], registry=r)
        self.decisions = Counter(
            "safeguarding_contact_decisions", "Contact decisions answered", ["decision"], registry=r
        )
        self.webhooks = Counter(
            "safeguarding_webhook_deliveries", "Webhook delivery attempts", ["result"], registry=r
        )
        self.rate_limited = Counter("safeguarding_rate_limited", "Requests refused with 429", registry=r)
        self.ready = Gauge("safeguarding_ready", "1 when the service can serve requests", registry=r)

    def watch_outbox(self, counts: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_OutboxCollector(counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)
