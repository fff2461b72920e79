"""``POST /v1/events``: from request bytes to per-event results, without ever failing a whole batch.

The body is one event object, an array of events, or ``{"events": [...]}``. Each event is checked on
its own (the engine's schema, ``docs/events.md``, plus: fields this API does not know are refused, so a
typo such as ``"recipent"`` never passes silently), and a bad one comes back ``rejected`` with its
reason while the others are processed. Only a body that is not JSON at all, or not one of the three
shapes, fails the request as a whole (400/422).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safeguarding.engine import Alert, Outcome, Rejected
from safeguarding.errors import EventError, InputError, MalformedJSON
from safeguarding.events import Event, event_json_schema, parse_event
from safeguarding.service.schemas.platform import EARLIEST, LATEST
from safeguarding.types import Reason

_ALIASES = {"actor": ("reporter",), "target": ("subject",)}


def _allowed_fields() -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for kind, schema in event_json_schema().items():
        names = set(schema.get("properties", {}))
        for field, aliases in _ALIASES.items():
            if field in names:
                names.update(aliases)
        out[kind] = frozenset(names)
    return out


_ALLOWED: dict[str, frozenset[str]] | None = None


def allowed_fields() -> dict[str, frozenset[str]]:
    global _ALLOWED
    if _ALLOWED is None:
        _ALLOWED = _allowed_fields()
    return _ALLOWED


@dataclass(frozen=True, slots=True)
class Batch:
    items: list[Any]
    single: bool


def read_body(raw: bytes, *, max_events: int) -> Batch:
    """Decode the body into raw event objects; :class:`InputError` when its shape is wrong."""
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError:
        raise MalformedJSON("the body is not UTF-8 text") from None
    except RecursionError:
        raise MalformedJSON("the body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise MalformedJSON(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if isinstance(doc, dict) and "type" not in doc and "events" in doc:
        unknown = sorted(set(doc) - {"events"})
        if unknown:
            raise InputError(f'unknown field {unknown[0]!r} (a batch is {{"events": [...]}})')
        items = doc["events"]
        if not isinstance(items, list):
            raise InputError("'events' must be an array of event objects")
        batch = Batch(items, single=False)
    elif isinstance(doc, list):
        batch = Batch(doc, single=False)
    elif isinstance(doc, dict):
        batch = Batch([doc], single=True)
    else:
        raise InputError('the body must be an event object, an array of events, or {"events": [...]}')
    if not batch.items:
        raise InputError("the batch holds no events")
    if len(batch.items) > max_events:
        raise InputError(f"at most {max_events} events per request (got {len(batch.items)}); split the batch")
    return batch


def parse_items(batch: Batch, *, strict_fields: bool) -> list[Event | EventError]:
    allowed = allowed_fields() if strict_fields else None
    out: list[Event | EventError] = []
    for i, raw in enumerate(batch.items):
        where = None if batch.single else f"events[{i}]"
        try:
            if allowed is not None and isinstance(raw, Mapping):
                _check_fields(raw, allowed, where)
            event = parse_event(raw, where=where)
            _check_times(event, where)
            out.append(event)
        except EventError as exc:
            out.append(exc)
        except (OverflowError, ValueError, TypeError) as exc:  # e.g. a time that overflows in UTC
            eid = raw.get("id") if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) else None
            out.append(EventError(f"invalid value ({exc})", event_id=eid or None, where=where))
    return out


def _check_times(event: Event, where: str | None) -> None:
    """Times a platform cannot mean (before 1970, after 2200) are refused rather than stored."""
    created = getattr(event, "created", None)
    for name, value in (("at", event.at), ("created", created)):
        if value is not None and not EARLIEST <= value < LATEST:
            raise EventError(
                f"field {name!r}: time out of range (1970 to 2199)",
                event_id=event.id,
                where=f"{where}: event {event.id!r}" if where else None,
            )


def _check_fields(raw: Mapping[str, Any], allowed: dict[str, frozenset[str]], where: str | None) -> None:
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in allowed:
        return  # parse_event names the problem with the type
    unknown = sorted(k for k in raw if k not in allowed[kind])
    if unknown:
        eid = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else None
        label = f"{where}: event {eid!r}" if where and eid else where
        names = ", ".join(repr(u) for u in unknown[:5])
        raise EventError(
            f"unknown field{'s' if len(unknown) > 1 else ''} {names} for a {kind!r} event "
            f"(known: {', '.join(sorted(allowed[kind]))})",
            event_id=eid,
            where=label,
        )


def reasons_json(reasons: tuple[Reason, ...]) -> list[dict[str, Any]]:
    return [{"code": r.code, "message": r.message, "weight": r.weight} for r in reasons]


def alert_json(a: Alert) -> dict[str, Any]:
    return {
        "kind": a.kind.value,
        "subject": a.subject,
        "conversation": a.conversation,
        "risk": a.risk,
        "stages": list(a.stages),
        "reasons": reasons_json(a.reasons),
    }


def result_json(result: Outcome | Rejected) -> dict[str, Any]:
    if isinstance(result, Rejected):
        return {"event": result.event, "status": "rejected", "error": result.reason}
    d = result.decision
    out: dict[str, Any] = {
        "event": result.event,
        "status": "duplicate" if result.duplicate else "processed",
        "type": result.type,
        "decision": d.verdict.value,
        "rule": d.rule,
        "notice": d.notice.value if d.notice is not None else None,
        "reasons": reasons_json(d.reasons),
        "alerts": [alert_json(a) for a in result.alerts],
    }
    if result.notices:  # show these to the child now (docs/families.md)
        out["notices"] = [{"child": n.child, "kind": n.kind.value, "about": n.about} for n in result.notices]
    if result.approvals:
        out["awaiting_parent_approval"] = [a.child for a in result.approvals]
    if result.recipients:
        out["recipients"] = [
            {
                "recipient": r.recipient,
                "decision": r.verdict.value,
                "rule": r.rule,
                "notice": r.notice.value if r.notice else None,
            }
            for r in result.recipients
        ]
    return out
