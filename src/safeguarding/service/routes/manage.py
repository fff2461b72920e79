"""Managing the deployment: platforms, API keys (issue, rotate, revoke), webhook, people, parent links."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from safeguarding.service import admin
from safeguarding.service.deps import get_ctx, require
from safeguarding.service.permissions import Act, Actor, Role
from safeguarding.service.routes.common import ERRORS
from safeguarding.service.schemas.people import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    LinkIn,
    RotateIn,
    TenantIn,
    TenantOut,
    UserIn,
    UserOut,
    WebhookIn,
    WebhookOut,
)
from safeguarding.store.tenancy import ApiKeyRecord, TenantRecord, UserRecord

router = APIRouter(prefix="/v1/tenants", tags=["administration"], responses=ERRORS)


def _tenant(rec: TenantRecord) -> dict[str, Any]:
    return TenantOut(
        id=rec.id, name=rec.name, created_at=rec.created_at, webhook_url=rec.webhook_url
    ).model_dump(mode="json")


def _key(rec: ApiKeyRecord, key: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": rec.id,
        "tenant": rec.tenant,
        "name": rec.name,
        "created_at": rec.created_at,
        "expires_at": rec.expires_at,
        "revoked_at": rec.revoked_at,
        "last_used_at": rec.last_used_at,
        "rate_limit": rec.rate_limit,
    }
    model = ApiKeyCreatedOut(**fields, key=key) if key is not None else ApiKeyOut(**fields)
    return model.model_dump(mode="json")


def _user(rec: UserRecord) -> dict[str, Any]:
    return UserOut(
        id=rec.id, tenant=rec.tenant, email=rec.email, role=rec.role, display_name=rec.display_name,
        created_at=rec.created_at,
    ).model_dump(mode="json")  # fmt: skip


# -- platforms -------------------------------------------------------------------------------------------


@router.get("", summary="Platforms (deployment admins)", response_model=list[TenantOut])
def list_tenants(request: Request, _: Annotated[Actor, Depends(require(Act.TENANTS_MANAGE))]) -> JSONResponse:
    return JSONResponse([_tenant(t) for t in get_ctx(request).tenancy.tenants()])


@router.post("", summary="Add a platform (deployment admins)", status_code=201, response_model=TenantOut)
def create_tenant(
    body: TenantIn, request: Request, _: Annotated[Actor, Depends(require(Act.TENANTS_MANAGE))]
) -> JSONResponse:
    rec = admin.create_tenant(get_ctx(request), body.id, body.name)
    return JSONResponse(_tenant(rec), status_code=201)


# -- API keys --------------------------------------------------------------------------------------------


@router.get(
    "/{tenant}/api-keys", summary="A platform's API keys (never the secrets)", response_model=list[ApiKeyOut]
)
def list_keys(
    tenant: str, request: Request, _: Annotated[Actor, Depends(require(Act.API_KEYS_MANAGE))]
) -> JSONResponse:
    ctx = get_ctx(request)
    admin.require_tenant(ctx, tenant)
    return JSONResponse([_key(k) for k in ctx.tenancy.api_keys(tenant)])


@router.post(
    "/{tenant}/api-keys",
    summary="Issue an API key (shown once)",
    status_code=201,
    response_model=ApiKeyCreatedOut,
)
def issue_key(
    tenant: str, body: ApiKeyIn, request: Request, _: Annotated[Actor, Depends(require(Act.API_KEYS_MANAGE))]
) -> JSONResponse:
    new, rec = admin.issue_api_key(get_ctx(request), tenant, body.name, body.rate_limit)
    return JSONResponse(_key(rec, new.key), status_code=201)


@router.post(
    "/{tenant}/api-keys/{key_id}/rotate",
    summary="Rotate: a new key now, the old one lapses after the grace period",
    status_code=201,
    response_model=ApiKeyCreatedOut,
)
def rotate_key(
    tenant: str,
    key_id: str,
    request: Request,
    _: Annotated[Actor, Depends(require(Act.API_KEYS_MANAGE))],
    body: Annotated[RotateIn | None, Body()] = None,
) -> JSONResponse:
    grace = (body or RotateIn()).grace_hours
    new, rec = admin.rotate_api_key(get_ctx(request), tenant, key_id, grace)
    return JSONResponse(_key(rec, new.key), status_code=201)


@router.delete(
    "/{tenant}/api-keys/{key_id}", summary="Revoke a key now", status_code=204, response_class=Response
)
def revoke_key(
    tenant: str, key_id: str, request: Request, _: Annotated[Actor, Depends(require(Act.API_KEYS_MANAGE))]
) -> Response:
    admin.revoke_api_key(get_ctx(request), tenant, key_id)
    return Response(status_code=204)


# -- webhook ----------------------------------------------------------------------------------------------


@router.put(
    "/{tenant}/webhook",
    summary="Set the alert webhook URL (a new signing secret is returned once); null removes it",
    response_model=WebhookOut,
)
def put_webhook(
    tenant: str, body: WebhookIn, request: Request, _: Annotated[Actor, Depends(require(Act.WEBHOOK_MANAGE))]
) -> JSONResponse:
    secret = admin.set_webhook(get_ctx(request), tenant, body.url)
    return JSONResponse({"url": body.url, "secret": secret})


# -- people -------------------------------------------------------------------------------------------------


@router.get(
    "/{tenant}/users", summary="A platform's moderators, parents and admins", response_model=list[UserOut]
)
def list_users(
    tenant: str, request: Request, _: Annotated[Actor, Depends(require(Act.USERS_MANAGE))]
) -> JSONResponse:
    ctx = get_ctx(request)
    admin.require_tenant(ctx, tenant)
    return JSONResponse([_user(u) for u in ctx.tenancy.users(tenant)])


@router.post("/{tenant}/users", summary="Add a person who signs in", status_code=201, response_model=UserOut)
def create_user(
    tenant: str, body: UserIn, request: Request, _: Annotated[Actor, Depends(require(Act.USERS_MANAGE))]
) -> JSONResponse:
    rec = admin.create_user(
        get_ctx(request), tenant, body.email, body.password, Role(body.role), body.display_name
    )
    return JSONResponse(_user(rec), status_code=201)


# -- parent links (issue 6 adds invitations and the parent view on top) -----------------------------------


@router.post(
    "/{tenant}/parent-links",
    summary="Link a parent to an under-13's account directly (older children accept an invitation)",
    status_code=204,
    response_class=Response,
)
def link(
    tenant: str,
    body: LinkIn,
    request: Request,
    actor: Annotated[Actor, Depends(require(Act.PARENT_LINKS_MANAGE))],
) -> Response:
    admin.link_parent(get_ctx(request), tenant, body.parent, body.child, actor.label)
    return Response(status_code=204)


@router.delete(
    "/{tenant}/parent-links/{parent}/{child:path}",
    summary="Unlink (recorded, not erased)",
    status_code=204,
    response_class=Response,
)
def unlink(
    tenant: str,
    parent: str,
    child: str,
    request: Request,
    actor: Annotated[Actor, Depends(require(Act.PARENT_LINKS_MANAGE))],
) -> Response:
    admin.unlink_parent(get_ctx(request), tenant, parent, child, actor.label)
    return Response(status_code=204)
