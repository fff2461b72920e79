"""The referral report: what a case's evidence says, in the fields NCMEC and the UK NCA take.

:func:`build_referral` turns a :class:`CaseFile` (the case's evidence entries, its participants, the
chain segment up to the head, optionally the platform's own copy of the conversation) into the three
documents of a package: ``report.json``, ``conversation.json`` and ``evidence.json``. Writing and
verifying the package (manifest, hashes, zip) is :mod:`safeguarding.evidence.package`.

The neutral fields come first; ``ncmec`` and ``nca`` repeat them under the names each authority uses
(``docs/evidence.md`` maps them field by field and names the sources), so a platform can submit
without re-deriving anything. Nothing here reads a clock or a database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from safeguarding.evidence.canonical import JsonValue
from safeguarding.evidence.chain import ChainHead, EntryKind, EvidenceEntry, iso

REPORT_FORMAT = "safeguarding.referral/1"
NCMEC_ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"
IMMINENT_STAGES = frozenset({"meeting", "control_coercion"})
"""Stages that suggest (never set) the imminent-danger flag: arranging to meet, coercion."""


@dataclass(frozen=True, slots=True)
class ReporterInfo:
    """The platform reporting, from configuration (``SAFEGUARDING_REPORTER_*``)."""

    company: str
    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    country: str | None = None
    terms_of_service_url: str | None = None
    platform: str | None = None
    """The service's name as users know it (NCMEC ``chatClient``/``platform``)."""


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    age_band: str = "unknown"
    assurance: str | None = None
    birth_date: date | None = None
    country: str | None = None
    time_zone: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlatformMessage:
    """A message of the conversation as the platform supplied it at export time."""

    id: str | None
    sent_at: datetime
    sender: str
    text: str | None
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseFile:
    """Everything a package is built from. ``segment``: envelopes from the first case entry to the head."""

    case: str
    chain: str
    conversation: str | None
    subject: str | None
    entries: tuple[EvidenceEntry, ...]
    segment: tuple[EvidenceEntry, ...]
    head: ChainHead
    participants: tuple[Participant, ...] = ()
    platform_messages: tuple[PlatformMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class Priority:
    imminent_danger: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Referral:
    """The documents of a package, as JSON values (written by :func:`package.write_package`)."""

    package_id: str
    report: dict[str, JsonValue]
    conversation: dict[str, JsonValue]
    evidence: dict[str, JsonValue]
    head: ChainHead
    case_keys: tuple[str, ...] = field(default=())


def _payloads(
    entries: Sequence[EvidenceEntry], kind: EntryKind
) -> list[tuple[EvidenceEntry, dict[str, JsonValue]]]:
    out = []
    for e in entries:
        if e.kind == kind and e.payload is not None:
            data = json.loads(e.payload)
            if isinstance(data, dict):
                out.append((e, data))
    return out


def _str(v: JsonValue) -> str | None:
    return v if isinstance(v, str) else None


def _list(v: JsonValue) -> list[JsonValue]:
    return v if isinstance(v, list) else []


def _jl(items: Iterable[JsonValue]) -> list[JsonValue]:
    """A list typed as JSON (``list`` is invariant, so ``list[str]`` is not a ``list[JsonValue]``)."""
    return list(items)


def _messages(case: CaseFile) -> list[dict[str, JsonValue]]:
    """The complete conversation: platform-supplied history merged with preserved messages, in time order.

    A message preserved in the log wins over the platform's copy of the same id (it is the one the
    hash chain vouches for); the platform's copy fills what the engine never saw.
    """
    rows: dict[str, dict[str, JsonValue]] = {}
    for e, d in _payloads(case.entries, EntryKind.MESSAGE):
        key = _str(d.get("ref")) or f"seq:{e.seq}"
        rows[key] = {
            "id": _str(d.get("ref")),
            "sent_at": d.get("sent_at"),
            "sender": d.get("sender"),
            "recipients": d.get("recipients", []),
            "text": d.get("text"),
            "source": "evidence",
            "evidence_seq": e.seq,
        }
    for i, m in enumerate(case.platform_messages):
        key = m.id or f"platform:{i}"
        if key not in rows:
            rows[key] = {
                "id": m.id,
                "sent_at": iso(m.sent_at),
                "sender": m.sender,
                "recipients": list(m.recipients),
                "text": m.text,
                "source": "platform",
                "evidence_seq": None,
            }
    ordered = sorted(rows.values(), key=lambda r: (str(r["sent_at"]), str(r["id"])))
    for i, r in enumerate(ordered):
        r["index"] = i
    return ordered


def _person(
    p: Participant | None, pid: str, role: str, ips: list[dict[str, JsonValue]]
) -> dict[str, JsonValue]:
    return {
        "role": role,
        "platform_id": pid,
        "screen_names": [pid],
        "age_band": p.age_band if p else "unknown",
        "age_assurance": p.assurance if p else None,
        "birth_date": p.birth_date.isoformat() if p and p.birth_date else None,
        "country": p.country if p else None,
        "time_zone": p.time_zone if p else None,
        "account_created_at": iso(p.created_at) if p and p.created_at else None,
        "ip_capture_events": _jl(ips),
    }


def build_referral(
    case: CaseFile, reporter: ReporterInfo, *, package_id: str, created_at: datetime, priority: Priority
) -> Referral:
    """Assemble the report, conversation and evidence documents of one case."""
    alerts = _payloads(case.entries, EntryKind.ALERT)
    actions = _payloads(case.entries, EntryKind.ACTION)
    messages = _messages(case)
    people = {p.id: p for p in case.participants}
    suspect = case.subject or next((_str(d.get("subject")) for _, d in alerts if d.get("subject")), None)
    senders = {str(m["sender"]) for m in messages if m.get("sender")}
    recipients = {str(r) for m in messages for r in _list(m.get("recipients")) if isinstance(r, str)}
    victims = sorted((senders | recipients) - {suspect or ""})
    ips: dict[str, list[dict[str, JsonValue]]] = {}
    for _, d in _payloads(case.entries, EntryKind.IP_CAPTURE):
        acc = _str(d.get("subject")) or ""
        ips.setdefault(acc, []).append(
            {"ip": d.get("ip"), "event": d.get("event"), "at": d.get("captured_at"),
             "port": d.get("port"), "possible_proxy": d.get("possible_proxy")}
        )  # fmt: skip
    stages = _jl(sorted({s for _, d in alerts for s in _list(d.get("stages")) if isinstance(s, str)}))
    risks = [float(r) for _, d in alerts if isinstance(r := d.get("risk"), int | float)]
    first_alert = min((iso(e.at) for e, _ in alerts), default=None)
    times = [str(m["sent_at"]) for m in messages if m.get("sent_at")]
    reported = _person(
        people.get(suspect or ""), suspect or "", "reported_person", ips.get(suspect or "", [])
    )
    victim_docs = [_person(people.get(v), v, "victim", ips.get(v, [])) for v in victims]
    indicators = _jl(sorted(IMMINENT_STAGES & {str(s) for s in stages}))
    report: dict[str, JsonValue] = {
        "format": REPORT_FORMAT,
        "package_id": package_id,
        "created_at": iso(created_at),
        "case": {
            "id": case.case,
            "conversation": case.conversation,
            "alerts": [_str(d.get("ref")) for _, d in alerts],
        },
        "priority": {
            "imminent_danger": priority.imminent_danger,
            "reason": priority.reason,
            "indicators": indicators,
        },
        "incident": {
            "type": "online_enticement",
            "ncmec_incident_type": NCMEC_ONLINE_ENTICEMENT,
            "first_alert_at": first_alert,
            "first_message_at": min(times, default=None),
            "last_message_at": max(times, default=None),
            "time_zone": "UTC",
            "stages": stages,
            "max_risk": max(risks, default=None),
            "reasons": _jl(
                sorted(
                    {
                        str(r.get("message"))
                        for _, d in alerts
                        for r in _list(d.get("reasons"))
                        if isinstance(r, dict)
                    }
                )
            ),
        },
        "reporter": {
            "company": reporter.company,
            "platform": reporter.platform,
            "first_name": reporter.first_name,
            "last_name": reporter.last_name,
            "email": reporter.email,
            "phone": reporter.phone,
            "country": reporter.country,
            "terms_of_service_url": reporter.terms_of_service_url,
        },
        "reported_person": reported,
        "victims": _jl(victim_docs),
        "moderation": [
            {
                "seq": e.seq,
                "at": iso(e.at),
                "action": d.get("action"),
                "actor": d.get("actor"),
                "reason": d.get("reason"),
            }
            for e, d in actions
        ],
        "files": {"conversation": "conversation.json", "evidence": "evidence.json"},
        "evidence": {"chain_head": case.head.as_json(), "entries": [e.seq for e in case.entries]},
    }
    report["ncmec"] = _ncmec(report, reporter, priority, case, reported, victim_docs)
    report["nca"] = _nca(report, reporter, priority, reported, victim_docs)
    conversation: dict[str, JsonValue] = {
        "conversation": case.conversation,
        "time_zone": "UTC",
        "timestamps": "ISO 8601, UTC, microseconds",
        "messages": _jl(messages),
    }
    evidence: dict[str, JsonValue] = {
        "chain": case.chain,
        "chain_head": case.head.as_json(),
        "entries": [e.public(with_payload=True) for e in case.entries],
        "segment": [e.public(with_payload=False) for e in case.segment],
    }
    return Referral(package_id, report, conversation, evidence, case.head)


def _ips_ncmec(person: dict[str, JsonValue]) -> list[JsonValue]:
    events = person.get("ip_capture_events") or []
    assert isinstance(events, list)
    return [
        {"ipAddress": ev.get("ip"), "eventName": str(ev.get("event") or "unknown").capitalize(),
         "dateTime": ev.get("at"), "port": ev.get("port"), "possibleProxy": ev.get("possible_proxy")}
        for ev in events if isinstance(ev, dict)
    ]  # fmt: skip


def _ncmec(
    report: dict[str, JsonValue],
    reporter: ReporterInfo,
    priority: Priority,
    case: CaseFile,
    reported: dict[str, JsonValue],
    victims: list[dict[str, JsonValue]],
) -> dict[str, JsonValue]:
    """The CyberTipline Reporting API's element names (report.cybertip.org/ispws/documentation)."""
    incident = report["incident"]
    assert isinstance(incident, dict)
    person: dict[str, JsonValue] = {
        "firstName": reporter.first_name,
        "lastName": reporter.last_name,
        "email": reporter.email,
        "phone": reporter.phone,
    }
    return {
        "incidentSummary": {
            "incidentType": NCMEC_ONLINE_ENTICEMENT,
            "platform": reporter.platform,
            "escalateToHighPriority": (priority.reason or "imminent danger to a child")
            if priority.imminent_danger
            else None,
            "incidentDateTime": incident.get("first_message_at") or incident.get("first_alert_at"),
            "incidentDateTimeDescription": "time of the first message of the conversation (UTC)",
        },
        "internetDetails": [
            {
                "chatImIncident": {
                    "chatClient": reporter.platform,
                    "chatRoomName": case.conversation,
                    "content": "see conversation.json in this package",
                }
            }
        ],
        "reporter": {
            "reportingPerson": person,
            "contactPerson": person,
            "termsOfService": reporter.terms_of_service_url,
        },
        "reportedPerson": {
            "espIdentifier": reported["platform_id"],
            "screenName": reported["platform_id"],
            "ipCaptureEvent": _ips_ncmec(reported),
        },
        "victim": [
            {
                "espIdentifier": v["platform_id"],
                "screenName": v["platform_id"],
                "dateOfBirth": v["birth_date"],
                "ipCaptureEvent": _ips_ncmec(v),
            }
            for v in victims
        ],
    }


def _nca(
    report: dict[str, JsonValue],
    reporter: ReporterInfo,
    priority: Priority,
    reported: dict[str, JsonValue],
    victims: list[dict[str, JsonValue]],
) -> dict[str, JsonValue]:
    """Headings of Schedule 1 to the UK CSEA content reporting regulations (SI 2025/368, 2026/268)."""
    incident = report["incident"]
    assert isinstance(incident, dict)

    def user(p: dict[str, JsonValue]) -> JsonValue:
        events = p.get("ip_capture_events") or []
        assert isinstance(events, list)
        return {
            "role": p["role"],
            "user_id": p["platform_id"],
            "usernames": p["screen_names"],
            "date_of_birth": p["birth_date"],
            "age_band": p["age_band"],
            "country": p["country"],
            "ip_addresses": [
                {"ip": e.get("ip"), "port": e.get("port"), "at": e.get("at")}
                for e in events
                if isinstance(e, dict)
            ],
        }

    return {
        "priority": "immediate_risk" if priority.imminent_danger else "standard",
        "priority_reason": priority.reason,
        "authorised_person": {
            "name": f"{reporter.first_name} {reporter.last_name}",
            "email": reporter.email,
            "phone": reporter.phone,
            "organisation": reporter.company,
        },
        "content": {
            "type": "grooming_communication",
            "detected_at": incident.get("first_alert_at"),
            "detection_method": "automated detection, reviewed by a moderator",
            "service_part": "private messaging",
            "first_at": incident.get("first_message_at"),
            "last_at": incident.get("last_message_at"),
            "file": "conversation.json",
        },
        "users": [user(reported), *[user(v) for v in victims]],
        "declaration": "All information reasonably available to the provider about this content is included.",
    }
