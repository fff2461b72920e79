"""Transparency statistics: ``GET /v1/stats`` (JSON, or CSV with ``?format=csv``) and ``/console/stats``.

Counts only (see :mod:`safeguarding.web.stats`). A moderator, an admin of a platform or its API key see
their platform; a deployment admin sees every platform, or one with ``?tenant=``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from safeguarding.errors import InputError, NotFoundError
from safeguarding.service.deps import get_ctx, require
from safeguarding.service.permissions import Act, Actor
from safeguarding.service.routes.common import ERRORS
from safeguarding.service.routes.console import page, render
from safeguarding.service.schemas.platform import check_instant
from safeguarding.web import stats as s

router = APIRouter(tags=["moderation"], responses=ERRORS)
Period = Annotated[Literal["day", "week", "month"], Query(description="grouping period")]
When = Annotated[datetime | None, Query(description="ISO 8601 with zone")]
Tenant = Annotated[str | None, Query(max_length=32, description="deployment admins: one platform")]


def _scope(request: Request, actor: Actor, tenant: str | None) -> str | None:
    if actor.tenant is not None:
        return actor.tenant
    if tenant is not None and get_ctx(request).tenancy.tenant(tenant) is None:
        raise NotFoundError(f"no platform {tenant!r}")
    return tenant


def _times(since: datetime | None, until: datetime | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None:
            try:
                check_instant(value)
            except ValueError as exc:
                raise InputError(f"{name}: {exc}") from None


async def _compute(
    request: Request, tenant: str | None, period: str, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    _times(since, until)
    ctx = get_ctx(request)

    def work() -> dict[str, Any]:
        with ctx.sql.engine.connect() as conn:
            return s.compute(conn, tenant, period=period, since=since, until=until)

    return await run_in_threadpool(work)


@router.get("/v1/stats", summary="Transparency statistics by platform, region and period (JSON or CSV)")
async def stats(
    request: Request,
    actor: Annotated[Actor, Depends(require(Act.STATS_READ))],
    period: Period = "month",
    since: When = None,
    until: When = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    tenant: Tenant = None,
) -> Response:
    doc = await _compute(request, _scope(request, actor, tenant), period, since, until)
    if format == "csv":
        return Response(
            s.to_csv(doc), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="safeguarding-stats.csv"'},
        )  # fmt: skip
    return JSONResponse(doc)


@router.get("/console/stats", summary="Transparency statistics with charts", response_class=HTMLResponse)
async def stats_page(
    request: Request,
    actor: Annotated[Actor, Depends(page(Act.STATS_READ))],
    period: Period = "month",
    tenant: Tenant = None,
) -> HTMLResponse:
    scope = _scope(request, actor, tenant)
    doc = await _compute(request, scope, period, None, None)
    totals = doc["totals"]
    per_period: dict[str, int] = {}
    for g in doc["groups"]:
        per_period[g["period"]] = per_period.get(g["period"], 0) + g["alerts"]
    charts = [
        ("Alerts by grooming stage", s.bars(totals["alerts_by_stage"])),
        ("Alerts by kind", s.bars(totals["alerts_by_kind"])),
        ("Moderator actions", s.bars(totals["actions"])),
        (f"Alerts by {period}", s.bars(dict(sorted(per_period.items())))),
    ]
    q = f"period={period}" + (f"&tenant={scope}" if actor.tenant is None and scope else "")
    return render(request, "stats.html", actor, doc=doc, charts=charts, period=period, q=q,
                  tq=f"?tenant={scope}" if actor.tenant is None and scope else "")  # fmt: skip
