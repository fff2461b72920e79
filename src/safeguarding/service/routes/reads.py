"""Reading what the engine concluded: alerts (filtered, paged), conversation risk, account risk."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from safeguarding.engine import AlertKind
from safeguarding.errors import InputError, NotFoundError
from safeguarding.service.deps import get_ctx, require, tenant_of
from safeguarding.service.permissions import Act, Actor
from safeguarding.service.routes.common import ERRORS
from safeguarding.service.schemas.platform import (
    AccountRiskOut,
    AlertPageOut,
    ConversationRiskOut,
    check_instant,
)
from safeguarding.store.alerts import AlertQuery, AlertRecord
from safeguarding.types import Stage


class AlertKindFilter(StrEnum):
    """Alert kinds the store holds: the engine's, plus the E2EE mode's device alerts and verified reports."""

    GROOMING = AlertKind.GROOMING.value
    RISKY_ACCOUNT = AlertKind.RISKY_ACCOUNT.value
    BLOCKED_CONTACT_PATTERN = AlertKind.BLOCKED_CONTACT_PATTERN.value
    CHILD_REPORT = AlertKind.CHILD_REPORT.value
    DEVICE_GROOMING = "device_grooming"
    VERIFIED_REPORT = "verified_report"


router = APIRouter(prefix="/v1", tags=["platform", "moderation"])

STAGE_TEXT = {
    Stage.TRUST_BUILDING: "trust building: flattery, 'mature for your age', the one who understands",
    Stage.INFORMATION_GATHERING: "information gathering: age, location, who is at home",
    Stage.SECRECY_ISOLATION: "secrecy and isolation: keeping the chat secret, setting the child apart",
    Stage.SEXUALISATION: "sexualisation: sexual topics or requests for images",
    Stage.CONTROL_COERCION: "control and coercion: pressure, threats, guilt",
    Stage.OFF_PLATFORM: "moving off the platform: another app or a phone number",
    Stage.MEETING: "arranging to meet",
    Stage.GIFTS: "gifts: money, game currency, presents",
}


def _reasons(pairs: Any) -> list[dict[str, Any]]:
    return [{"code": r.code, "message": r.message, "weight": r.weight} for r in pairs]


def alert_json(a: AlertRecord) -> dict[str, Any]:
    return {
        "id": a.key,
        "kind": a.kind,
        "subject": a.subject,
        "conversation": a.conversation,
        "risk": a.risk,
        "stages": list(a.stages),
        "reasons": _reasons(a.reasons),
        "event": a.event_id,
        "event_at": a.event_at.isoformat(),
        "created_at": a.created_at.isoformat(),
        "status": a.status,
    }


def _aware(name: str, value: datetime | None) -> None:
    if value is not None:
        try:
            check_instant(value)
        except ValueError as exc:
            raise InputError(f"{name}: {exc}") from None


def _cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value = doc["before"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError
        return value
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InputError("invalid cursor: pass back the next_cursor of the previous page unchanged") from None


@router.get(
    "/alerts",
    summary="Alerts, newest first, filtered, one page at a time",
    response_model=AlertPageOut,
    responses=ERRORS,
)
def list_alerts(
    request: Request,
    actor: Annotated[Actor, Depends(require(Act.ALERTS_READ))],
    kind: Annotated[
        AlertKindFilter | None,
        Query(
            description="grooming, risky_account, blocked_contact_pattern, child_report, device_grooming, "
            "verified_report"
        ),
    ] = None,
    subject: Annotated[
        str | None, Query(min_length=1, max_length=256, description="account the alert is about")
    ] = None,
    conversation: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    status: Annotated[str | None, Query(min_length=1, max_length=16)] = None,
    min_risk: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    since: Annotated[
        datetime | None, Query(description="event time at or after (ISO 8601 with zone)")
    ] = None,
    until: Annotated[datetime | None, Query(description="event time before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    tenant: Annotated[
        str | None, Query(max_length=32, description="deployment admins: which platform")
    ] = None,
) -> JSONResponse:
    ctx = get_ctx(request)
    t = tenant_of(request, actor)
    _aware("since", since)
    _aware("until", until)
    query = AlertQuery(kind.value if kind else None, subject, conversation, status, min_risk, since, until)
    before = _decode_cursor(cursor) if cursor else None
    rows = ctx.alerts.alerts(t, query, before_id=before, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return JSONResponse(
        {"alerts": [alert_json(a) for a in page], "next_cursor": _cursor(page[-1].id) if more else None}
    )


@router.get(
    "/conversations/{conversation_id:path}/risk",
    summary="A conversation's risk, flag, suspect and grooming stages, with reasons",
    response_model=ConversationRiskOut,
    responses=ERRORS,
)
async def conversation_risk(
    request: Request,
    conversation_id: str,
    actor: Annotated[Actor, Depends(require(Act.CONVERSATIONS_READ))],
    tenant: Annotated[str | None, Query(max_length=32)] = None,
) -> JSONResponse:
    ctx = get_ctx(request)
    t = tenant_of(request, actor)

    def work() -> dict[str, Any]:
        rec = ctx.engines.read(t).conversation(conversation_id)
        if rec is None:
            raise NotFoundError(f"no conversation {conversation_id!r} has been scored")
        alerts = ctx.alerts.alerts(t, AlertQuery(conversation=conversation_id), limit=50)
        reasons: list[dict[str, Any]] = []
        if rec.flagged:
            reasons.append(
                {"code": "detector.flagged", "weight": rec.risk,
                 "message": f"the grooming detector flagged this conversation after {rec.messages} messages"}
            )  # fmt: skip
        for a in alerts:
            if a.kind == AlertKind.GROOMING.value:
                reasons.extend(_reasons(a.reasons))
        for s in rec.stages:
            reasons.append({"code": f"stage.{s}", "message": STAGE_TEXT.get(Stage(s), s), "weight": 0.0})
        return {
            "conversation": conversation_id,
            "risk": rec.risk,
            "flagged": rec.flagged,
            "suspect": rec.suspect,
            "stages": list(rec.stages),
            "messages": rec.messages,
            "updated_at": rec.updated_at.isoformat() if rec.updated_at else None,
            "model_version": rec.detector_version,
            "reasons": reasons,
            "alerts": [alert_json(a) for a in alerts],
        }

    return JSONResponse(await run_in_threadpool(work))


@router.get(
    "/accounts/{account_id:path}/risk",
    summary="An account's fused metadata risk, every signal's reading, and its alerts",
    response_model=AccountRiskOut,
    responses=ERRORS,
)
async def account_risk(
    request: Request,
    account_id: str,
    actor: Annotated[Actor, Depends(require(Act.ACCOUNTS_READ))],
    at: Annotated[datetime | None, Query(description="risk as of this time (default now), with zone")] = None,
    tenant: Annotated[str | None, Query(max_length=32)] = None,
) -> JSONResponse:
    ctx = get_ctx(request)
    t = tenant_of(request, actor)
    _aware("at", at)

    def work() -> dict[str, Any]:
        eng = ctx.engines.read(t)
        rec = eng.account(account_id)
        if rec is None:
            raise NotFoundError(f"no account {account_id!r}")
        risk = eng.account_risk(account_id, at=at)
        alerts = ctx.alerts.alerts(t, AlertQuery(subject=account_id), limit=50)
        return {
            "account": account_id,
            "risk": risk.risk,
            "age_band": rec.age_band.value,
            "assurance": rec.assurance.value,
            "signals": [
                {
                    "name": s.name,
                    "value": s.value,
                    "score": s.score,
                    "weight": s.weight,
                    "contribution": s.contribution,
                    "reason": s.reason,
                }
                for s in risk.signals
            ],
            "reasons": _reasons(risk.reasons),
            "alerts": [alert_json(a) for a in alerts],
        }

    return JSONResponse(await run_in_threadpool(work))
