"""The HTTP routes. Each declares the one permission action it needs (``require(Act.X)``) and stays thin."""

from safeguarding.service.routes import (
    auth,
    console,
    e2ee,
    events,
    family,
    family_pages,
    health,
    manage,
    reads,
    stats,
)

ROUTERS = (
    health.router,
    events.router,
    reads.router,
    auth.router,
    manage.router,
    e2ee.router,
    console.router,
    stats.router,
    family.router,
    family_pages.router,
)

__all__ = ["ROUTERS"]
