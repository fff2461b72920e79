"""The demo platform in encrypted mode: real devices, the service's own routes logic and ingest.

:func:`play_e2ee` drives :func:`~safeguarding.synth.scenario.build_scenario` through one
:class:`~safeguarding.client.ClientSession` per account against an :class:`Uplink` — the service, either
in-process (:class:`InProcessUplink`, what ``safeguarding serve --demo --e2ee`` uses) or over HTTP (the
privacy test's adapter over ``/v1/e2ee``). Devices register their keys, fetch each other's from the
server's directory, open conversations with sealed key packages, upload envelopes, fetch what the
server delivered to them and acknowledge it; children's devices run the detector, upload their device
alerts, and (``report_on_notice``) report the messages their app preselects. Account, follow, block ...
events go through the same ingest as ``POST /v1/events``. The server never sees a message's text
except inside the reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from safeguarding.client.keys import DeviceKeys
from safeguarding.client.notices import SafetyNotice
from safeguarding.client.session import ClientSession
from safeguarding.e2ee import DeviceAlert, DeviceIdentity, KeyPackage, StampedEnvelope
from safeguarding.engine import Rejected
from safeguarding.engine.clock import FrozenClock
from safeguarding.errors import InputError
from safeguarding.service.context import ServiceContext
from safeguarding.service.demo import TENANT, DemoInfo, seed_demo
from safeguarding.service.e2ee import KIND_ENVELOPE, KIND_KEY_PACKAGE, E2EEService
from safeguarding.service.ingest import Batch, parse_items
from safeguarding.synth.scenario import Scenario
from safeguarding.types import AgeBand

GAINS_AND_COSTS = """\
  Encrypted mode: what the platform gains
    - message text is unreadable to the platform, its staff, attackers who breach it, and anyone who
      compels it: the server stored ciphertext, metadata (who, to whom, when, size) and commitments;
    - children still get a safety notice (the detector runs on their device), moderators still get a
      signed device alert (conversation, risk, stages; no text), contact policy and metadata signals
      work unchanged, and a child's report carries proof the accused really sent those messages.
  What it gives up
    - the server's own text scoring and review of conversations nobody reported; proactive scanning;
      protection on devices whose app was modified; requests to move apps are no longer counted;
    - reports become the only source of message text for moderators and referrals (docs/e2ee.md)."""


class Uplink(Protocol):
    """The service as a device (via its platform) sees it: the ``/v1/e2ee`` operations and events."""

    def at(self, when: datetime) -> None: ...

    def events(self, raw: list[dict[str, Any]]) -> int:
        """Send platform events; returns how many were rejected."""
        ...

    def register(self, account: str, identity: dict[str, Any]) -> None: ...

    def devices(self, account: str) -> list[dict[str, Any]]: ...

    def key_packages(self, account: str, device: str, packages: list[dict[str, Any]]) -> None: ...

    def envelope(self, account: str, device: str, envelope: dict[str, Any]) -> dict[str, Any]: ...

    def pending(self, account: str, device: str, kind: str) -> list[dict[str, Any]]: ...

    def ack(self, account: str, device: str, kind: str, upto: int) -> None: ...

    def device_alert(self, account: str, device: str, alert: dict[str, Any]) -> dict[str, Any]: ...

    def report(self, account: str, device: str, report: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class InProcessUplink:
    """:class:`Uplink` straight onto :class:`E2EEService` (the routes' logic, without HTTP)."""

    svc: E2EEService
    tenant: str
    now: datetime | None = None

    def at(self, when: datetime) -> None:
        self.now = when

    def events(self, raw: list[dict[str, Any]]) -> int:
        items = parse_items(Batch(raw, single=False), strict_fields=True)
        return sum(isinstance(r, Rejected) for r in self.svc.ctx.ingest(self.tenant, items))

    def register(self, account: str, identity: dict[str, Any]) -> None:
        self.svc.register_device(self.tenant, account, identity, now=self.now)

    def devices(self, account: str) -> list[dict[str, Any]]:
        return list(self.svc.devices(self.tenant, account)["devices"])

    def key_packages(self, account: str, device: str, packages: list[dict[str, Any]]) -> None:
        self.svc.post_key_packages(self.tenant, account, device, {"packages": packages}, now=self.now)

    def envelope(self, account: str, device: str, envelope: dict[str, Any]) -> dict[str, Any]:
        return self.svc.post_envelope(self.tenant, account, device, envelope, now=self.now)

    def pending(self, account: str, device: str, kind: str) -> list[dict[str, Any]]:
        out = self.svc.pending(self.tenant, account, device, kind)
        return list(out["envelopes" if kind == KIND_ENVELOPE else "packages"])

    def ack(self, account: str, device: str, kind: str, upto: int) -> None:
        self.svc.acknowledge(self.tenant, account, device, upto, kind)

    def device_alert(self, account: str, device: str, alert: dict[str, Any]) -> dict[str, Any]:
        return self.svc.post_device_alert(self.tenant, account, device, alert, now=self.now)

    def report(self, account: str, device: str, report: dict[str, Any]) -> dict[str, Any]:
        return self.svc.post_report(self.tenant, account, device, report, now=self.now)


class _ServerDirectory:
    """What a device knows of other devices: fetched from the server's directory, then cached."""

    def __init__(self, uplink: Uplink) -> None:
        self.uplink = uplink
        self._cache: dict[str, tuple[DeviceIdentity, ...]] = {}

    def devices(self, account: str) -> tuple[DeviceIdentity, ...]:
        found = self._cache.get(account)
        if not found:
            found = tuple(DeviceIdentity.from_dict(d["identity"]) for d in self.uplink.devices(account))
            self._cache[account] = found
        return found

    def device(self, account: str, device: str) -> DeviceIdentity | None:
        return next((d for d in self.devices(account) if d.device == device), None)


@dataclass
class E2EEPlay:
    """What the encrypted demo did, in counts (no text)."""

    events: int = 0
    rejected: int = 0
    messages: int = 0
    deliveries: int = 0
    refused: int = 0
    notices: list[tuple[str, SafetyNotice]] = field(default_factory=list)
    device_alerts: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[str, ClientSession] = field(default_factory=dict, repr=False)


def play_e2ee(
    scenario: Scenario, detector: Any, uplink: Uplink, *, report_on_notice: bool = True
) -> E2EEPlay:
    """Play ``scenario`` in encrypted mode against ``uplink`` (see the module docstring)."""
    play = E2EEPlay()
    clock = FrozenClock(scenario.start)
    uplink.at(scenario.start)
    directory = _ServerDirectory(uplink)
    sessions = play.sessions
    for acc in scenario.accounts:
        keys = DeviceKeys.generate(acc.id, f"{acc.id}-phone")
        uplink.register(acc.id, keys.identity.to_dict())
        runs_detector = acc.age_band is not AgeBand.ADULT
        sessions[acc.id] = ClientSession(keys, directory, detector if runs_detector else None, clock=clock)
    queues, members = scenario.message_queues()
    cursor = dict.fromkeys(queues, 0)
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            play.rejected += uplink.events(list(batch))
            play.events += len(batch)
            batch.clear()

    def alert(session: ClientSession, notice: SafetyNotice | None, a: DeviceAlert | None) -> None:
        if notice is not None:
            play.notices.append((session.account, notice))
        if a is not None:
            play.device_alerts.append(uplink.device_alert(session.account, session.device, a.to_dict()))

    def drain(session: ClientSession) -> None:
        acc, dev = session.account, session.device
        packages = uplink.pending(acc, dev, KIND_KEY_PACKAGE)
        for item in packages:
            session.accept_key_package(KeyPackage.from_dict(item["package"]))
        if packages:
            uplink.ack(acc, dev, KIND_KEY_PACKAGE, int(packages[-1]["seq"]))
        envelopes = uplink.pending(acc, dev, KIND_ENVELOPE)
        for item in envelopes:
            got = session.receive(StampedEnvelope.from_dict(item["stamped"]))
            play.deliveries += 1
            alert(session, got.notice, got.alert)
        if envelopes:
            uplink.ack(acc, dev, KIND_ENVELOPE, int(envelopes[-1]["seq"]))

    for raw in scenario.to_events(include_text=False):
        when = datetime.fromisoformat(str(raw["at"]).replace("Z", "+00:00"))
        if raw["type"] != "message":
            batch.append(raw)
            continue
        flush()
        clock.at = when
        uplink.at(when)
        cid = str(raw["conversation"])
        message, to = queues[cid][cursor[cid]]
        cursor[cid] += 1
        sender = sessions[message.author]
        drain(sender)
        try:
            out = sender.send(cid, message.text, to=to)
        except InputError:  # no key yet (nobody's package reached this member): open the conversation
            packages = sender.open_conversation(cid, members[cid])
            uplink.key_packages(sender.account, sender.device, [p.to_dict() for p in packages])
            out = sender.send(cid, message.text, to=to)
        alert(sender, out.notice, out.alert)
        result = uplink.envelope(sender.account, sender.device, out.envelope.to_dict())
        play.messages += 1
        play.refused += len(result["refused"])
        for account in result["delivered_to"]:
            drain(sessions[account])
    flush()
    if report_on_notice:
        for account, notice in play.notices:
            session = sessions[account]
            chosen = session.suggested_report(notice.conversation)
            if chosen:
                report = session.report(notice.conversation, chosen)
                play.reports.append(uplink.report(account, session.device, report.to_dict()))
    return play


def seed_e2ee_demo(ctx: ServiceContext, url: str, *, seed: int = 0) -> tuple[DemoInfo, str]:
    """``serve --demo --e2ee``: the demo platform played encrypted; returns its info and a summary."""
    svc = E2EEService.from_context(ctx)
    plays: list[E2EEPlay] = []

    def run(ctx: ServiceContext, scenario: Scenario) -> int:
        play = play_e2ee(scenario, ctx.detector, InProcessUplink(svc, TENANT))
        plays.append(play)
        return play.rejected

    info = seed_demo(ctx, url, seed=seed, play=run)
    lines = ["", "  Encrypted mode (--e2ee): every message went device -> server -> device as ciphertext."]
    if plays:
        p = plays[0]
        lines.append(
            f"    {p.messages} envelopes stamped and fed to the engine without text; {p.deliveries} "
            f"delivered, {p.refused} deliveries refused by contact policy; {len(p.notices)} safety "
            f"notice(s) shown on children's devices; {len(p.device_alerts)} device alert(s) and "
            f"{len(p.reports)} verified report(s) in GET /v1/alerts (kinds device_grooming, "
            "verified_report); report text: GET /v1/e2ee/reports/{id} (moderators and admins)."
        )
    else:
        lines.append("    (the demo database already held the platform: nothing replayed)")
    return info, "\n".join([*lines, "", GAINS_AND_COSTS])
