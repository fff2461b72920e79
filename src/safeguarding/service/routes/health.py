"""``/health`` (liveness, readiness, model and policy versions) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from safeguarding import __version__
from safeguarding.service.deps import get_ctx, require
from safeguarding.service.permissions import Act, Actor
from safeguarding.service.schemas.platform import HealthOut

router = APIRouter(tags=["operations"])


def _health(request: Request) -> dict[str, Any]:
    ctx = get_ctx(request)
    db = ctx.database_ok()
    ctx.metrics.ready.set(1 if db else 0)
    det = ctx.detector
    return {
        "status": "ok" if db else "degraded",
        "live": True,
        "ready": db,
        "version": __version__,
        "checks": {"database": "ok" if db else "unreachable"},
        "model": {
            "text_scoring": det is not None,
            "version": str(det.version) if det is not None else None,
            "threshold": float(det.threshold) if det is not None else None,
        },
        "policy": {"id": ctx.policy.id, "version": ctx.policy.version, "sha256": ctx.policy.digest},
    }


@router.get("/health", summary="Liveness, readiness, model and policy versions", response_model=HealthOut)
async def health(request: Request, _: Annotated[Actor, Depends(require(Act.HEALTH_READ))]) -> JSONResponse:
    body = await run_in_threadpool(_health, request)
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


@router.get("/health/live", summary="Liveness: the process answers")
async def live(_: Annotated[Actor, Depends(require(Act.HEALTH_READ))]) -> dict[str, bool]:
    return {"live": True}


@router.get("/health/ready", summary="Readiness: the database answers (503 when not)")
async def ready(request: Request, _: Annotated[Actor, Depends(require(Act.HEALTH_READ))]) -> JSONResponse:
    ok = await run_in_threadpool(get_ctx(request).database_ok)
    return JSONResponse({"ready": ok}, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (aggregate counts only)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request, _: Annotated[Actor, Depends(require(Act.METRICS_READ))]) -> Response:
    body = await run_in_threadpool(get_ctx(request).metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
