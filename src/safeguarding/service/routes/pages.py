"""What every server-rendered page shares: rendering, form fields, the sign-in redirect, the sign-in form
and its session cookie. Used by the moderator console (``/console``) and the family pages (``/family``).

A page route declares its one action with :func:`page` (the same check as :func:`require`, but a browser
that is not signed in is sent to that area's sign-in page instead of getting a 401).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from safeguarding.errors import AuthenticationRequired, InputError, RateLimited
from safeguarding.service import admin
from safeguarding.service.auth import SESSION_COOKIE, csrf_for
from safeguarding.service.deps import credentials, get_ctx, require
from safeguarding.service.permissions import Act, Actor, Role
from safeguarding.web import templates


class LoginRedirect(AuthenticationRequired):
    """A browser asked for a page without signing in: send it to ``login`` (then back to ``next_url``)."""

    def __init__(self, next_url: str, login: str) -> None:
        super().__init__("sign in first")
        self.next_url = next_url
        self.login = login


def install(app: Any) -> None:
    """Register the sign-in redirect (called by ``create_app``)."""

    async def on_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRedirect)
        return RedirectResponse(f"{exc.login}?" + urlencode({"next": exc.next_url}), status_code=303)

    app.add_exception_handler(LoginRedirect, on_login)


def browser(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def page(action: Act, login: str) -> Callable[[Request], Awaitable[Actor]]:
    """:func:`require` for a page: the same check, but browsers that are not signed in go to ``login``."""
    inner = require(action)

    async def dependency(request: Request) -> Actor:
        try:
            return await inner(request)
        except AuthenticationRequired:
            if request.method == "GET" and browser(request):
                raise LoginRedirect(str(request.url.path), login) from None
            raise

    dependency.action = action  # type: ignore[attr-defined]
    dependency.__name__ = f"page_{action.value.replace(':', '_')}"
    return dependency


async def fields(request: Request) -> dict[str, str]:
    """The submitted fields: an HTML form, or a JSON object (scripts and tests)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("send an HTML form or a JSON object") from None
    if not isinstance(doc, dict):
        raise InputError("send an HTML form or a JSON object")
    return {str(k): str(v) for k, v in doc.items() if v is not None}


def render(
    request: Request, name: str, actor: Actor | None, status: int = 200, **context: Any
) -> HTMLResponse:
    token, via_cookie = credentials(request)
    csrf = csrf_for(token) if token and via_cookie else ""
    return templates().TemplateResponse(
        request, name, {"actor": actor, "csrf": csrf, "flash": request.query_params.get("msg"), **context},
        status_code=status,
    )  # fmt: skip


def session_redirect(request: Request, token: str, to: str) -> RedirectResponse:
    """A 303 to ``to`` that sets the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    settings = get_ctx(request).settings
    resp = RedirectResponse(to, status_code=303)
    secure = request.url.scheme == "https" if settings.cookie_secure is None else settings.cookie_secure
    resp.set_cookie(
        SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), httponly=True, samesite="lax",
        secure=secure, path="/",
    )  # fmt: skip
    return resp


async def sign_in_form(request: Request, roles: tuple[Role, ...]) -> tuple[str | None, str, str]:
    """Check a sign-in form (rate limited per client and email): ``(token or None, next, error)``.

    ``error`` is ``"forbidden"`` for a person whose role may not use this area (their new session is
    ended at once), else a sentence for the form."""
    ctx = get_ctx(request)
    f = await fields(request)
    email, password = f.get("email", ""), f.get("password", "")
    client = request.client.host if request.client else "-"
    wait = ctx.login_limiter.check(f"{client}|{email.lower()}")
    if wait > 0:
        raise RateLimited(wait, ctx.login_limiter.rate)
    try:
        token, _session, user = await run_in_threadpool(admin.sign_in, ctx, email, password)
    except AuthenticationRequired:
        return None, f.get("next", ""), "Wrong email or password."
    if user.role not in {r.value for r in roles}:
        await run_in_threadpool(ctx.auth.end_session, token)
        return None, f.get("next", ""), "forbidden"
    return token, f.get("next", ""), ""


def local_next(nxt: str, area: str) -> str:
    """Where to go after signing in: a page of ``area`` (never an outside URL, never the sign-in page)."""
    ok = nxt.startswith(area) and not nxt.startswith(f"{area}/login") and "//" not in nxt
    return nxt if ok else area
