"""The HTTP routes. Each declares the one permission action it needs (``require(Act.X)``) and stays thin."""

from safeguarding.service.routes import auth, events, health, manage, reads

ROUTERS = (health.router, events.router, reads.router, auth.router, manage.router)

__all__ = ["ROUTERS"]
