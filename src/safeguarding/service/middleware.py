"""Two small ASGI middlewares: the body-size limit (413 before reading) and request metrics."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safeguarding.errors import PayloadTooLarge
from safeguarding.service.metrics import Metrics
from safeguarding.service.problems import PROBLEM


async def _send_problem(send: Send, status: int, detail: str, path: str, **extra: Any) -> None:
    body = json.dumps(
        {"type": f"urn:safeguarding:problem:{'payload-too-large' if status == 413 else 'malformed-request'}",
         "title": "Payload too large" if status == 413 else "Malformed request",
         "status": status, "detail": detail, "instance": path, **extra}
    ).encode()  # fmt: skip
    headers = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over ``limit`` bytes: at once by Content-Length, else while streaming (413)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_problem(send, 400, "invalid Content-Length header", path)
                    return
                if declared > self.limit:
                    await _send_problem(
                        send,
                        413,
                        f"request body larger than {self.limit} bytes",
                        path,
                        limit_bytes=self.limit,
                    )
                    return
        seen = 0
        limit = self.limit

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(limit)
            return message

        await self.app(scope, limited, send)


class RequestMetrics:
    """Count and time every request by method, route template and status (never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "-")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
