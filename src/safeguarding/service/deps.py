"""FastAPI dependencies: the context, who is asking, and :func:`require` — a route's one permission line.

A route declares ``actor: Actor = Depends(require(Act.ALERTS_READ))`` and nothing else about access.
:func:`require` authenticates (API key, bearer session or session cookie), asks the permissions table
about the resource the request names, checks the CSRF token of cookie sessions on unsafe methods and
applies the API key's rate limit. ``create_app`` refuses to start if a route declares no action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from safeguarding.errors import (
    AuthenticationRequired,
    InputError,
    NotFoundError,
    PermissionDenied,
    RateLimited,
)
from safeguarding.service.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, csrf_ok
from safeguarding.service.context import ServiceContext
from safeguarding.service.permissions import ANONYMOUS, Act, Actor, Resource, Role, allowed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ResourceOf = Callable[[Request, Actor], Resource]


def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def credentials(request: Request) -> tuple[str | None, bool]:
    """``(token, via_cookie)``: the bearer token if any, else the session cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationRequired("use 'Authorization: Bearer <API key or session token>'")
        return token.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


async def authenticate(request: Request) -> Actor:
    token, via_cookie = credentials(request)
    if token is None:
        return ANONYMOUS
    ctx = get_ctx(request)
    actor = ctx.auth.cached(token, via_cookie=via_cookie)  # the common case: no database, no thread
    if actor is None:
        actor = await run_in_threadpool(ctx.auth.actor, token, via_cookie=via_cookie)
    return actor


def default_resource(request: Request, actor: Actor) -> Resource:
    """The tenant a request is about (path ``{tenant}``, else ``?tenant=``, else the actor's) and account."""
    tenant = request.path_params.get("tenant") or request.query_params.get("tenant") or actor.tenant
    return Resource(tenant=tenant, account=request.path_params.get("account_id"))


def require(action: Act, resource: ResourceOf = default_resource) -> Callable[[Request], Awaitable[Actor]]:
    """The dependency a route uses to declare what it does; it returns the permitted :class:`Actor`."""

    async def dependency(request: Request) -> Actor:
        ctx = get_ctx(request)
        try:
            actor = await authenticate(request)
        except AuthenticationRequired:
            if not allowed(ANONYMOUS, action):
                raise
            actor = ANONYMOUS  # bad credentials do not lock anyone out of public routes
        perm = allowed(actor, action, resource(request, actor))
        if not perm.allowed:
            if actor.role is Role.ANONYMOUS:
                raise AuthenticationRequired(perm.reason)
            raise PermissionDenied(perm.reason)
        if actor.via_cookie and request.method not in SAFE_METHODS and not allowed(ANONYMOUS, action):
            await _check_csrf(request)  # (open actions such as signing in gain nothing from a forgery)
        if actor.key_id is not None:
            wait = ctx.limiter.check(actor.key_id, actor.rate_limit)
            if wait > 0:
                ctx.metrics.rate_limited.inc()
                raise RateLimited(wait, ctx.limiter.limit_for(actor.rate_limit))
        request.state.actor = actor
        return actor

    dependency.action = action  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{action.value.replace(':', '_')}"
    return dependency


async def _check_csrf(request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE, "")
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not csrf_ok(token, given):
        raise PermissionDenied(
            f"missing or wrong CSRF token: send the {CSRF_HEADER} header (or the {CSRF_FIELD} form field) "
            "given at sign-in"
        )


def tenant_of(request: Request, actor: Actor) -> str:
    """The one tenant a data route works on (deployment admins must name it with ``?tenant=``)."""
    tenant = default_resource(request, actor).tenant
    if tenant is None:
        raise InputError("say which platform: add ?tenant=<platform id>")
    if tenant != actor.tenant and get_ctx(request).tenancy.tenant(tenant) is None:
        raise NotFoundError(f"no platform {tenant!r}")
    return tenant


def action_of(dependency: Any) -> Act | None:
    return getattr(dependency, "action", None)
