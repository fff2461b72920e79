"""Signing in and out (``/v1/auth``): a bearer token for scripts, an HttpOnly cookie + CSRF for browsers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from safeguarding.errors import InputError, MalformedJSON, RateLimited
from safeguarding.service import admin
from safeguarding.service.auth import SESSION_COOKIE, csrf_for
from safeguarding.service.deps import credentials, get_ctx, require
from safeguarding.service.permissions import Act, Actor
from safeguarding.service.routes.common import ERRORS
from safeguarding.service.schemas.people import LoginIn, MeOut, SessionOut

router = APIRouter(prefix="/v1/auth", tags=["people"])

_LOGIN_SCHEMA = LoginIn.model_json_schema()
_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _LOGIN_SCHEMA},
            "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA},
        },
    }
}


async def _login_form(request: Request) -> LoginIn:
    ctype = request.headers.get("content-type", "")
    try:
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            return LoginIn.model_validate({k: v for k, v in form.items() if isinstance(v, str)})
        raw = await request.body()
        try:
            return LoginIn.model_validate_json(raw)
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                raise MalformedJSON("the body is not valid JSON") from None
            raise
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise InputError(problems) from None


def _me(actor: Actor, csrf: str | None = None) -> dict[str, Any]:
    return MeOut(
        id=actor.user_id or "",
        role=actor.role.value,
        tenant=actor.tenant,
        display_name=actor.name,
        children=sorted(actor.children),
        csrf_token=csrf,
    ).model_dump(mode="json")


@router.post(
    "/login",
    summary="Sign in with email and password (JSON or an HTML form)",
    response_model=SessionOut,
    responses=ERRORS,
    openapi_extra=_LOGIN_BODY,
)
async def login(request: Request, _: Annotated[Actor, Depends(require(Act.SESSION_CREATE))]) -> JSONResponse:
    ctx = get_ctx(request)
    body = await _login_form(request)
    client = request.client.host if request.client else "-"
    wait = ctx.login_limiter.check(f"{client}|{body.email.lower()}")  # slows guessing one person's password
    if wait > 0:
        raise RateLimited(wait, ctx.login_limiter.rate)
    token, session, user = await run_in_threadpool(admin.sign_in, ctx, body.email, body.password)
    actor = ctx.auth.person(user, session.id)
    csrf = csrf_for(token)
    resp = JSONResponse(
        {
            "token": token,
            "csrf_token": csrf,
            "expires_at": session.expires_at.isoformat(),
            "user": _me(actor),
        }
    )
    secure = ctx.settings.cookie_secure
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ctx.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" if secure is None else secure,
        path="/",
    )
    return resp


@router.post(
    "/logout", summary="End this session", status_code=204, response_class=Response, responses=ERRORS
)
async def logout(request: Request, _: Annotated[Actor, Depends(require(Act.SESSION_DELETE))]) -> Response:
    ctx = get_ctx(request)
    token, _via_cookie = credentials(request)
    if token is not None:
        await run_in_threadpool(ctx.auth.end_session, token)
    resp = Response(status_code=204)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/me", summary="Who is signed in (and the CSRF token for cookie sessions)", response_model=MeOut)
async def me(request: Request, actor: Annotated[Actor, Depends(require(Act.SESSION_READ))]) -> JSONResponse:
    token, via_cookie = credentials(request)
    return JSONResponse(_me(actor, csrf_for(token) if via_cookie and token else None))
