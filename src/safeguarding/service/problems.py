"""Errors to HTTP, in exactly one place: RFC 9457 ``application/problem+json`` responses.

How the project's one error tree (:mod:`safeguarding.errors`) maps to HTTP::

    SafeguardingError
     ├── InputError ─────────────────── 422  (EventError: 422 naming the event)
     │    ├── MalformedJSON             400  the body is not JSON
     │    └── PayloadTooLarge           413  over SAFEGUARDING_MAX_BODY_BYTES, refused unread
     ├── PermissionDenied ───────────── 403  with the permission table's reason
     │    └── AuthenticationRequired    401  no or unknown credentials
     ├── NotFoundError ───────────────── 404
     ├── ConflictError ───────────────── 409
     ├── ModelError / ConfigError ────── 503
     └── RateLimited                    429  with Retry-After

Client mistakes are always 4xx with a reason a person can act on; a 500 means a bug (its details go
to the log, never to the client).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeguarding.errors import (
    AuthenticationRequired,
    ConfigError,
    ConflictError,
    EventError,
    InputError,
    MalformedJSON,
    ModelError,
    NotFoundError,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    SafeguardingError,
)

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


_TITLES = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; ``extra`` keys become extension members."""
    body: dict[str, Any] = {
        "type": f"urn:safeguarding:problem:{slug or status}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


def status_of(exc: SafeguardingError) -> tuple[int, str]:
    """The HTTP status and problem slug of one of the project's errors (the whole mapping)."""
    if isinstance(exc, PayloadTooLarge):
        return 413, "payload-too-large"
    if isinstance(exc, MalformedJSON):
        return 400, "malformed-json"
    if isinstance(exc, EventError):
        return 422, "invalid-event"
    if isinstance(exc, InputError):
        return 422, "invalid-input"
    if isinstance(exc, AuthenticationRequired):
        return 401, "authentication-required"
    if isinstance(exc, PermissionDenied):
        return 403, "forbidden"
    if isinstance(exc, NotFoundError):
        return 404, "not-found"
    if isinstance(exc, ConflictError):
        return 409, "conflict"
    if isinstance(exc, RateLimited):
        return 429, "rate-limited"
    if isinstance(exc, ModelError | ConfigError):
        return 503, "unavailable"
    return 500, "internal"


def error_response(exc: SafeguardingError, path: str | None = None, route: str | None = None) -> JSONResponse:
    """``path`` goes back to the client; logs name only the ``route`` template (paths hold account ids)."""
    status, slug = status_of(exc)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, AuthenticationRequired):
        headers["WWW-Authenticate"] = 'Bearer realm="safeguarding"'
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        extra["limit_per_second"] = exc.limit
    if isinstance(exc, EventError):
        extra["event"] = exc.event_id
    if isinstance(exc, PayloadTooLarge):
        extra["limit_bytes"] = exc.limit
    if status >= 500:
        log.error("%s on %s: %s", type(exc).__name__, route, exc)
        detail = "the service cannot answer now" if status == 503 else "internal error"
    else:
        detail = exc.reason if isinstance(exc, InputError | PermissionDenied) else str(exc)
        if isinstance(exc, InputError) and exc.where and not isinstance(exc, EventError):
            detail = f"{exc.where}: {detail}"
        elif isinstance(exc, EventError):
            detail = str(exc)
    return problem(status, detail, slug=slug, instance=path, headers=headers or None, **extra)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        out.append({"field": ".".join(loc), "problem": str(e.get("msg", "invalid")), "type": e.get("type")})
    return out


def _sentence(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors[:5]:
        where = e["field"].removeprefix("body.").removeprefix("query.").removeprefix("path.")
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown field {where!r}")
        elif e["type"] == "missing":
            parts.append(f"missing field {where!r}")
        else:
            parts.append(f"{where}: {e['problem']}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def _route(request: Request) -> str:
    """The route template (``/v1/accounts/{account_id}/risk``): never a child's identifier in a log."""
    return str(getattr(request.scope.get("route"), "path", "unmatched route"))


def install(app: FastAPI) -> None:
    """Register the handlers that make every error a problem+json response."""

    async def on_safeguarding(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SafeguardingError)
        return error_response(exc, request.url.path, _route(request))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(
                400, "the body is not valid JSON", slug="malformed-json", instance=request.url.path
            )
        return problem(422, _sentence(errors), slug="invalid-input", instance=request.url.path, errors=errors)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        return problem(exc.status_code, detail, instance=request.url.path, headers=dict(exc.headers or {}))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, _route(request))
        return problem(500, "internal error", slug="internal", instance=request.url.path)

    app.add_exception_handler(SafeguardingError, on_safeguarding)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
