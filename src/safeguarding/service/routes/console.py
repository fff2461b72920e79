"""The moderator console (``/console``): server-rendered pages over the same sign-in and permissions.

Every route declares its one action like the API does (``console:read`` to look, ``cases:act`` to
claim, assign, act and decide appeals, ``referrals:export`` for packages). A browser that is not signed in is
sent to ``/console/login``; other clients get the API's 401. Forms post with the session cookie and
the CSRF token in a hidden field; the same routes accept JSON with a bearer token (scripts, tests).
A failed action is shown on the page for browsers and is a problem+json response otherwise.

What a page shows is assembled by :mod:`safeguarding.web.cases`; actions are
:mod:`safeguarding.web.actions`. Message text is never logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from safeguarding.errors import ConflictError, InputError, NotFoundError
from safeguarding.service.auth import SESSION_COOKIE
from safeguarding.service.deps import credentials, get_ctx, require, tenant_of
from safeguarding.service.permissions import Act, Actor, Role
from safeguarding.service.routes import pages
from safeguarding.service.routes.common import ERRORS
from safeguarding.service.routes.pages import browser, fields, render
from safeguarding.web import STATIC_DIR
from safeguarding.web import actions as acts
from safeguarding.web.cases import STATUSES, build_case, build_queue

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console", tags=["console"], responses=ERRORS)
Tenant = Annotated[str | None, Query(max_length=32, description="deployment admins: which platform")]


LOGIN = "/console/login"


def page(action: Act) -> Callable[[Request], Awaitable[Actor]]:
    """:func:`pages.page` for console routes: browsers that are not signed in go to the console's sign-in."""
    return pages.page(action, LOGIN)


def _tq(actor: Actor, tenant: str) -> str:
    """The ``?tenant=`` a deployment admin's links need (others have exactly one platform)."""
    return "" if actor.tenant is not None else "?" + urlencode({"tenant": tenant})


def case_url(key: str, actor: Actor, tenant: str, msg: str | None = None) -> str:
    url = f"/console/cases/{quote(key, safe='')}{_tq(actor, tenant)}"
    if msg:
        url += ("&" if "?" in url else "?") + urlencode({"msg": msg})
    return url


async def _do(request: Request, back: str, work: Callable[[], Any], done: str) -> Response:
    """Run an action in a thread; browsers go back to the page (with the outcome), scripts get JSON."""
    try:
        result = await run_in_threadpool(work)
    except (InputError, ConflictError) as exc:
        if not browser(request):
            raise
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}{urlencode({'msg': f'Not done: {exc}'})}", status_code=303)
    if not browser(request):
        body = result if isinstance(result, dict) else {"ok": True}
        return Response(json.dumps(body), media_type="application/json")
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}{urlencode({'msg': done})}", status_code=303)


# -- signing in -------------------------------------------------------------------------------------------


@router.get("/login", summary="The console's sign-in page", response_class=HTMLResponse)
async def login_page(
    request: Request, actor: Annotated[Actor, Depends(require(Act.SESSION_CREATE))], next: str = "/console"
) -> HTMLResponse:
    return render(request, "login.html", None, next=pages.local_next(next, "/console"))


@router.post("/login", summary="Sign in from the console's form (sets the session cookie)")
async def login(request: Request, _: Annotated[Actor, Depends(require(Act.SESSION_CREATE))]) -> Response:
    token, nxt, error = await pages.sign_in_form(request, (Role.MODERATOR, Role.ADMIN))
    nxt = pages.local_next(nxt, "/console")
    if token is None:
        if error == "forbidden":
            return render(request, "login.html", None, 403, next=nxt, error="The console is for moderators.")
        return render(request, "login.html", None, 401, next=nxt, error=error)
    return pages.session_redirect(request, token, nxt)


@router.post("/logout", summary="Sign the console's cookie session out")
async def logout(request: Request, _: Annotated[Actor, Depends(require(Act.SESSION_DELETE))]) -> Response:
    token, via_cookie = credentials(request)
    resp = RedirectResponse("/console/login", status_code=303)
    if token is not None and via_cookie:  # bearer sessions sign out at /v1/auth/logout
        await run_in_threadpool(get_ctx(request).auth.end_session, token)
        resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/static/console.css", summary="The console's stylesheet")
async def stylesheet(_: Annotated[Actor, Depends(require(Act.DOCS_READ))]) -> Response:
    css = (STATIC_DIR / "console.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})


# -- the queue and a case --------------------------------------------------------------------------------


@router.get(
    "", summary="The review queue: open alerts by risk and the child's age band", response_class=HTMLResponse
)
def queue(
    request: Request,
    actor: Annotated[Actor, Depends(page(Act.CONSOLE_READ))],
    kind: Annotated[str, Query(max_length=32)] = "",
    stage: Annotated[str, Query(max_length=32)] = "",
    band: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=16)] = "open",
    tenant: Tenant = None,
) -> HTMLResponse:
    ctx = get_ctx(request)
    if actor.tenant is None and tenant is None:  # a deployment admin: choose a platform first
        return render(request, "platforms.html", actor, platforms=ctx.tenancy.tenants())
    t = tenant_of(request, actor)
    with ctx.sql.engine.connect() as conn:
        q = build_queue(conn, t, kind=kind, stage=stage, band=band, status=status)
    return render(
        request, "queue.html", actor, q=q, tenant=t, tq=_tq(actor, t), statuses=STATUSES,
        case_url=lambda k: case_url(k, actor, t),
    )  # fmt: skip


@router.get(
    "/cases/{key:path}",
    summary="One case: timeline, participants, history, actions",
    response_class=HTMLResponse,
)
def case(
    request: Request,
    key: str,
    actor: Annotated[Actor, Depends(page(Act.CONSOLE_READ))],
    tenant: Tenant = None,
) -> HTMLResponse:
    """Opening a case counts as its first review (for the time-to-first-review statistic)."""
    from safeguarding.store.moderation import mark_reviewed

    ctx = get_ctx(request)
    t = tenant_of(request, actor)
    with ctx.sql.engine.begin() as conn:
        c = build_case(conn, ctx, t, key)
        if c is None:
            raise NotFoundError(f"no alert {key!r}")
        mark_reviewed(conn, t, key, ctx.clock.now())
    moderators = acts.assignable(ctx, t)
    return render(
        request, "case.html", actor, c=c, tenant=t, tq=_tq(actor, t), labels=acts.ACTION_LABELS,
        base=f"/console/cases/{quote(key, safe='')}", mine=c.review is not None
        and c.review.assignee == actor.user_id, moderators=moderators, reason_codes=acts.REASON_CODES,
        can_assign=c.alert.status in acts.ASSIGNABLE_STATUSES,
    )  # fmt: skip


@router.post("/cases/{key:path}/claim", summary="Claim (or release) a case so no one else works it")
async def claim(
    request: Request, key: str, actor: Annotated[Actor, Depends(page(Act.CASES_ACT))], tenant: Tenant = None
) -> Response:
    ctx, t = get_ctx(request), tenant_of(request, actor)
    release = (await fields(request)).get("release") == "1"
    done = "Released." if release else "Claimed: the case is yours."
    return await _do(
        request, case_url(key, actor, t), lambda: acts.claim(ctx, t, key, actor, release=release), done
    )


@router.post("/cases/{key:path}/assign", summary="Assign a case to a moderator of the same platform")
async def assign(
    request: Request, key: str, actor: Annotated[Actor, Depends(page(Act.CASES_ACT))], tenant: Tenant = None
) -> Response:
    ctx, t = get_ctx(request), tenant_of(request, actor)
    f = await fields(request)

    def work() -> dict[str, Any]:
        seq = acts.assign(ctx, t, key, actor, f.get("assignee", ""), f.get("reason"))
        log.info("%s assigned a case (evidence seq %d)", actor.label, seq)
        return {"assignee": f.get("assignee"), "evidence_seq": seq}

    return await _do(request, case_url(key, actor, t), work, "Assigned.")


@router.post(
    "/cases/{key:path}/actions", summary="Dismiss, warn, restrict, suspend or escalate, with a reason"
)
async def case_action(
    request: Request, key: str, actor: Annotated[Actor, Depends(page(Act.CASES_ACT))], tenant: Tenant = None
) -> Response:
    ctx, t = get_ctx(request), tenant_of(request, actor)
    f = await fields(request)
    action = f.get("action", "")

    def work() -> dict[str, Any]:
        d = acts.act(ctx, t, key, actor, action, f.get("reason"), f.get("reason_code"))
        log.info("%s did %s on a case (evidence seq %d)", actor.label, action, d.evidence_seq)
        return {"action_id": d.action_id, "evidence_seq": d.evidence_seq}

    return await _do(
        request, case_url(key, actor, t), work, f"Recorded: {acts.ACTION_LABELS.get(action, action)}."
    )


@router.post("/cases/{key:path}/appeals", summary="Record an appeal, or decide one")
async def case_appeal(
    request: Request, key: str, actor: Annotated[Actor, Depends(page(Act.CASES_ACT))], tenant: Tenant = None
) -> Response:
    ctx, t = get_ctx(request), tenant_of(request, actor)
    f = await fields(request)
    try:
        target = int(f.get("action_id", ""))
    except ValueError:
        raise InputError("say which action: action_id") from None
    decision = f.get("decision", "")
    if decision not in ("", "upheld", "rejected"):
        raise InputError("decision is 'upheld' (overturn) or 'rejected'")

    def work() -> dict[str, Any]:
        code = f.get("reason_code")
        if decision:
            d = acts.decide(ctx, t, target, actor, decision == "upheld", f.get("reason"), code)
        else:
            d = acts.appeal(ctx, t, target, actor, f.get("reason"), code)
        return {"action_id": d.action_id, "evidence_seq": d.evidence_seq}

    done = f"Appeal {decision}." if decision else "Appeal recorded."
    return await _do(request, case_url(key, actor, t), work, done)


@router.post("/cases/{key:path}/export", summary="Build the referral package of an escalated case")
async def case_export(
    request: Request,
    key: str,
    actor: Annotated[Actor, Depends(page(Act.REFERRALS_EXPORT))],
    tenant: Tenant = None,
) -> Response:
    ctx, t = get_ctx(request), tenant_of(request, actor)
    f = await fields(request)

    def work() -> dict[str, Any]:
        pid = acts.export_package(ctx, t, key, actor, imminent_danger=f.get("imminent_danger"))
        return {"package_id": pid, "download": f"/console/referrals/{pid}"}

    return await _do(request, case_url(key, actor, t), work, "Referral package built: download it below.")


@router.get("/referrals/{package_id}", summary="Download a referral package (zip)")
def referral_download(
    request: Request, package_id: str, actor: Annotated[Actor, Depends(page(Act.REFERRALS_EXPORT))],
    tenant: Tenant = None,
) -> Response:  # fmt: skip
    from safeguarding.store.moderation import package

    ctx, t = get_ctx(request), tenant_of(request, actor)
    with ctx.sql.engine.connect() as conn:
        found = package(conn, t, package_id)
    if found is None:
        raise NotFoundError(f"no referral package {package_id!r}")
    return Response(
        found[1], media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="referral-{package_id}.zip"'},
    )  # fmt: skip


__all__ = ["page", "render", "router"]
