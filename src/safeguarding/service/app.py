"""``create_app()``: the FastAPI application over one :class:`~.context.ServiceContext`.

Start-up fails closed (broken settings, policy or model stop it with a clear message), and refuses a
route that does not declare its permission action. The OpenAPI document is at ``/openapi.json``
(``/docs`` renders it); each operation carries its action as ``x-permission``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from safeguarding import __version__
from safeguarding.errors import ConfigError
from safeguarding.service import problems
from safeguarding.service.context import ServiceContext, build_context
from safeguarding.service.deps import action_of
from safeguarding.service.middleware import BodyLimit, RequestMetrics
from safeguarding.service.permissions import Act
from safeguarding.service.routes import ROUTERS, family_pages, pages
from safeguarding.service.routes.events import events_request_schema
from safeguarding.settings import Settings, load_settings

log = logging.getLogger(__name__)

DESCRIPTION = """\
How a platform plugs Safeguarding in: send events (`POST /v1/events`), ask contact decisions on the hot
path (`POST /v1/decisions/contact`), read alerts and risk, and receive alerts by signed webhook.

Platforms authenticate with `Authorization: Bearer sgk_...` (an API key); people sign in at
`/v1/auth/login`. Every operation names the permission it needs in `x-permission`; errors are
`application/problem+json`. See docs/service.md.
"""


def create_app(
    settings: Settings | None = None, *, context: ServiceContext | None = None, **overrides: Any
) -> FastAPI:
    """The service. ``settings`` default to the environment (``SAFEGUARDING_*``); ``overrides`` go to
    :func:`~.context.build_context` (tests pass a clock, a detector or a webhook transport)."""
    ctx = context if context is not None else build_context(settings or load_settings(), **overrides)
    settings = ctx.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.webhooks:
            ctx.relay.start()
        ctx.metrics.ready.set(1)
        log.info("safeguarding service ready (policy %s, model %s)", ctx.policy.version, ctx.model_version)
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(
        title="Safeguarding",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "platform", "description": "a platform's servers, with an API key"},
            {"name": "moderation", "description": "moderators and admins, and platforms"},
            {"name": "people", "description": "signing in"},
            {"name": "administration", "description": "platforms, keys, webhooks, people, parent links"},
            {"name": "operations", "description": "health and metrics"},
            {"name": "console", "description": "the moderator console (HTML pages and forms)"},
        ],
    )
    app.state.ctx = ctx
    problems.install(app)
    pages.install(app)  # browsers that are not signed in go to the sign-in page of the area they asked for
    family_pages.install(app)  # parents' sign-in redirect, the child's 'link expired' page
    route_actions()  # fail closed: refuses to build an app with a route that declares no action
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = _openapi(app, settings)  # type: ignore[method-assign]
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=ctx.metrics)
    return app


def route_actions() -> dict[tuple[str, str], Act]:
    """``{(method, path): action}`` for every API route; a route without exactly one action is refused."""
    out: dict[tuple[str, str], Act] = {}
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            actions = [a for d in route.dependant.dependencies if (a := action_of(d.call)) is not None]
            if len(actions) != 1:
                raise ConfigError(
                    f"route {route.path} must declare exactly one permission action ({actions})"
                )
            for method in route.methods or ():
                out[(method, route.path)] = actions[0]
    return out


def _openapi(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document, with each operation's permission action as ``x-permission``."""
    formats = {
        (m, r.path): r.path_format
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute)
        for m in r.methods or ()
    }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            for (method, path), act in route_actions().items():
                op = schema["paths"][formats[(method, path)]][method.lower()]
                op["x-permission"] = act.value
                if path == "/v1/events":
                    op.update(events_request_schema(settings.max_batch_events))
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def app_from_environment() -> FastAPI:
    """The factory ``uvicorn --factory`` and ``safeguarding serve --workers N`` start in each worker."""
    from safeguarding.service.runtime import tune_process

    app = create_app()
    tune_process()
    return app
