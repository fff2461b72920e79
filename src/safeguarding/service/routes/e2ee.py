"""``/v1/e2ee``: encrypted mode's relay, directory, device alerts and verified reports (docs/e2ee.md).

Thin: each route names its permission action, reads who is uploading (the platform's API key plus the
``X-Safeguarding-Account`` / ``X-Safeguarding-Device`` it authenticated) and calls
:class:`~safeguarding.service.e2ee.E2EEService`. Refusals are 422 with the
:class:`~safeguarding.e2ee.Rejection` code first in ``detail`` (e.g. ``replay: ...``); encrypted mode
without a franking key configured answers 404 saying so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from safeguarding.errors import InputError, MalformedJSON, NotFoundError
from safeguarding.service.deps import get_ctx, require, tenant_of
from safeguarding.service.e2ee import KIND_ENVELOPE, KIND_KEY_PACKAGE, MAX_PENDING, E2EEService
from safeguarding.service.permissions import Act, Actor
from safeguarding.service.routes.common import ERRORS

router = APIRouter(prefix="/v1/e2ee", tags=["encrypted mode"])

ACCOUNT_HEADER = "x-safeguarding-account"
DEVICE_HEADER = "x-safeguarding-device"


def e2ee_of(request: Request) -> E2EEService:
    """The process's encrypted-mode service, made on first use (tests may set ``app.state.e2ee``)."""
    svc: E2EEService | None = getattr(request.app.state, "e2ee", None)
    if svc is None:
        svc = request.app.state.e2ee = E2EEService.from_context(get_ctx(request))
    if svc.root is None:
        raise NotFoundError(
            "encrypted mode is off on this service (its operator sets SAFEGUARDING_FRANKING_KEY)"
        )
    return svc


def uploader(request: Request, *, device: bool = True) -> tuple[str, str]:
    """The account (and device) the platform authenticated for this request."""
    account = request.headers.get(ACCOUNT_HEADER, "").strip()
    dev = request.headers.get(DEVICE_HEADER, "").strip()
    if not account or (device and not dev):
        need = "X-Safeguarding-Account and X-Safeguarding-Device" if device else "X-Safeguarding-Account"
        raise InputError(f"say who is uploading: send {need} of the user and device your platform signed in")
    return account, dev


@dataclass(frozen=True, slots=True)
class Upload:
    """Who is calling from which device, for which platform, and the service that answers."""

    svc: E2EEService
    tenant: str
    account: str
    device: str


def upload(request: Request, actor: Actor) -> Upload:
    account, device = uploader(request)
    return Upload(e2ee_of(request), tenant_of(request, actor), account, device)


def _accepted(out: dict[str, Any]) -> JSONResponse:
    """201 for something new, 200 for a safe resend of the same thing."""
    return JSONResponse(out, status_code=201 if out["status"] == "accepted" else 200)


async def _json(request: Request) -> object:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, RecursionError, json.JSONDecodeError):
        raise MalformedJSON("the body is not valid JSON") from None


async def _run(fn: Callable[[], dict[str, Any]], status: int = 200) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(fn), status_code=status)


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["envelope", "key_package"]
    upto: int = Field(ge=0, description="the last 'seq' the device stored; it and every earlier item go")


@router.post(
    "/devices",
    summary="Register a device's public keys (self-signed DeviceIdentity)",
    description=(
        "Keys of a known device are never replaced (409): a reinstalled app registers as a new device."
    ),
    responses=ERRORS,
)
async def register_device(
    request: Request, actor: Annotated[Actor, Depends(require(Act.E2EE_WRITE))]
) -> JSONResponse:
    svc, tenant = e2ee_of(request), tenant_of(request, actor)
    body = await _json(request)
    account, _ = uploader(request, device=False)
    out = await run_in_threadpool(svc.register_device, tenant, account, body)
    return JSONResponse(out, status_code=201 if out["created"] else 200)


@router.get("/devices/{account_id:path}", summary="An account's registered devices", responses=ERRORS)
async def get_devices(
    account_id: str, request: Request, actor: Annotated[Actor, Depends(require(Act.E2EE_READ))]
) -> JSONResponse:
    svc, tenant = e2ee_of(request), tenant_of(request, actor)
    return await _run(lambda: svc.devices(tenant, account_id))


@router.post(
    "/key-packages",
    summary="Relay sealed conversation keys (one package, or {'packages': [...]})",
    responses=ERRORS,
)
async def post_key_packages(
    request: Request, actor: Annotated[Actor, Depends(require(Act.E2EE_WRITE))]
) -> JSONResponse:
    u, body = upload(request, actor), await _json(request)
    return await _run(lambda: u.svc.post_key_packages(u.tenant, u.account, u.device, body), 202)


@router.get("/key-packages", summary="Key packages waiting for the signed-in device", responses=ERRORS)
async def get_key_packages(
    request: Request,
    actor: Annotated[Actor, Depends(require(Act.E2EE_READ))],
    limit: Annotated[int, Query(ge=1, le=MAX_PENDING)] = MAX_PENDING,
) -> JSONResponse:
    u = upload(request, actor)
    return await _run(lambda: u.svc.pending(u.tenant, u.account, u.device, KIND_KEY_PACKAGE, limit))


@router.post(
    "/envelopes",
    summary="Upload an encrypted message",
    description=(
        "Stamped with the server's franking tag and its receive time; its text-free message event goes "
        "through the same ingest as POST /v1/events, and the engine's decision decides which recipients' "
        "devices get it. Refused (422): replay, nonce_reuse, sender_mismatch, unknown_device, malformed. "
        "The identical envelope uploaded again answers status 'duplicate' (a safe retry)."
    ),
    responses=ERRORS,
)
async def post_envelope(
    request: Request, actor: Annotated[Actor, Depends(require(Act.E2EE_WRITE))]
) -> JSONResponse:
    u, body = upload(request, actor), await _json(request)
    return await _run(lambda: u.svc.post_envelope(u.tenant, u.account, u.device, body))


@router.get("/envelopes", summary="Stamped envelopes waiting for the signed-in device", responses=ERRORS)
async def get_envelopes(
    request: Request,
    actor: Annotated[Actor, Depends(require(Act.E2EE_READ))],
    limit: Annotated[int, Query(ge=1, le=MAX_PENDING)] = MAX_PENDING,
) -> JSONResponse:
    u = upload(request, actor)
    return await _run(lambda: u.svc.pending(u.tenant, u.account, u.device, KIND_ENVELOPE, limit))


@router.post(
    "/inbox/ack",
    summary="The device stored its items up to 'seq': the server deletes them (and their ciphertext)",
    responses=ERRORS,
)
async def acknowledge(
    body: AckIn, request: Request, actor: Annotated[Actor, Depends(require(Act.E2EE_WRITE))]
) -> JSONResponse:
    u = upload(request, actor)
    return await _run(lambda: u.svc.acknowledge(u.tenant, u.account, u.device, body.upto, body.kind))


@router.post(
    "/device-alerts",
    summary="A device's signed, text-free grooming alert",
    description=(
        "Checked (signature, uploader, participant of the conversation by message metadata, time), "
        "deduplicated on alert_id, rate-limited per device, and listed by GET /v1/alerts as kind "
        "'device_grooming'."
    ),
    responses=ERRORS,
)
async def post_device_alert(
    request: Request, actor: Annotated[Actor, Depends(require(Act.E2EE_WRITE))]
) -> JSONResponse:
    u, body = upload(request, actor), await _json(request)
    return _accepted(await run_in_threadpool(u.svc.post_device_alert, u.tenant, u.account, u.device, body))


@router.post(
    "/reports",
    summary="A user's report revealing messages, verified by message franking",
    description=(
        "Refused (422) unless every message is exactly what its sender sent to the reporter: "
        "never_sent, wrong_sender, forged_franking_tag, altered_plaintext, bad_signature, not_a_recipient, "
        "stale. Listed by GET /v1/alerts as kind 'verified_report'; the text is readable only by the "
        "platform's moderators and admins (GET /v1/e2ee/reports/{report_id})."
    ),
    responses=ERRORS,
)
async def post_report(
    request: Request, actor: Annotated[Actor, Depends(require(Act.E2EE_WRITE))]
) -> JSONResponse:
    u, body = upload(request, actor), await _json(request)
    return _accepted(await run_in_threadpool(u.svc.post_report, u.tenant, u.account, u.device, body))


@router.get(
    "/reports/{report_id:path}",
    summary="A verified report with its revealed messages (moderators and admins only)",
    tags=["moderation"],
    responses=ERRORS,
)
async def get_report(
    report_id: str, request: Request, actor: Annotated[Actor, Depends(require(Act.E2EE_REPORTS_READ))]
) -> JSONResponse:
    svc, tenant = e2ee_of(request), tenant_of(request, actor)
    return await _run(lambda: svc.report(tenant, report_id))
