"""The family API: a parent's view of their linked children, a child's view (for the platform to embed),
invitations and the platform's family settings. Pages for people are in ``routes/family_pages.py``.

Every route declares its one action; the permissions table decides (a parent reaches only children linked
to them; a child's page token only its own account; a platform only its own tenant). Message text never
appears in a parent response, except :func:`flagged` under the escalation rule.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from safeguarding.errors import MalformedJSON
from safeguarding.families.controls import FamilySettings
from safeguarding.families.wording import HELP, MONITORING_SIGN, PARENT_DOES_NOT_SEE, PARENT_SEES
from safeguarding.service import family as fam
from safeguarding.service.deps import get_ctx, require, tenant_of
from safeguarding.service.permissions import Act, Actor
from safeguarding.service.routes.common import ERRORS

router = APIRouter(tags=["families"], responses=ERRORS)
AccountId = Annotated[str, Field(min_length=1, max_length=256)]
NoticeId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ControlsIn(_In):
    approval_required: bool = False
    pause_non_connections: bool = False


class ApprovalIn(_In):
    approve: bool


class InvitationIn(_In):
    parent: str = Field(min_length=1, max_length=32)
    child: AccountId


class AnswerIn(_In):
    accept: bool


class ReportIn(_In):
    about: AccountId
    reason: str = Field(max_length=40)
    conversation: AccountId | None = None
    tell_parent: bool = False
    notice: NoticeId | None = None


class BlockIn(_In):
    about: AccountId
    notice: NoticeId | None = None


class PageLinkIn(_In):
    minutes: int = Field(default=60, ge=1, le=24 * 60)


def _me(actor: Actor) -> str:
    return actor.user_id or actor.key_id or "-"


# -- the parent ------------------------------------------------------------------------------------------


@router.get("/v1/family", summary="A parent's linked children: a one-screen summary of each")
def family(request: Request, actor: Annotated[Actor, Depends(require(Act.FAMILY_READ))]) -> dict[str, Any]:
    ctx = get_ctx(request)
    assert actor.tenant is not None
    now = ctx.clock.now()
    kids = [fam.summary_json(fam.child_summary(ctx, actor.tenant, c), now) for c in sorted(actor.children)]
    pending = [
        {"id": v.id, "child": v.child, "expires_at": v.expires_at.isoformat()}
        for v in fam.store(ctx).invitations(actor.tenant, parent=actor.user_id)
        if v.open(now)
    ]
    weekly = fam.store(ctx).weekly_email(actor.tenant, actor.user_id or "")
    return {"children": kids, "invitations_waiting_for_the_child": pending, "weekly_email": weekly}


class PrefsIn(_In):
    weekly_email: bool


@router.put("/v1/family/preferences", summary="A parent's own preferences (the weekly summary by email)")
def preferences(
    body: PrefsIn, request: Request, actor: Annotated[Actor, Depends(require(Act.FAMILY_PREFS_MANAGE))]
) -> dict[str, bool]:
    ctx = get_ctx(request)
    assert actor.tenant is not None and actor.user_id is not None
    fam.store(ctx).set_weekly_email(actor.tenant, actor.user_id, body.weekly_email, ctx.clock.now())
    return {"weekly_email": body.weekly_email}


@router.get("/v1/family/summary", summary="This week's summary (the same text the weekly email carries)")
def weekly(request: Request, actor: Annotated[Actor, Depends(require(Act.FAMILY_READ))]) -> dict[str, str]:
    assert actor.tenant is not None
    subject, text = fam.summary_text(get_ctx(request), actor.tenant, sorted(actor.children))
    return {"subject": subject, "text": text}


@router.get(
    "/v1/family/children/{account_id:path}/alerts/{key}/messages",
    summary="The messages behind an alert (under-13s, after escalation, if the platform allows)",
)
def flagged(
    account_id: str, key: str, request: Request, actor: Annotated[Actor, Depends(require(Act.FAMILY_READ))]
) -> dict[str, Any]:
    ctx = get_ctx(request)
    assert actor.tenant is not None
    return {"messages": fam.flagged_messages(ctx, actor.tenant, account_id, key)}


@router.put("/v1/family/children/{account_id:path}/controls", summary="Set the controls the platform allows")
def controls(
    account_id: str, body: ControlsIn, request: Request,
    actor: Annotated[Actor, Depends(require(Act.FAMILY_MANAGE))],
) -> dict[str, Any]:  # fmt: skip
    ctx = get_ctx(request)
    assert actor.tenant is not None
    fam.set_controls(ctx, actor.tenant, account_id, body.approval_required, body.pause_non_connections)
    return fam.child_summary(ctx, actor.tenant, account_id).controls


@router.post("/v1/family/children/{account_id:path}/approvals/{adult}",
             summary="Approve (or refuse) a new adult contact")  # fmt: skip
def approve(
    account_id: str, adult: str, body: ApprovalIn, request: Request,
    actor: Annotated[Actor, Depends(require(Act.FAMILY_MANAGE))],
) -> dict[str, Any]:  # fmt: skip
    ctx = get_ctx(request)
    assert actor.tenant is not None
    fam.decide_contact(ctx, actor.tenant, account_id, adult, body.approve, _me(actor))
    return {"adult": adult, "status": "approved" if body.approve else "declined"}


@router.delete(
    "/v1/family/children/{account_id:path}/link",
    summary="Unlink yourself from a child (recorded)",
    status_code=204,
)
def unlink(
    account_id: str, request: Request, actor: Annotated[Actor, Depends(require(Act.FAMILY_MANAGE))]
) -> JSONResponse:
    ctx = get_ctx(request)
    assert actor.tenant is not None and actor.user_id is not None
    fam.unlink(ctx, actor.tenant, actor.user_id, account_id, by=f"parent:{actor.user_id}")
    return JSONResponse(None, status_code=204)


@router.get("/v1/family/children/{account_id:path}", summary="One linked child: contacts, alerts, controls")
def child(
    account_id: str, request: Request, actor: Annotated[Actor, Depends(require(Act.FAMILY_READ))]
) -> dict[str, Any]:
    ctx = get_ctx(request)
    assert actor.tenant is not None
    return fam.summary_json(fam.child_summary(ctx, actor.tenant, account_id), ctx.clock.now())


# -- the platform: invitations, settings, the child's page ------------------------------------------------


@router.post(
    "/v1/tenants/{tenant}/parent-invitations", summary="Invite a parent to link to a child", status_code=201
)
def invite(
    tenant: str, body: InvitationIn, request: Request,
    actor: Annotated[Actor, Depends(require(Act.PARENT_LINKS_MANAGE))],
) -> JSONResponse:  # fmt: skip
    out = fam.invite(get_ctx(request), tenant, body.parent, body.child, by=actor.label)
    return JSONResponse(out, status_code=201)


@router.get("/v1/tenants/{tenant}/family-settings", summary="What parents may do and see on this platform")
def get_settings(
    tenant: str, request: Request, _: Annotated[Actor, Depends(require(Act.FAMILY_SETTINGS_MANAGE))]
) -> dict[str, Any]:
    return _settings(fam.store(get_ctx(request)).settings(tenant))


@router.put("/v1/tenants/{tenant}/family-settings", summary="Change what parents may do and see")
async def put_settings(
    tenant: str, request: Request, _: Annotated[Actor, Depends(require(Act.FAMILY_SETTINGS_MANAGE))]
) -> dict[str, Any]:
    ctx = get_ctx(request)
    try:
        doc = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise MalformedJSON("the body is not a JSON object") from None
    fs = fam.store(ctx)
    new = FamilySettings.from_mapping(doc, base=await run_in_threadpool(fs.settings, tenant))
    await run_in_threadpool(fs.set_settings, tenant, new)
    return _settings(new)


def _settings(s: FamilySettings) -> dict[str, Any]:
    return asdict(s)


@router.post("/v1/children/{account_id:path}/page-links", summary="A short-lived link to the child's page",
             status_code=201)  # fmt: skip
def page_link(
    account_id: str, body: PageLinkIn, request: Request,
    actor: Annotated[Actor, Depends(require(Act.CHILD_VIEWS_CREATE))],
) -> JSONResponse:  # fmt: skip
    ctx = get_ctx(request)
    tenant = tenant_of(request, actor)
    token, expires = fam.issue_child_token(ctx, tenant, account_id, body.minutes)
    return JSONResponse({"url": f"/child/{token}", "token": token, "expires_at": expires.isoformat()}, 201)


# -- the child (a platform key acting for them, or their page token) --------------------------------------


@router.post("/v1/children/{account_id:path}/reports", summary="The child reports someone", status_code=201)
def report(
    account_id: str,
    body: ReportIn,
    request: Request,
    actor: Annotated[Actor, Depends(require(Act.CHILD_ACT))],
) -> JSONResponse:
    ctx = get_ctx(request)
    tenant = tenant_of(request, actor)
    b = body
    out = fam.child_report(
        ctx, tenant, account_id, b.about, b.conversation, b.reason, b.tell_parent, b.notice
    )
    return JSONResponse(out, status_code=201)


@router.post("/v1/children/{account_id:path}/blocks", summary="The child blocks someone", status_code=201)
def block(
    account_id: str, body: BlockIn, request: Request, actor: Annotated[Actor, Depends(require(Act.CHILD_ACT))]
) -> JSONResponse:
    fam.child_block(get_ctx(request), tenant_of(request, actor), account_id, body.about, body.notice)
    return JSONResponse({"blocked": body.about}, status_code=201)


@router.post(
    "/v1/children/{account_id:path}/notices/{notice_id}/dismiss", summary="The child closes a notice"
)
def dismiss(
    account_id: str,
    notice_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    actor: Annotated[Actor, Depends(require(Act.CHILD_ACT))],
) -> dict[str, Any]:
    ctx = get_ctx(request)
    fam.dismiss_notice(ctx, tenant_of(request, actor), account_id, notice_id)
    return {"id": notice_id, "open": False}


@router.post("/v1/children/{account_id:path}/invitations/{invitation_id}",
             summary="The child accepts or declines a parent's invitation")  # fmt: skip
def answer(
    account_id: str, invitation_id: str, body: AnswerIn, request: Request,
    actor: Annotated[Actor, Depends(require(Act.CHILD_ACT))],
) -> dict[str, Any]:  # fmt: skip
    fam.answer_invitation(get_ctx(request), tenant_of(request, actor), account_id, invitation_id, body.accept)
    return {"id": invitation_id, "answer": "accepted" if body.accept else "declined"}


@router.get(
    "/v1/children/{account_id:path}", summary="What the child sees: the monitoring sign, notices, help"
)
def child_view(
    account_id: str, request: Request, actor: Annotated[Actor, Depends(require(Act.CHILD_READ))]
) -> dict[str, Any]:
    ctx = get_ctx(request)
    v = fam.child_view(ctx, tenant_of(request, actor), account_id)
    return {
        "account": v.account,
        "monitoring": {
            "on": v.monitored, "sign": MONITORING_SIGN if v.monitored else None, "parents": v.parents,
            "parent_sees": list(PARENT_SEES), "parent_does_not_see": list(PARENT_DOES_NOT_SEE),
        },
        "notices": v.notices, "invitations": v.invitations, "reports": v.reports,
        "help": [{"name": h.name, "url": h.url, "what": h.what} for h in HELP],
    }  # fmt: skip
