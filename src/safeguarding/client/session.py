"""``ClientSession``: what an app embeds on a device in end-to-end-encrypted mode.

It encrypts and frankes outgoing messages into :class:`~safeguarding.e2ee.Envelope` objects, checks and
decrypts incoming ones, and runs the same streaming grooming detector as the server would, over the
decrypted conversation, keeping one detector state per conversation on the device. When the detector
first flags a conversation because of another participant, the session returns a
:class:`~safeguarding.client.notices.SafetyNotice` for the app to show and a signed, text-free
:class:`~safeguarding.e2ee.DeviceAlert` for the app to upload. :meth:`ClientSession.report` — called only
when the user chooses to report — is the one method whose output contains message text.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from safeguarding.client.keys import DeviceKeys, decrypt, encrypt, key_id_of, new_conversation_key
from safeguarding.client.notices import SafetyNotice, notice_for
from safeguarding.e2ee.alerts import RISK_DECIMALS, DeviceAlert, DeviceAlertKind, alert_signed_bytes
from safeguarding.e2ee.codec import malformed
from safeguarding.e2ee.franking import FRANKING_KEY_BYTES, commit, message_signed_bytes, opens
from safeguarding.e2ee.identity import SIGNATURE_BYTES, DeviceDirectory, require_device, verify_signature
from safeguarding.e2ee.reasons import Rejection, VerificationError
from safeguarding.e2ee.reports import MAX_TEXT_CHARS, Report, RevealedMessage, report_signed_bytes
from safeguarding.e2ee.wire import NONCE_BYTES, Envelope, KeyPackage, StampedEnvelope, envelope_header
from safeguarding.engine.clock import Clock, SystemClock
from safeguarding.engine.detector import ConversationDetector
from safeguarding.errors import InputError, NotFoundError
from safeguarding.types import STAGES, Assessment, Message

PAYLOAD_VERSION = 1


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """One epoch's key of a conversation, with the membership it was shared with."""

    conversation: str
    key_id: str
    key: bytes = field(repr=False)
    members: tuple[str, ...] = ()
    group: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LocalMessage:
    """A message as the app shows it. Lives on the device only (``text`` is kept out of ``repr``)."""

    message_id: str
    conversation: str
    sender: str
    at: datetime
    outgoing: bool
    text: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What :meth:`ClientSession.send` produced: the envelope to upload, and perhaps a notice and alert."""

    envelope: Envelope
    notice: SafetyNotice | None = None
    alert: DeviceAlert | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """What :meth:`ClientSession.receive` produced: the message to show, and perhaps a notice and alert."""

    message: LocalMessage
    notice: SafetyNotice | None = None
    alert: DeviceAlert | None = None


@dataclass(frozen=True, slots=True)
class _Frankable:
    """What a received message keeps so that the user can report it later."""

    stamped: StampedEnvelope
    franking_key: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    text: str = field(repr=False)


class ClientSession:
    """One device's end of encrypted mode. Not thread-safe: an app drives it from one queue.

    ``detector`` is any streaming detector (the compact device model from
    :func:`safeguarding.client.load_device_model`, or ``None`` to switch protection off).
    """

    def __init__(
        self,
        keys: DeviceKeys,
        directory: DeviceDirectory,
        detector: ConversationDetector[Any] | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.keys = keys
        self.directory = directory
        self.detector = detector
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._keys: dict[tuple[str, str], ConversationKey] = {}
        self._current: dict[str, ConversationKey] = {}
        self._seen: set[str] = set()
        self._history: dict[str, list[LocalMessage]] = {}
        self._frankable: dict[str, _Frankable] = {}
        self._states: dict[str, Any] = {}
        self._assessments: dict[str, Assessment] = {}
        self._alerted: set[str] = set()

    @property
    def account(self) -> str:
        return self.keys.account

    @property
    def device(self) -> str:
        return self.keys.device

    # -- conversation keys ---------------------------------------------------------------------------
    def open_conversation(
        self, conversation: str, members: Sequence[str], *, group: str | None = None
    ) -> tuple[KeyPackage, ...]:
        """Start a conversation (or a new epoch after a membership change): a fresh key, sealed to
        every registered device of every member (this account's other devices included)."""
        members = tuple(dict.fromkeys(members))
        if self.account not in members or len(members) < 2:
            raise InputError("a conversation needs this account and at least one other member")
        key, now = new_conversation_key(), self.clock.now()
        ck = ConversationKey(conversation, key_id_of(key), key, members, group, now)
        packages: list[KeyPackage] = []
        for member in members:
            devices = self.directory.devices(member)
            if not devices and member != self.account:
                raise InputError(f"{member!r} has no registered device: the conversation cannot be encrypted")
            for dev in devices:
                if (dev.account, dev.device) == (self.account, self.device):
                    continue
                unsigned = KeyPackage(
                    conversation, ck.key_id, group, self.account, self.device, dev.account, dev.device,
                    members, now, self.keys.seal_key(key, dev), b"\0" * SIGNATURE_BYTES,
                )  # fmt: skip
                packages.append(_signed_package(unsigned, self.keys.sign(unsigned.signed_bytes())))
        self._install(ck)
        return tuple(packages)

    def accept_key_package(self, package: KeyPackage) -> None:
        """Install a conversation key sealed to this device, after checking who signed it."""
        if (package.recipient, package.recipient_device) != (self.account, self.device):
            raise VerificationError(Rejection.NOT_A_RECIPIENT, "this key package is for another device")
        current = self._current.get(package.conversation)
        if current is not None and package.sender not in current.members:
            # Anyone may start a new conversation, but only a member may re-key an existing one:
            # otherwise an outsider could slip a key of his own into someone else's chat.
            raise VerificationError(
                Rejection.NOT_A_MEMBER, f"{package.sender!r} is not a member of {package.conversation!r}"
            )
        package.verify(self.directory)
        sender = require_device(self.directory, package.sender, package.sender_device)
        key = self.keys.open_key(package.sealed, sender)
        if key_id_of(key) != package.key_id:
            raise VerificationError(Rejection.TAMPERED, "the sealed key does not match the key id")
        ck = ConversationKey(
            package.conversation, package.key_id, key, package.members, package.group, package.created_at
        )
        self._install(ck)

    def _install(self, ck: ConversationKey) -> None:
        self._keys[(ck.conversation, ck.key_id)] = ck
        cur = self._current.get(ck.conversation)
        if cur is None or (ck.created_at, ck.key_id) >= (cur.created_at, cur.key_id):
            self._current[ck.conversation] = ck

    # -- sending -------------------------------------------------------------------------------------
    def send(self, conversation: str, text: str, *, to: Sequence[str] | None = None) -> Outgoing:
        """Encrypt, commit to and sign ``text`` for the conversation's other members (or ``to``, some of
        them: a reply addressed to one person in a group keeps the platform's recipient metadata)."""
        ck = self._current.get(conversation)
        if ck is None:
            raise InputError(f"no key for conversation {conversation!r}: open it or accept its key package")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(f"a message holds at most {MAX_TEXT_CHARS} characters")
        others = tuple(m for m in ck.members if m != self.account)
        recipients = others if to is None else tuple(dict.fromkeys(to))
        if not recipients or not set(recipients) <= set(others):
            raise InputError("recipients must be other members of the conversation")
        message_id = secrets.token_hex(16)
        franking_key = os.urandom(FRANKING_KEY_BYTES)
        commitment = commit(
            franking_key, message_id=message_id, conversation=conversation, sender=self.account, text=text
        )
        signature = self.keys.sign(
            message_signed_bytes(
                message_id=message_id,
                conversation=conversation,
                group=ck.group,
                sender=self.account,
                sender_device=self.device,
                recipients=recipients,
                commitment=commitment,
            )
        )
        nonce = os.urandom(NONCE_BYTES)
        header = envelope_header(
            message_id=message_id,
            conversation=conversation,
            group=ck.group,
            sender=self.account,
            sender_device=self.device,
            recipients=recipients,
            key_id=ck.key_id,
            nonce=nonce,
            commitment=commitment,
        )
        plaintext = _payload(franking_key, signature, text)
        envelope = Envelope(
            message_id, conversation, ck.group, self.account, self.device, recipients, ck.key_id, nonce,
            encrypt(ck.key, nonce, header, plaintext), commitment,
        )  # fmt: skip
        now = self.clock.now()
        self._seen.add(message_id)
        self._remember(LocalMessage(message_id, conversation, self.account, now, True, text))
        notice, alert = self._observe(conversation, self.account, text, now)
        return Outgoing(envelope, notice, alert)

    # -- receiving -----------------------------------------------------------------------------------
    def receive(self, stamped: StampedEnvelope) -> Delivery:
        """Check and decrypt a delivered envelope; refuse it (``VerificationError``) if anything is off.

        Refusals: ``replay`` (a message id seen before), ``not_a_recipient``, ``unknown_key``,
        ``not_a_member``, ``tampered_ciphertext``, ``unknown_device``, ``bad_signature`` and
        ``bad_commitment`` — the last because a message whose franking does not verify could not be
        reported, so it must not be shown.
        """
        env = stamped.envelope
        mid = env.message_id
        if mid in self._seen:
            raise VerificationError(Rejection.REPLAY, "this message was delivered before", message_id=mid)
        own = env.sender == self.account
        if self.account not in env.recipients and not own:
            raise VerificationError(
                Rejection.NOT_A_RECIPIENT, "not addressed to this account", message_id=mid
            )
        ck = self._keys.get((env.conversation, env.key_id))
        if ck is None:
            raise VerificationError(Rejection.UNKNOWN_KEY, "no such conversation key here", message_id=mid)
        if (
            env.sender not in ck.members
            or not set(env.recipients) <= set(ck.members)
            or env.group != ck.group
        ):
            raise VerificationError(
                Rejection.NOT_A_MEMBER, "sender or recipients are not members for this key", message_id=mid
            )
        payload = _read_payload(
            decrypt(ck.key, env.nonce, env.header_bytes(), env.ciphertext, message_id=mid)
        )
        franking_key, signature, text = payload
        sender = require_device(self.directory, env.sender, env.sender_device, message_id=mid)
        signed = message_signed_bytes(
            message_id=mid,
            conversation=env.conversation,
            group=env.group,
            sender=env.sender,
            sender_device=env.sender_device,
            recipients=env.recipients,
            commitment=env.commitment,
        )
        verify_signature(sender, signed, signature, "sender's message", message_id=mid)
        if not opens(
            env.commitment,
            franking_key,
            message_id=mid,
            conversation=env.conversation,
            sender=env.sender,
            text=text,
        ):
            raise VerificationError(
                Rejection.BAD_COMMITMENT,
                "the franking key does not open the commitment: the message could not be reported",
                message_id=mid,
            )
        self._seen.add(mid)
        local = LocalMessage(mid, env.conversation, env.sender, stamped.received_at, own, text)
        self._remember(local)
        if not own:
            self._frankable[mid] = _Frankable(stamped, franking_key, signature, text)
        notice, alert = self._observe(env.conversation, env.sender, text, stamped.received_at)
        return Delivery(local, notice, alert)

    # -- reporting -----------------------------------------------------------------------------------
    def report(self, conversation: str, message_ids: Sequence[str], *, reason: str = "grooming") -> Report:
        """A signed report revealing exactly ``message_ids`` (received messages) of ``conversation``.

        The only output of this class that contains message text; call it only on the user's choice.
        """
        if not message_ids:
            raise InputError("choose at least one message to report")
        revealed: list[RevealedMessage] = []
        for mid in dict.fromkeys(message_ids):
            f = self._frankable.get(mid)
            if f is None or f.stamped.envelope.conversation != conversation:
                raise NotFoundError(f"message {mid!r} is not a message received in {conversation!r}")
            env = f.stamped.envelope
            revealed.append(
                RevealedMessage(
                    message_id=mid,
                    conversation=conversation,
                    group=env.group,
                    sender=env.sender,
                    sender_device=env.sender_device,
                    recipients=env.recipients,
                    received_at=f.stamped.received_at,
                    server_key_id=f.stamped.server_key_id,
                    server_tag=f.stamped.server_tag,
                    commitment=env.commitment,
                    franking_key=f.franking_key,
                    signature=f.signature,
                    text=f.text,
                )
            )
        report_id, now, messages = secrets.token_hex(16), self.clock.now(), tuple(revealed)
        signed = report_signed_bytes(
            report_id=report_id,
            reporter=self.account,
            reporter_device=self.device,
            conversation=conversation,
            reason=reason,
            created_at=now,
            messages=messages,
        )
        sig = self.keys.sign(signed)
        return Report(report_id, self.account, self.device, conversation, reason, now, messages, sig)

    # -- on-device detection -------------------------------------------------------------------------
    def assessment(self, conversation: str) -> Assessment | None:
        """The detector's latest assessment of a conversation (device-local)."""
        return self._assessments.get(conversation)

    def history(self, conversation: str) -> tuple[LocalMessage, ...]:
        return tuple(self._history.get(conversation, ()))

    def suggested_report(self, conversation: str) -> tuple[str, ...]:
        """Ids of the received messages that drove the detector's alert, to preselect in the report
        screen (the user confirms; nothing is sent without that)."""
        a = self._assessments.get(conversation)
        history = self._history.get(conversation, [])
        if a is None:
            return ()
        indexes = sorted({e.index for e in a.evidence if 0 <= e.index < len(history)})
        return tuple(m for m in (history[i].message_id for i in indexes) if m in self._frankable)

    def _remember(self, message: LocalMessage) -> None:
        self._history.setdefault(message.conversation, []).append(message)

    def _observe(
        self, conversation: str, author: str, text: str, at: datetime
    ) -> tuple[SafetyNotice | None, DeviceAlert | None]:
        """Feed one message to the detector; on the first alert about someone else, notice + alert.

        The device never alerts about its own account: a child must not be reported by their own
        phone, and a groomer's device cannot be trusted to report him anyway.
        """
        det = self.detector
        if det is None:
            return None, None
        state = self._states.get(conversation)
        if state is None:
            state = self._states[conversation] = det.new_state(conversation)
        a = det.update(state, Message(author, text, at.isoformat()))
        self._assessments[conversation] = a
        if not a.flagged or a.suspect in (None, self.account) or conversation in self._alerted:
            return None, None
        self._alerted.add(conversation)
        return notice_for(a), self._alert(a, at, det.version)

    def _alert(self, a: Assessment, at: datetime, model_version: str) -> DeviceAlert:
        alert_id = secrets.token_hex(16)
        risk = round(min(1.0, max(0.0, a.risk)), RISK_DECIMALS)
        stages = tuple(s for s in STAGES if s in a.stages)
        created_at = max(at, self.clock.now())
        signed = alert_signed_bytes(
            alert_id=alert_id,
            account=self.account,
            device=self.device,
            conversation=a.conversation,
            kind=DeviceAlertKind.GROOMING,
            risk=risk,
            stages=stages,
            model_version=model_version,
            created_at=created_at,
        )
        return DeviceAlert(
            alert_id, self.account, self.device, a.conversation, DeviceAlertKind.GROOMING, risk, stages,
            model_version, created_at, self.keys.sign(signed),
        )  # fmt: skip


def _signed_package(p: KeyPackage, signature: bytes) -> KeyPackage:
    return KeyPackage(
        p.conversation, p.key_id, p.group, p.sender, p.sender_device, p.recipient, p.recipient_device,
        p.members, p.created_at, p.sealed, signature,
    )  # fmt: skip


def _payload(franking_key: bytes, signature: bytes, text: str) -> bytes:
    """The plaintext inside the AEAD: version byte, franking key, sender's signature, UTF-8 text."""
    return bytes([PAYLOAD_VERSION]) + franking_key + signature + text.encode("utf-8", "surrogatepass")


def _read_payload(plaintext: bytes) -> tuple[bytes, bytes, str]:
    """The decrypted payload: franking key, sender's signature and text (strictly parsed)."""
    head = 1 + FRANKING_KEY_BYTES + SIGNATURE_BYTES
    if len(plaintext) < head or plaintext[0] != PAYLOAD_VERSION:
        raise malformed("message payload", f"too short or not payload version {PAYLOAD_VERSION}")
    try:
        text = plaintext[head:].decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise malformed("message payload", "the text is not UTF-8") from None
    if len(text) > MAX_TEXT_CHARS:
        raise malformed("message payload", f"the text is longer than {MAX_TEXT_CHARS} characters")
    return plaintext[1 : 1 + FRANKING_KEY_BYTES], plaintext[1 + FRANKING_KEY_BYTES : head], text
