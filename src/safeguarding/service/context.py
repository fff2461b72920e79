"""Everything one service process holds, built once from settings by :func:`build_context`.

Building fails closed, in this order: settings, policy (a broken policy stops start-up before the
database is touched), detector (the bundled model unless text scoring is off), database (migrated),
then the rest. Nothing is built at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from safeguarding.engine import Clock, Rejected, SystemClock
from safeguarding.errors import ConfigError
from safeguarding.events import Event
from safeguarding.policy import Policy, load_policy
from safeguarding.service.auth import Authenticator, Passwords
from safeguarding.service.engines import Result, TenantEngines
from safeguarding.service.metrics import Metrics
from safeguarding.service.ratelimit import RateLimiter
from safeguarding.service.webhooks import WebhookRelay
from safeguarding.settings import Settings
from safeguarding.store import open_store
from safeguarding.store.alerts import AlertStore
from safeguarding.store.sql import SqlStore
from safeguarding.store.tenancy import TenancyStore

log = logging.getLogger(__name__)
_FROM_SETTINGS: Any = object()


@dataclass
class ServiceContext:
    settings: Settings
    clock: Clock
    policy: Policy
    detector: Any
    sql: SqlStore
    tenancy: TenancyStore
    alerts: AlertStore
    engines: TenantEngines
    passwords: Passwords
    auth: Authenticator
    limiter: RateLimiter
    login_limiter: RateLimiter
    """Sign-in attempts per client address: slows password guessing."""
    metrics: Metrics
    relay: WebhookRelay

    @property
    def model_version(self) -> str | None:
        return str(self.detector.version) if self.detector is not None else None

    def ingest(self, tenant: str, items: list[Event | Any]) -> list[Result]:
        """Process one request's events for ``tenant`` in one transaction (items may be EventErrors)."""
        results = self.engines.write(tenant, items)
        m = self.metrics
        for r in results:
            if isinstance(r, Rejected):
                m.events.labels("rejected").inc()
                continue
            m.events.labels("duplicate" if r.duplicate else "processed").inc()
            if not r.duplicate:
                for a in r.alerts:
                    m.alerts.labels(a.kind.value).inc()
        return results

    def database_ok(self) -> bool:
        from sqlalchemy import text

        try:
            with self.sql.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def close(self) -> None:
        self.relay.stop()
        self.engines.close()
        self.sql.close()


def build_context(
    settings: Settings,
    *,
    clock: Clock | None = None,
    detector: Any = _FROM_SETTINGS,
    transport: Any = None,
    passwords: Passwords | None = None,
) -> ServiceContext:
    """Assemble a service process. ``detector``/``transport``/``passwords`` are for tests and demos."""
    clock = clock or SystemClock()
    policy = load_policy(settings.policy)
    if detector is _FROM_SETTINGS:
        detector = None
        if settings.text_scoring:
            from safeguarding.detection import load_detector

            detector = load_detector(settings.model)
    if settings.workers > 1 and not settings.database_url.startswith(("postgresql", "postgres:")):
        raise ConfigError("several workers need PostgreSQL (--db postgresql://...); SQLite has one writer")
    sql = open_store(settings.database_url, migrate=settings.migrate_on_start)
    tenancy = TenancyStore(sql)
    alerts = AlertStore(sql)
    metrics = Metrics()
    relay = WebhookRelay(
        alerts,
        tenancy,
        clock,
        timeout=settings.webhook_timeout_seconds,
        max_attempts=settings.webhook_max_attempts,
        backoff=settings.webhook_backoff_seconds,
        backoff_max=settings.webhook_backoff_max_seconds,
        interval=settings.relay_interval_seconds,
        transport=transport,
        on_result=lambda result: metrics.webhooks.labels(result).inc(),
    )
    metrics.watch_outbox(alerts.outbox_counts)
    ctx = ServiceContext(
        settings=settings,
        clock=clock,
        policy=policy,
        detector=detector,
        sql=sql,
        tenancy=tenancy,
        alerts=alerts,
        engines=TenantEngines(
            sql,
            tenancy,
            policy,
            detector,
            clock,
            coordinated=sql.engine.dialect.name == "postgresql",
            staleness=settings.read_staleness_seconds,
        ),
        passwords=passwords or Passwords(),
        auth=Authenticator(
            tenancy, clock, cache_seconds=settings.auth_cache_seconds, session_hours=settings.session_hours
        ),
        limiter=RateLimiter(
            settings.rate_limit_per_second, settings.rate_limit_burst, share=settings.workers
        ),
        login_limiter=RateLimiter(0.2, 10),
        metrics=metrics,
        relay=relay,
    )
    _bootstrap_admin(ctx)
    return ctx


def _bootstrap_admin(ctx: ServiceContext) -> None:
    s = ctx.settings
    if (s.admin_email is None) != (s.admin_password is None):
        raise ConfigError("set both SAFEGUARDING_ADMIN_EMAIL and SAFEGUARDING_ADMIN_PASSWORD, or neither")
    if s.admin_email is None or s.admin_password is None:
        return
    from safeguarding.service.admin import ensure_admin

    ensure_admin(ctx, s.admin_email, s.admin_password.get_secret_value())
