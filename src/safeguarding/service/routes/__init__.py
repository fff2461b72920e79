"""The HTTP routes. Each declares the one permission action it needs (``require(Act.X)``) and stays thin."""

from safeguarding.service.routes import auth, console, e2ee, events, health, manage, reads, stats

ROUTERS = (
    health.router,
    events.router,
    reads.router,
    auth.router,
    manage.router,
    e2ee.router,
    console.router,
    stats.router,
)

__all__ = ["ROUTERS"]
