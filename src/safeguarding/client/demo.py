"""The synthetic platform run in encrypted mode: every account a device, every message an envelope.

``run_e2ee_demo(build_scenario(seed), detector)`` plays :mod:`safeguarding.synth.scenario` through real
:class:`~safeguarding.client.ClientSession` objects and the server-side checks of
:mod:`safeguarding.e2ee`, with an in-memory directory and stamp ledger standing in for the service's
tables. What the server would see comes out as :attr:`E2EEDemo.events`: the scenario's platform events
with every ``message`` replaced by the text-free event of its stamped envelope, ready for
``Engine.process_batch``. Children's devices (every account that is not ``adult``) run the detector;
their notices and verified device alerts, and optionally the reports a child makes from a notice, come
out too. ``safeguarding serve --demo --e2ee`` and the end-to-end privacy test both use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from safeguarding.client.keys import DeviceKeys
from safeguarding.client.notices import SafetyNotice
from safeguarding.client.session import ClientSession, Delivery, Outgoing
from safeguarding.e2ee.alerts import DeviceAlert, VerifiedDeviceAlert, verify_device_alert
from safeguarding.e2ee.franking import (
    MemoryStampLedger,
    ServerKey,
    ServerKeyRing,
    accept_envelope,
    message_event,
)
from safeguarding.e2ee.identity import MemoryDirectory
from safeguarding.e2ee.reports import Report, VerifiedReport, verify_report
from safeguarding.e2ee.wire import Envelope, KeyPackage, StampedEnvelope
from safeguarding.engine.clock import FrozenClock
from safeguarding.engine.detector import ConversationDetector
from safeguarding.events.parse import parse_event
from safeguarding.events.types import Event
from safeguarding.synth.scenario import Scenario
from safeguarding.types import AgeBand


@dataclass(frozen=True)
class E2EEDemo:
    """Everything the encrypted demo produced, split by who would hold it."""

    events: tuple[Event, ...]
    """Server: the engine's input, in time order; message events carry no text."""
    stamped: tuple[StampedEnvelope, ...]
    """Server: what it relayed (ciphertext, metadata, commitment, its tag)."""
    key_packages: tuple[KeyPackage, ...]
    """Server: the sealed conversation keys it relayed."""
    device_alerts: tuple[DeviceAlert, ...]
    """Server: what devices uploaded."""
    verified_alerts: tuple[VerifiedDeviceAlert, ...]
    """Server: the device alerts after :func:`~safeguarding.e2ee.verify_device_alert`."""
    reports: tuple[Report, ...]
    """Server: reports children chose to make (the only objects with text)."""
    verified_reports: tuple[VerifiedReport, ...]
    notices: tuple[tuple[str, SafetyNotice], ...]
    """Devices: ``(account, notice)`` for every safety notice shown."""
    sessions: Mapping[str, ClientSession] = field(repr=False)
    """Devices: every account's session (its local history, assessments)."""
    relay: LocalRelay = field(repr=False)
    """Server: the in-memory directory, stamp ledger and franking key."""


class LocalRelay:
    """An in-memory stand-in for the service's encrypted-mode routes: directory, relay and ledger.

    For the demo, tests, and app developers' own tests. It authenticates an upload as coming from the
    session that produced it, which the real service does from the signed-in device instead.
    """

    def __init__(self, keyring: ServerKeyRing | None = None, clock: FrozenClock | None = None) -> None:
        self.keyring = keyring if keyring is not None else ServerKeyRing(ServerKey.generate("relay-1"))
        self.clock = clock if clock is not None else FrozenClock()
        self.directory = MemoryDirectory()
        self.ledger = MemoryStampLedger()
        self.sessions: dict[str, ClientSession] = {}

    def device(self, account: str, detector: ConversationDetector[Any] | None = None) -> ClientSession:
        """A new device (one per account here), registered in the directory."""
        keys = DeviceKeys.generate(account, f"{account}-phone")
        self.directory.register(keys.identity)
        session = self.sessions[account] = ClientSession(keys, self.directory, detector, clock=self.clock)
        return session

    def open(
        self, session: ClientSession, conversation: str, members: Sequence[str], *, group: str | None = None
    ) -> tuple[KeyPackage, ...]:
        """``session`` opens the conversation; its key packages are checked and handed to the members."""
        packages = session.open_conversation(conversation, members, group=group)
        for pkg in packages:
            pkg.verify(self.directory)
            self.sessions[pkg.recipient].accept_key_package(pkg)
        return packages

    def upload(self, envelope: Envelope, *, at: datetime | None = None) -> StampedEnvelope:
        """Accept and stamp an envelope as the server would (sender authenticated as the envelope's)."""
        return accept_envelope(
            envelope,
            sender=envelope.sender,
            sender_device=envelope.sender_device,
            keyring=self.keyring,
            ledger=self.ledger,
            received_at=at if at is not None else self.clock.now(),
        ).stamped

    def deliver(self, stamped: StampedEnvelope) -> dict[str, Delivery]:
        """Hand a stamped envelope to every recipient's session."""
        return {r: self.sessions[r].receive(stamped) for r in stamped.envelope.recipients}

    def send(
        self, session: ClientSession, conversation: str, text: str, *, to: Sequence[str] | None = None
    ) -> tuple[Outgoing, StampedEnvelope, dict[str, Delivery]]:
        """Send, upload and deliver one message."""
        out = session.send(conversation, text, to=to)
        stamped = self.upload(out.envelope)
        return out, stamped, self.deliver(stamped)


def run_e2ee_demo(
    scenario: Scenario,
    detector: ConversationDetector[Any] | None,
    *,
    keyring: ServerKeyRing | None = None,
    report_on_notice: bool = False,
) -> E2EEDemo:
    """Play ``scenario`` in encrypted mode (see the module docstring).

    ``report_on_notice``: each child who sees a notice reports the messages the app preselects
    (:meth:`ClientSession.suggested_report`), as if they tapped "report" and confirmed.
    """
    relay = LocalRelay(keyring, FrozenClock(scenario.start))
    for acc in scenario.accounts:
        relay.device(acc.id, detector if acc.age_band is not AgeBand.ADULT else None)
    sessions = relay.sessions
    queues, members = scenario.message_queues()
    cursor = dict.fromkeys(queues, 0)
    events: list[Event] = []
    stamped: list[StampedEnvelope] = []
    packages: list[KeyPackage] = []
    alerts: list[DeviceAlert] = []
    notices: list[tuple[str, SafetyNotice]] = []

    for raw in scenario.to_events(include_text=False):
        relay.clock.at = datetime.fromisoformat(str(raw["at"]))
        if raw["type"] != "message":
            events.append(parse_event(raw))
            continue
        cid = str(raw["conversation"])
        message, to = queues[cid][cursor[cid]]
        cursor[cid] += 1
        sender = sessions[message.author]
        if cursor[cid] == 1:
            packages += relay.open(sender, cid, members[cid])
        out, st, deliveries = relay.send(sender, cid, message.text, to=to)
        stamped.append(st)
        events.append(message_event(st))
        _collect(sender.account, out.notice, out.alert, notices, alerts)
        for account, got in deliveries.items():
            _collect(account, got.notice, got.alert, notices, alerts)

    verified = tuple(
        verify_device_alert(
            a, directory=relay.directory, account=a.account, members=members[a.conversation], now=a.created_at
        )
        for a in alerts
    )
    reports: list[Report] = []
    if report_on_notice:
        for account, notice in notices:
            chosen = sessions[account].suggested_report(notice.conversation)
            if chosen:
                reports.append(sessions[account].report(notice.conversation, chosen))
    verified_reports = tuple(
        verify_report(
            r, keyring=relay.keyring, directory=relay.directory, ledger=relay.ledger, reporter=r.reporter
        )
        for r in reports
    )
    return E2EEDemo(
        events=tuple(events),
        stamped=tuple(stamped),
        key_packages=tuple(packages),
        device_alerts=tuple(alerts),
        verified_alerts=verified,
        reports=tuple(reports),
        verified_reports=verified_reports,
        notices=tuple(notices),
        sessions=sessions,
        relay=relay,
    )


def _collect(
    account: str,
    notice: SafetyNotice | None,
    alert: DeviceAlert | None,
    notices: list[tuple[str, SafetyNotice]],
    alerts: list[DeviceAlert],
) -> None:
    if notice is not None:
        notices.append((account, notice))
    if alert is not None:
        alerts.append(alert)
