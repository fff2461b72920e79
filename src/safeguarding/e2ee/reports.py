"""Verifiable reports: the only path by which message text reaches the server, chosen by the user.

A :class:`Report` carries, per reported message, the text, its franking key, the sender's signature
and the metadata the server stamped. :func:`verify_report` accepts it only if every message is exactly
what its sender sent to the reporter: the server's tag proves sender, recipients, time and commitment;
the franking key opening the commitment proves the text; the sender's device signature proves the
sender's device made the commitment. Anything else is refused with one :class:`Rejection` reason.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from safeguarding.e2ee.codec import (
    ID,
    IDS,
    OPT_ID,
    TIME,
    WireObject,
    blob,
    check_bytes,
    check_id,
    check_recipients,
    check_time,
    free_text,
    lp,
    malformed,
    members_part,
    nested_list,
    utc_iso,
)
from safeguarding.e2ee.franking import (
    FRANKING_KEY_BYTES,
    ServerKeyRing,
    StampLedger,
    message_signed_bytes,
    opens,
    server_tag,
)
from safeguarding.e2ee.identity import SIGNATURE_BYTES, DeviceDirectory, require_device, verify_signature
from safeguarding.e2ee.reasons import Rejection, VerificationError
from safeguarding.e2ee.wire import COMMITMENT_BYTES, TAG_BYTES

MAX_TEXT_CHARS = 100_000
MAX_REPORT_MESSAGES = 200
REPORT_DOMAIN = "safeguarding/report/v1"
REVEALED_DOMAIN = "safeguarding/revealed/v1"


@dataclass(frozen=True, slots=True)
class RevealedMessage(WireObject):
    """One reported message: plaintext, franking key and signature, plus the stamp it was delivered with."""

    wire_name: ClassVar[str] = "revealed message"

    message_id: str = field(metadata=ID)
    conversation: str = field(metadata=ID)
    group: str | None = field(metadata=OPT_ID)
    sender: str = field(metadata=ID)
    sender_device: str = field(metadata=ID)
    recipients: tuple[str, ...] = field(metadata=IDS)
    received_at: datetime = field(metadata=TIME)
    server_key_id: str = field(metadata=ID)
    server_tag: bytes = field(metadata=blob(size=TAG_BYTES))
    commitment: bytes = field(metadata=blob(size=COMMITMENT_BYTES))
    franking_key: bytes = field(metadata=blob(size=FRANKING_KEY_BYTES))
    signature: bytes = field(metadata=blob(size=SIGNATURE_BYTES))
    text: str = field(metadata=free_text(max_chars=MAX_TEXT_CHARS))

    def __post_init__(self) -> None:
        k = "revealed message"
        for name in ("message_id", "conversation", "sender", "sender_device", "server_key_id"):
            check_id(k, name, getattr(self, name))
        if self.group is not None:
            check_id(k, "group", self.group)
        object.__setattr__(self, "recipients", check_recipients(k, self.sender, tuple(self.recipients)))
        object.__setattr__(self, "received_at", check_time(k, "received_at", self.received_at))
        check_bytes(k, "server_tag", self.server_tag, size=TAG_BYTES)
        check_bytes(k, "commitment", self.commitment, size=COMMITMENT_BYTES)
        check_bytes(k, "franking_key", self.franking_key, size=FRANKING_KEY_BYTES)
        check_bytes(k, "signature", self.signature, size=SIGNATURE_BYTES)
        if not isinstance(self.text, str) or len(self.text) > MAX_TEXT_CHARS:
            raise malformed(k, f"field 'text' must be a string of at most {MAX_TEXT_CHARS} characters")

    def digest(self) -> bytes:
        """sha256 of every field: what the reporter's signature covers for this message."""
        data = lp(
            REVEALED_DOMAIN,
            self.message_id,
            self.conversation,
            self.group or "",
            self.sender,
            self.sender_device,
            members_part(self.recipients),
            utc_iso(self.received_at),
            self.server_key_id,
            self.server_tag,
            self.commitment,
            self.franking_key,
            self.signature,
            self.text,
        )
        return hashlib.sha256(data).digest()


@dataclass(frozen=True, slots=True)
class Report(WireObject):
    """A user's report of messages they received, signed by their device."""

    wire_name: ClassVar[str] = "report"

    report_id: str = field(metadata=ID)
    reporter: str = field(metadata=ID)
    reporter_device: str = field(metadata=ID)
    conversation: str = field(metadata=ID)
    reason: str = field(metadata=ID)
    """A category chosen in the app (e.g. ``grooming``, ``bullying``); free text belongs in the messages."""
    created_at: datetime = field(metadata=TIME)
    messages: tuple[RevealedMessage, ...] = field(
        metadata=nested_list(RevealedMessage, max_items=MAX_REPORT_MESSAGES)
    )
    signature: bytes = field(metadata=blob(size=SIGNATURE_BYTES))

    def __post_init__(self) -> None:
        k = "report"
        for name in ("report_id", "reporter", "reporter_device", "conversation", "reason"):
            check_id(k, name, getattr(self, name))
        object.__setattr__(self, "created_at", check_time(k, "created_at", self.created_at))
        if not 1 <= len(self.messages) <= MAX_REPORT_MESSAGES:
            raise malformed(k, f"a report holds 1-{MAX_REPORT_MESSAGES} messages")
        ids = [m.message_id for m in self.messages]
        if len(set(ids)) != len(ids):
            raise malformed(k, "a message is reported twice")
        if any(m.conversation != self.conversation for m in self.messages):
            raise malformed(k, "every reported message must belong to the reported conversation")
        check_bytes(k, "signature", self.signature, size=SIGNATURE_BYTES)

    def signed_bytes(self) -> bytes:
        return report_signed_bytes(
            report_id=self.report_id,
            reporter=self.reporter,
            reporter_device=self.reporter_device,
            conversation=self.conversation,
            reason=self.reason,
            created_at=self.created_at,
            messages=self.messages,
        )


def report_signed_bytes(
    *,
    report_id: str,
    reporter: str,
    reporter_device: str,
    conversation: str,
    reason: str,
    created_at: datetime,
    messages: tuple[RevealedMessage, ...],
) -> bytes:
    return lp(
        REPORT_DOMAIN,
        report_id,
        reporter,
        reporter_device,
        conversation,
        reason,
        utc_iso(created_at),
        *(m.digest() for m in messages),
    )


@dataclass(frozen=True, slots=True)
class VerifiedMessage:
    """A reported message proven to be exactly what ``sender`` sent at ``received_at``."""

    message_id: str
    sender: str
    sender_device: str
    recipients: tuple[str, ...]
    received_at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class VerifiedReport:
    """What a moderator may rely on. ``accused``: the distinct senders of the reported messages."""

    report_id: str
    reporter: str
    reporter_device: str
    conversation: str
    reason: str
    created_at: datetime
    accused: tuple[str, ...]
    messages: tuple[VerifiedMessage, ...]


def verify_report(
    report: Report,
    *,
    keyring: ServerKeyRing,
    directory: DeviceDirectory,
    ledger: StampLedger | None = None,
    reporter: str | None = None,
    now: datetime | None = None,
    max_age: timedelta = timedelta(days=1),
    max_skew: timedelta = timedelta(minutes=5),
) -> VerifiedReport:
    """Verify every message of ``report``; the first failure refuses the whole report.

    ``reporter`` is the authenticated account (the upload must come from the account that signed);
    ``ledger`` makes refusals precise (``never_sent``, ``wrong_sender``) where the tag alone can only say
    ``forged_franking_tag``; ``now`` bounds ``created_at`` (not older than ``max_age``, not in the future).
    """
    if reporter is not None and report.reporter != reporter:
        raise VerificationError(
            Rejection.SENDER_MISMATCH, f"report signed for {report.reporter!r} but uploaded by {reporter!r}"
        )
    if now is not None and not (now - max_age <= report.created_at <= now + max_skew):
        raise VerificationError(Rejection.STALE, f"report time {utc_iso(report.created_at)} is out of range")
    device = require_device(directory, report.reporter, report.reporter_device)
    verify_signature(device, report.signed_bytes(), report.signature, "report")
    verified = tuple(_verify_message(m, report.reporter, keyring, directory, ledger) for m in report.messages)
    return VerifiedReport(
        report_id=report.report_id,
        reporter=report.reporter,
        reporter_device=report.reporter_device,
        conversation=report.conversation,
        reason=report.reason,
        created_at=report.created_at,
        accused=tuple(dict.fromkeys(m.sender for m in verified)),
        messages=verified,
    )


def _verify_message(
    m: RevealedMessage,
    reporter: str,
    keyring: ServerKeyRing,
    directory: DeviceDirectory,
    ledger: StampLedger | None,
) -> VerifiedMessage:
    def fail(code: Rejection, reason: str) -> VerificationError:
        return VerificationError(code, reason, message_id=m.message_id)

    if reporter not in m.recipients:
        raise fail(Rejection.NOT_A_RECIPIENT, f"{reporter!r} was not a recipient of this message")
    if ledger is not None:
        rec = ledger.get(m.message_id)
        if rec is None:
            raise fail(Rejection.NEVER_SENT, "the server never accepted a message with this id")
        if (rec.sender, rec.sender_device) != (m.sender, m.sender_device):
            raise fail(Rejection.WRONG_SENDER, f"the report names {m.sender!r}; the message was not theirs")
        stamped = (rec.conversation, rec.group, set(rec.recipients), rec.received_at, rec.commitment)
        claimed = (m.conversation, m.group, set(m.recipients), m.received_at, m.commitment)
        if stamped != claimed:
            raise fail(
                Rejection.FORGED_TAG,
                "conversation, recipients, time or commitment differ from what the server stamped",
            )
    key = keyring.get(m.server_key_id)
    if key is None:
        raise fail(Rejection.FORGED_TAG, f"no server key {m.server_key_id!r}")
    expected = server_tag(
        key,
        message_id=m.message_id,
        conversation=m.conversation,
        group=m.group,
        sender=m.sender,
        sender_device=m.sender_device,
        recipients=m.recipients,
        received_at=m.received_at,
        commitment=m.commitment,
    )
    if not hmac.compare_digest(expected, m.server_tag):
        raise fail(
            Rejection.FORGED_TAG,
            "the server tag does not verify: this sender, time, recipients and commitment were not stamped "
            "together by this server",
        )
    if not opens(
        m.commitment,
        m.franking_key,
        message_id=m.message_id,
        conversation=m.conversation,
        sender=m.sender,
        text=m.text,
    ):
        raise fail(Rejection.ALTERED_PLAINTEXT, "the revealed text does not open the sender's commitment")
    sender = require_device(directory, m.sender, m.sender_device, message_id=m.message_id)
    signed = message_signed_bytes(
        message_id=m.message_id,
        conversation=m.conversation,
        group=m.group,
        sender=m.sender,
        sender_device=m.sender_device,
        recipients=m.recipients,
        commitment=m.commitment,
    )
    verify_signature(sender, signed, m.signature, "sender's message", message_id=m.message_id)
    return VerifiedMessage(m.message_id, m.sender, m.sender_device, m.recipients, m.received_at, m.text)
