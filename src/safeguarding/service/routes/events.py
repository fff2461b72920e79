"""``POST /v1/events`` and ``POST /v1/decisions/contact``: the platform's write path and hot path."""

from __future__ import annotations

import copy
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from safeguarding.engine import Rejected
from safeguarding.events import event_json_schema
from safeguarding.policy import Decision
from safeguarding.service.deps import get_ctx, require, tenant_of
from safeguarding.service.ingest import parse_items, read_body, result_json
from safeguarding.service.permissions import Act, Actor
from safeguarding.service.problems import problem
from safeguarding.service.routes.common import ERRORS
from safeguarding.service.schemas.platform import (
    BatchOut,
    ContactDecisionIn,
    ContactDecisionOut,
    EventResultOut,
)

router = APIRouter(prefix="/v1", tags=["platform"])


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """JSON Schema with local ``$ref``s replaced by their definitions (OpenAPI has no ``$defs`` here)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]), defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def events_request_schema(max_events: int) -> dict[str, Any]:
    variants = []
    for kind, schema in event_json_schema().items():
        s = _inline(schema, schema.get("$defs", {}))
        s["title"] = f"{kind} event"
        s["additionalProperties"] = False
        variants.append(s)
    event = {"oneOf": variants, "discriminator": {"propertyName": "type"}}
    batch = {"type": "array", "items": event, "minItems": 1, "maxItems": max_events}
    envelope = {
        "type": "object",
        "properties": {"events": batch},
        "required": ["events"],
        "additionalProperties": False,
        "title": "batch",
    }
    return {
        "requestBody": {
            "required": True,
            "description": 'One event (docs/events.md), an array of events, or {"events": [...]}.',
            "content": {"application/json": {"schema": {"oneOf": [event, batch, envelope]}}},
        }
    }


@router.post(
    "/events",
    summary="Send one event or a batch",
    description=(
        "Each event is processed in order and the whole request is committed in one transaction. "
        "Idempotent on event id: a resent event returns its stored outcome with status 'duplicate'. "
        "In a batch a malformed event comes back 'rejected' with its reason while the others proceed; "
        "a single malformed event is a 422."
    ),
    response_model=BatchOut | EventResultOut,
    responses=ERRORS,
    openapi_extra=events_request_schema(5000),
)
async def post_events(
    request: Request, actor: Annotated[Actor, Depends(require(Act.EVENTS_WRITE))]
) -> JSONResponse:
    ctx = get_ctx(request)
    tenant = tenant_of(request, actor)
    raw = await request.body()
    batch = read_body(raw, max_events=ctx.settings.max_batch_events)
    strict = not ctx.settings.accept_unknown_event_fields

    def work() -> list[Any]:
        return ctx.ingest(tenant, parse_items(batch, strict_fields=strict))

    results = await run_in_threadpool(work)
    if batch.single:
        r = results[0]
        if isinstance(r, Rejected):
            return problem(422, r.reason, slug="invalid-event", instance=request.url.path, event=r.event)
        return JSONResponse(result_json(r))
    out = [result_json(_located(r, i)) for i, r in enumerate(results)]
    rejected = sum(1 for r in out if r["status"] == "rejected")
    duplicates = sum(1 for r in out if r["status"] == "duplicate")
    return JSONResponse(
        {
            "results": out,
            "processed": len(out) - rejected - duplicates,
            "duplicates": duplicates,
            "rejected": rejected,
        }
    )


def _located(result: Any, i: int) -> Any:
    """Rejections found by the engine (an unknown account) get the batch position, like parse errors."""
    if isinstance(result, Rejected) and result.where is None:
        return Rejected(result.event, f"events[{i}]: {result.reason}", f"events[{i}]")
    return result


@router.post(
    "/decisions/contact",
    summary="May A message / follow / invite / be shown B?",
    description=(
        "Answered from the contact policy and the sender's signals, for the platform's hot path. "
        "Stores nothing. An account the service has never seen is judged with an unknown age: as an "
        "adult when sending, as a child when receiving. action 'suggest': may the recipient be shown to "
        "the sender (suggestions, search, connection lists)?"
    ),
    response_model=ContactDecisionOut,
    responses=ERRORS,
)
async def contact_decision(
    body: ContactDecisionIn, request: Request, actor: Annotated[Actor, Depends(require(Act.DECISIONS_READ))]
) -> JSONResponse:
    ctx = get_ctx(request)
    tenant = tenant_of(request, actor)

    def decide() -> Decision:
        return ctx.engines.read(tenant).decide(
            body.action,
            body.sender,
            body.recipient,
            group=body.group,
            conversation=body.conversation,
            at=body.at,
        )

    # The hot path: a decision is a few dictionary lookups (a query or two on a cache miss), so it runs
    # right here on the event loop — a thread hop and the GIL hand-over would cost more than the work.
    # While a batch of this platform is being written the engine is busy: then wait in a thread instead.
    d = decide() if not ctx.engines.busy(tenant) else await run_in_threadpool(decide)
    ctx.metrics.decisions.labels(d.verdict.value).inc()
    return JSONResponse(
        {
            "decision": d.verdict.value,
            "allowed": d.allowed,
            "rule": d.rule,
            "notice": d.notice.value if d.notice is not None else None,
            "reasons": [{"code": r.code, "message": r.message, "weight": r.weight} for r in d.reasons],
            "policy_version": d.policy_version,
        }
    )
