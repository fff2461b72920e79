"""The HTTP service (``safeguarding serve``): FastAPI over the engine, one engine per platform (tenant).

``create_app(settings)`` builds the application; nothing is built at import time. Layout: ``context``
(what a process holds), ``deps`` and ``permissions`` (who may do what: one table), ``auth``, ``problems``
(errors to HTTP in one place), ``routes/`` (thin), ``schemas/`` (bodies by direction and audience),
``engines`` (per-tenant engines, several workers), ``ingest``, ``webhooks``, ``ratelimit``, ``metrics``,
``demo``. See ``docs/service.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> FastAPI:
    from safeguarding.service.app import create_app as _create_app

    return _create_app(*args, **kwargs)
