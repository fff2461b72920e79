"""Family pages for people: the parent's pages (``/family``, cookie session) and the child's page
(``/child/<token>``, opened by the platform with a short-lived page token).

Thin over :mod:`safeguarding.service.family`, like the JSON API in ``routes/family.py``. Parent pages
use the console's sign-in, cookie and CSRF rules; a browser that is not signed in is sent to
``/family/login``. The child's page authenticates by the token in its path (:func:`child_page`), so its
forms need no CSRF token; every form posts and is redirected (303) back to the page. Parent pages never
render message text; the child's page shows the monitoring sign whenever a parent is linked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from safeguarding.errors import (
    AuthenticationRequired,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
)
from safeguarding.families.summary import week_sentence
from safeguarding.families.wording import (
    HELP,
    MONITORING_SIGN,
    NOTICE_REASON,
    PARENT_DOES_NOT_SEE,
    PARENT_SEES,
    REPORT_REASONS,
)
from safeguarding.service import family as fam
from safeguarding.service.auth import CHILD_PREFIX, SESSION_COOKIE
from safeguarding.service.deps import credentials, get_ctx, require
from safeguarding.service.permissions import Act, Actor, Resource, Role, allowed
from safeguarding.service.routes import pages
from safeguarding.service.routes.common import ERRORS
from safeguarding.service.routes.pages import fields, render, session_redirect, sign_in_form
from safeguarding.web import STATIC_DIR

router = APIRouter(tags=["family pages"], responses=ERRORS)
BRAND = "Family safety"

BAND_LABELS = {"under_13": "under 13", "13_15": "13-15", "16_17": "16-17", "adult": "adult",
               "unknown": "age unknown"}  # fmt: skip
YES = ("1", "true", "yes", "on")
"""Scripts may send ``approve``/``accept`` flags; the pages' buttons send ``decision``/``answer``."""
CHILD_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class ChildLinkExpired(AuthenticationRequired):
    """The child's page token is unknown or expired: a friendly page, not problem+json."""


def install(app: Any) -> None:
    """Register the child's friendly 'link expired' page (the sign-in redirect is :mod:`.pages`')."""

    async def on_expired(request: Request, exc: Exception) -> Response:
        resp = render(request, "child_expired.html", None, 401, brand="Staying safe", reason=str(exc))
        resp.headers.update(CHILD_HEADERS)
        return resp

    app.add_exception_handler(ChildLinkExpired, on_expired)


def family_page(action: Act) -> Callable[[Request], Awaitable[Actor]]:
    """:func:`pages.page` for parent pages: browsers that are not signed in go to ``/family/login``."""
    return pages.page(action, "/family/login")


def child_page(action: Act) -> Callable[[Request], Awaitable[Actor]]:
    """The child's page: the actor is the page token in the path (``sgc_…``), acting for one account."""

    async def dependency(request: Request) -> Actor:
        token = str(request.path_params.get("token", ""))
        if not token.startswith(CHILD_PREFIX):
            raise ChildLinkExpired("this link to your page is not right; open it again from the app")
        try:
            actor = await run_in_threadpool(get_ctx(request).auth.actor, token)
        except AuthenticationRequired as exc:
            raise ChildLinkExpired(str(exc)) from None
        if actor.role is not Role.CHILD:
            raise ChildLinkExpired("this link is not a child's page")
        perm = allowed(actor, action, Resource(tenant=actor.tenant, account=actor.account))
        if not perm.allowed:
            raise PermissionDenied(perm.reason)
        request.state.actor = actor
        return actor

    dependency.action = action  # type: ignore[attr-defined]
    dependency.__name__ = f"child_page_{action.value.replace(':', '_')}"
    return dependency


async def _done(back: str, work: Callable[[], Any], ok: str) -> Response:
    """Run an action; go back to the page with what happened (or why it was not done)."""
    try:
        await run_in_threadpool(work)
        msg = ok
    except (InputError, ConflictError, NotFoundError) as exc:
        msg = f"Not done: {exc}"
    return RedirectResponse(f"{back}?{urlencode({'msg': msg})}", status_code=303)


# -- the parent ------------------------------------------------------------------------------------------


def _login(request: Request, status: int = 200, nxt: str = "/family", error: str = "") -> HTMLResponse:
    nxt = pages.local_next(nxt, "/family")
    intro = "Sign in to see who your children talk to."
    return render(request, "login.html", None, status, next=nxt, error=error, brand=BRAND,
                  login_action="/family/login", intro=intro)  # fmt: skip


@router.get("/family/login", summary="The parents' sign-in page", response_class=HTMLResponse)
async def login_page(
    request: Request, _: Annotated[Actor, Depends(require(Act.SESSION_CREATE))], next: str = "/family"
) -> HTMLResponse:
    return _login(request, nxt=next)


@router.post("/family/login", summary="Sign a parent in (sets the session cookie)")
async def login(request: Request, _: Annotated[Actor, Depends(require(Act.SESSION_CREATE))]) -> Response:
    token, nxt, error = await sign_in_form(request, (Role.PARENT,))
    if token is None:
        if error == "forbidden":
            return _login(request, 403, nxt, "These pages are for parents and carers.")
        return _login(request, 401, nxt, error)
    return session_redirect(request, token, pages.local_next(nxt, "/family"))


@router.post("/family/logout", summary="Sign a parent's cookie session out")
async def logout(request: Request, _: Annotated[Actor, Depends(require(Act.SESSION_DELETE))]) -> Response:
    token, via_cookie = credentials(request)
    resp = RedirectResponse("/family/login", status_code=303)
    if token is not None and via_cookie:
        await run_in_threadpool(get_ctx(request).auth.end_session, token)
        resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/family/static/family.css", summary="The family pages' stylesheet")
async def stylesheet(_: Annotated[Actor, Depends(require(Act.DOCS_READ))]) -> Response:
    css = (STATIC_DIR / "family.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})


def _name(s: fam.ChildSummary) -> str:
    return s.display_name or s.account


def sentence(s: fam.ChildSummary, now: datetime) -> str:
    """The child's week in one sentence (alerts: the ones still open or escalated)."""
    live = sum(1 for a in s.alerts if a["status"] in ("open", "escalated"))
    return week_sentence(_name(s), s.contacts, live, now)


def child_url(account: str) -> str:
    return f"/family/children/{quote(account, safe='')}"


@router.get("/family", summary="A parent's children, one screen each", response_class=HTMLResponse)
def family(request: Request, actor: Annotated[Actor, Depends(family_page(Act.FAMILY_READ))]) -> HTMLResponse:
    ctx = get_ctx(request)
    assert actor.tenant is not None
    kids = [fam.child_summary(ctx, actor.tenant, c) for c in sorted(actor.children)]
    rows = [
        {"s": s, "name": _name(s), "sentence": sentence(s, ctx.clock.now()), "url": child_url(s.account)}
        for s in kids
    ]
    fs = fam.store(ctx)
    return render(
        request, "family.html", actor, kids=rows, brand=BRAND,
        weekly=fs.weekly_email(actor.tenant, actor.user_id or ""),
        weekly_offered=fs.settings(actor.tenant).allow_weekly_summary,
    )  # fmt: skip


@router.post("/family/preferences", summary="Turn the weekly summary email on or off (form)")
async def set_preferences(
    request: Request, actor: Annotated[Actor, Depends(family_page(Act.FAMILY_PREFS_MANAGE))]
) -> Response:
    ctx = get_ctx(request)
    on = (await fields(request)).get("weekly_email", "").lower() in YES
    tenant, me = actor.tenant or "", actor.user_id or ""
    work = lambda: fam.store(ctx).set_weekly_email(tenant, me, on, ctx.clock.now())  # noqa: E731
    return await _done("/family", work, "Weekly email on." if on else "Weekly email off.")


@router.get("/family/children/{account_id:path}/alerts/{key}", summary="Messages behind an escalated alert",
            response_class=HTMLResponse)  # fmt: skip
def flagged(
    request: Request, account_id: str, key: str,
    actor: Annotated[Actor, Depends(family_page(Act.FAMILY_READ))],
) -> HTMLResponse:  # fmt: skip
    """Only under the escalation rule (docs/families.md); otherwise the page says why, with status 409."""
    ctx = get_ctx(request)
    assert actor.tenant is not None
    s = fam.child_summary(ctx, actor.tenant, account_id)
    try:
        messages, refusal = fam.flagged_messages(ctx, actor.tenant, account_id, key), ""
    except (ConflictError, NotFoundError) as exc:
        messages, refusal = [], str(exc)
    return render(
        request, "family_flagged.html", actor, 409 if refusal else 200, child_name=_name(s),
        messages=messages, refusal=refusal, base=child_url(account_id), brand=BRAND, help=HELP,
    )  # fmt: skip


@router.get("/family/children/{account_id:path}", summary="One child: contacts, alerts, controls",
            response_class=HTMLResponse)  # fmt: skip
def child_detail(
    request: Request, account_id: str, actor: Annotated[Actor, Depends(family_page(Act.FAMILY_READ))]
) -> HTMLResponse:
    ctx = get_ctx(request)
    assert actor.tenant is not None
    s = fam.child_summary(ctx, actor.tenant, account_id)
    return render(
        request, "family_child.html", actor, s=s, child_name=_name(s), sentence=sentence(s, ctx.clock.now()),
        now=ctx.clock.now(), base=child_url(account_id), bands=BAND_LABELS, help=HELP, brand=BRAND,
        pending=[a for a in s.approvals if a["status"] == "pending"],
        readable=fam.may_read_flagged(ctx, actor.tenant, account_id),
    )  # fmt: skip


@router.post("/family/children/{account_id:path}/controls", summary="Set the controls (form)")
async def set_controls(
    request: Request, account_id: str, actor: Annotated[Actor, Depends(family_page(Act.FAMILY_MANAGE))]
) -> Response:
    ctx = get_ctx(request)
    assert actor.tenant is not None
    f = await fields(request)
    approval, pause = f.get("approval_required") == "1", f.get("pause_non_connections") == "1"
    work = lambda: fam.set_controls(ctx, actor.tenant or "", account_id, approval, pause)  # noqa: E731
    return await _done(child_url(account_id), work, "Controls saved.")


@router.post("/family/children/{account_id:path}/approvals/{adult}", summary="Approve or refuse (form)")
async def decide(
    request: Request, account_id: str, adult: str,
    actor: Annotated[Actor, Depends(family_page(Act.FAMILY_MANAGE))],
) -> Response:  # fmt: skip
    ctx = get_ctx(request)
    assert actor.tenant is not None
    f = await fields(request)
    approve = f.get("decision") == "approve" or f.get("approve", "").lower() in YES
    by = actor.user_id or "-"
    work = lambda: fam.decide_contact(ctx, actor.tenant or "", account_id, adult, approve, by)  # noqa: E731
    return await _done(child_url(account_id), work, "Approved." if approve else "Refused.")


# -- the child -------------------------------------------------------------------------------------------


@router.get("/child/{token}", summary="The child's page: monitoring sign, notices, help",
            response_class=HTMLResponse)  # fmt: skip
def child(
    request: Request, token: str, actor: Annotated[Actor, Depends(child_page(Act.CHILD_READ))]
) -> Response:
    ctx = get_ctx(request)
    assert actor.tenant is not None and actor.account is not None
    v = fam.child_view(ctx, actor.tenant, actor.account)
    resp = render(
        request, "child.html", None, v=v, base=f"/child/{token}", sign=MONITORING_SIGN, sees=PARENT_SEES,
        not_sees=PARENT_DOES_NOT_SEE, help=HELP, reasons=REPORT_REASONS, notice_reason=NOTICE_REASON,
        notices=[n for n in v.notices if n["open"]], brand="Staying safe",
    )  # fmt: skip
    resp.headers.update(CHILD_HEADERS)
    return resp


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise InputError("that notice is not right") from None


@router.post("/child/{token}/report", summary="The child reports someone (form)")
async def child_report(
    request: Request, token: str, actor: Annotated[Actor, Depends(child_page(Act.CHILD_ACT))]
) -> Response:
    ctx, f = get_ctx(request), await fields(request)
    t, me = actor.tenant or "", actor.account or ""

    def work() -> None:
        fam.child_report(ctx, t, me, f.get("about", ""), f.get("conversation") or None,
                         f.get("reason") or "made_me_uncomfortable", f.get("tell_parent") == "1",
                         _int(f.get("notice")))  # fmt: skip

    return await _done(f"/child/{token}", work, "Thank you. You reported them: the safety team will look.")


@router.post("/child/{token}/block", summary="The child blocks someone (form)")
async def child_block(
    request: Request, token: str, actor: Annotated[Actor, Depends(child_page(Act.CHILD_ACT))]
) -> Response:
    ctx, f = get_ctx(request), await fields(request)
    t, me = actor.tenant or "", actor.account or ""
    work = lambda: fam.child_block(ctx, t, me, f.get("about", ""), _int(f.get("notice")))  # noqa: E731
    return await _done(f"/child/{token}", work, "Blocked. They cannot message you now.")


@router.post("/child/{token}/dismiss", summary="The child closes a notice (form)")
async def child_dismiss(
    request: Request, token: str, actor: Annotated[Actor, Depends(child_page(Act.CHILD_ACT))]
) -> Response:
    ctx, f = get_ctx(request), await fields(request)
    t, me = actor.tenant or "", actor.account or ""

    def work() -> None:
        notice = _int(f.get("notice"))
        if notice is None:
            raise InputError("say which notice")
        fam.dismiss_notice(ctx, t, me, notice)

    return await _done(f"/child/{token}", work, "Closed.")


@router.post("/child/{token}/invitation", summary="The child accepts or declines a parent's invitation")
async def child_invitation(
    request: Request, token: str, actor: Annotated[Actor, Depends(child_page(Act.CHILD_ACT))]
) -> Response:
    ctx, f = get_ctx(request), await fields(request)
    t, me = actor.tenant or "", actor.account or ""
    accept = f.get("answer") == "accept" or f.get("accept", "").lower() in YES
    work = lambda: fam.answer_invitation(ctx, t, me, f.get("invitation", ""), accept)  # noqa: E731
    return await _done(f"/child/{token}", work, "Accepted." if accept else "Declined.")


__all__ = ["child_page", "family_page", "install", "router"]
