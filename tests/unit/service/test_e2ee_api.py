"""``/v1/e2ee`` over HTTP: devices, relay, ingest without text, device alerts, verified reports, and every
attack of issue 7 (tampered ciphertext, replays, forged franking tags, reports of messages never sent)
answered 4xx with its reason."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest
from service_helpers import Events, KeywordDetector, Service, running, settings_for

from safeguarding.client import ClientSession, DeviceKeys
from safeguarding.e2ee import Envelope, KeyPackage, Rejection, Report, StampedEnvelope, VerificationError
from safeguarding.e2ee.reports import report_signed_bytes
from safeguarding.engine import FrozenClock
from safeguarding.service.e2ee import DEVICE_ALERTS_PER_HOUR, KIND_ENVELOPE, KIND_KEY_PACKAGE
from safeguarding.service.e2ee_demo import _ServerDirectory

KEY = base64.b64encode(bytes(range(32))).decode()


@dataclass
class HttpUplink:
    """The demo's :class:`~safeguarding.service.e2ee_demo.Uplink` over the real routes (TestClient)."""

    svc: Service
    tenant: str = "acme"

    def _h(self, account: str, device: str | None = None) -> dict[str, str]:
        h = {**self.svc.key_headers(self.tenant), "X-Safeguarding-Account": account}
        if device is not None:
            h["X-Safeguarding-Device"] = device
        return h

    def _ok(self, r: Any) -> dict[str, Any]:
        assert r.status_code < 300, r.text
        out: dict[str, Any] = r.json()
        return out

    def at(self, when: datetime) -> None:
        self.svc.clock.at = when

    def events(self, raw: list[dict[str, Any]]) -> int:
        return int(self._ok(self.svc.send(self.tenant, raw))["rejected"])

    def register(self, account: str, identity: dict[str, Any]) -> None:
        self._ok(self.svc.client.post("/v1/e2ee/devices", json=identity, headers=self._h(account)))

    def devices(self, account: str) -> list[dict[str, Any]]:
        r = self.svc.client.get(f"/v1/e2ee/devices/{account}", headers=self.svc.key_headers(self.tenant))
        return list(self._ok(r)["devices"])

    def key_packages(self, account: str, device: str, packages: list[dict[str, Any]]) -> None:
        body = {"packages": packages}
        self._ok(self.svc.client.post("/v1/e2ee/key-packages", json=body, headers=self._h(account, device)))

    def envelope(self, account: str, device: str, envelope: dict[str, Any]) -> dict[str, Any]:
        return self._ok(self.post("/v1/e2ee/envelopes", envelope, account, device))

    def post(self, path: str, body: Any, account: str, device: str) -> Any:
        return self.svc.client.post(path, json=body, headers=self._h(account, device))

    def pending(self, account: str, device: str, kind: str) -> list[dict[str, Any]]:
        path = "/v1/e2ee/envelopes" if kind == KIND_ENVELOPE else "/v1/e2ee/key-packages"
        out = self._ok(self.svc.client.get(path, headers=self._h(account, device)))
        return list(out["envelopes" if kind == KIND_ENVELOPE else "packages"])

    def ack(self, account: str, device: str, kind: str, upto: int) -> None:
        self._ok(self.post("/v1/e2ee/inbox/ack", {"kind": kind, "upto": upto}, account, device))

    def device_alert(self, account: str, device: str, alert: dict[str, Any]) -> dict[str, Any]:
        return self._ok(self.post("/v1/e2ee/device-alerts", alert, account, device))

    def report(self, account: str, device: str, report: dict[str, Any]) -> dict[str, Any]:
        return self._ok(self.post("/v1/e2ee/reports", report, account, device))


@pytest.fixture
def e2ee(db_url: str, frozen_clock: FrozenClock) -> Iterator[Service]:
    with running(settings_for(db_url, franking_key=KEY), frozen_clock, KeywordDetector()) as svc:
        svc.add_tenant("acme")
        yield svc


@dataclass
class Chat:
    up: HttpUplink
    a: ClientSession
    k: ClientSession

    def send(self, text: str) -> tuple[Envelope, dict[str, Any]]:
        out = self.a.send("c1", text)
        return out.envelope, self.up.envelope("a1", self.a.device, out.envelope.to_dict())

    def receive_all(self) -> list[Any]:
        got = []
        for item in self.up.pending("k1", self.k.device, KIND_ENVELOPE):
            got.append(self.k.receive(StampedEnvelope.from_dict(item["stamped"])))
        return got

    def problem(self, path: str, body: Any, account: str = "a1", device: str | None = None) -> dict[str, Any]:
        r = self.up.post(path, body, account, device or (self.a.device if account == "a1" else self.k.device))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        out: dict[str, Any] = r.json()
        out["detail"] = re.sub(r"^message '[^']*': ", "", out["detail"])  # the code first
        return out


@pytest.fixture
def chat(e2ee: Service) -> Chat:
    """Adults ``a1`` and ``k1`` (so contact policy allows them) with registered devices, in ``c1``."""
    ev = Events()
    assert e2ee.send("acme", [ev.account("a1"), ev.account("k1")]).status_code == 200
    up = HttpUplink(e2ee)
    sessions = []
    for acc in ("a1", "k1"):
        keys = DeviceKeys.generate(acc, f"{acc}-phone")
        up.register(acc, keys.identity.to_dict())
        sessions.append(ClientSession(keys, _ServerDirectory(up), None, clock=e2ee.clock))
    a, k = sessions
    up.key_packages("a1", a.device, [p.to_dict() for p in a.open_conversation("c1", ["a1", "k1"])])
    for item in up.pending("k1", k.device, KIND_KEY_PACKAGE):
        k.accept_key_package(KeyPackage.from_dict(item["package"]))
    return Chat(up, a, k)


def test_messages_are_stamped_fed_without_text_and_delivered(chat: Chat, e2ee: Service) -> None:
    env, out = chat.send("see you at practice tomorrow")
    assert out["status"] == "accepted" and out["delivered_to"] == ["k1"] and out["decision"] == "allow"
    [got] = chat.receive_all()
    assert got.message.text == "see you at practice tomorrow"
    # the engine processed the message's text-free event, under the message id
    assert e2ee.ctx.engines.engine("acme").store.processed([env.message_id])
    # acknowledged items are deleted: the server keeps no ciphertext after delivery
    seq = chat.up.pending("k1", chat.k.device, KIND_ENVELOPE)[-1]["seq"]
    chat.up.ack("k1", chat.k.device, KIND_ENVELOPE, seq)
    assert chat.up.pending("k1", chat.k.device, KIND_ENVELOPE) == []


def test_tampered_ciphertext_is_refused(chat: Chat) -> None:
    env, _ = chat.send("the first message")
    doc = env.to_dict()
    ct = bytearray(base64.b64decode(str(doc["ciphertext"])))
    ct[0] ^= 1
    # the same message re-uploaded with other ciphertext: the server's ledger pins what it stamped
    tampered = {**doc, "ciphertext": base64.b64encode(bytes(ct)).decode()}
    p = chat.problem("/v1/e2ee/envelopes", tampered)
    assert p["detail"].startswith("replay:") and "different message" in p["detail"]
    # under a fresh id and nonce the server cannot tell (it holds no key) and relays it; the
    # recipient's device refuses it, so nothing altered is ever shown (or reportable)
    fresh = chat.a.send("c1", "another message").envelope
    forged = replace(fresh, ciphertext=bytes([fresh.ciphertext[0] ^ 1]) + fresh.ciphertext[1:])
    assert chat.up.envelope("a1", chat.a.device, forged.to_dict())["status"] == "accepted"
    items = chat.up.pending("k1", chat.k.device, KIND_ENVELOPE)
    chat.k.receive(StampedEnvelope.from_dict(items[0]["stamped"]))
    with pytest.raises(VerificationError) as exc:
        chat.k.receive(StampedEnvelope.from_dict(items[1]["stamped"]))
    assert exc.value.code is Rejection.TAMPERED
    # garbage where ciphertext belongs
    p = chat.problem("/v1/e2ee/envelopes", {**doc, "ciphertext": "%%%"})
    assert p["detail"].startswith("malformed:")


def test_replayed_messages(chat: Chat, e2ee: Service) -> None:
    env, first = chat.send("hello there friend")
    again = chat.up.envelope("a1", chat.a.device, env.to_dict())  # a client retry
    assert again["status"] == "duplicate" and again["server_tag"] == first["server_tag"]
    assert len(chat.up.pending("k1", chat.k.device, KIND_ENVELOPE)) == 1  # relayed once
    # the captured ciphertext under a new message id: the nonce gives it away
    p = chat.problem("/v1/e2ee/envelopes", {**env.to_dict(), "message_id": "f" * 32})
    assert p["detail"].startswith("nonce_reuse:")
    # a different message under a used id
    other = chat.a.send("c1", "something else").envelope
    p = chat.problem("/v1/e2ee/envelopes", {**other.to_dict(), "message_id": env.message_id})
    assert p["detail"].startswith("replay:")
    # someone else's envelope uploaded as theirs
    p = chat.problem("/v1/e2ee/envelopes", other.to_dict(), account="k1")
    assert p["detail"].startswith("sender_mismatch:")
    # a replay delivered to the device is refused there too
    [item] = chat.up.pending("k1", chat.k.device, KIND_ENVELOPE)
    stamped = StampedEnvelope.from_dict(item["stamped"])
    chat.k.receive(stamped)
    with pytest.raises(VerificationError) as exc:
        chat.k.receive(stamped)
    assert exc.value.code is Rejection.REPLAY


def alerts_of(svc: Service, kind: str) -> list[dict[str, Any]]:
    """The platform's alerts of one kind (``?kind=`` accepts only the engine's own kinds)."""
    r = svc.client.get("/v1/alerts?limit=500", headers=svc.key_headers("acme"))
    assert r.status_code == 200, r.text
    return [a for a in r.json()["alerts"] if a["kind"] == kind]


def _resign(report: Report, k: ClientSession, **changes: Any) -> Report:
    messages = tuple(replace(m, **changes) for m in report.messages)
    signed = report_signed_bytes(
        report_id=report.report_id, reporter=report.reporter, reporter_device=report.reporter_device,
        conversation=report.conversation, reason=report.reason, created_at=report.created_at,
        messages=messages,
    )  # fmt: skip
    return replace(report, messages=messages, signature=k.keys.sign(signed))


def test_forged_franking_tags_and_reports_of_messages_never_sent(chat: Chat, e2ee: Service) -> None:
    env, _ = chat.send("meet me after school and tell nobody")
    chat.receive_all()
    report = chat.k.report("c1", [env.message_id])
    tag = report.messages[0].server_tag
    forged = _resign(report, chat.k, server_tag=bytes([tag[0] ^ 1]) + tag[1:])
    p = chat.problem("/v1/e2ee/reports", forged.to_dict(), account="k1")
    assert p["detail"].startswith("forged_franking_tag:")
    # the reporter changes the time the server stamped (framing someone): the tag no longer verifies
    later = _resign(report, chat.k, received_at=report.messages[0].received_at.replace(year=2027))
    assert chat.problem("/v1/e2ee/reports", later.to_dict(), account="k1")["detail"].startswith(
        "forged_franking_tag:"
    )
    altered = _resign(report, chat.k, text="meet me after school and tell your mum")
    p = chat.problem("/v1/e2ee/reports", altered.to_dict(), account="k1")
    assert p["detail"].startswith("altered_plaintext:")
    invented = _resign(report, chat.k, message_id="0" * 32)
    p = chat.problem("/v1/e2ee/reports", invented.to_dict(), account="k1")
    assert p["detail"].startswith("never_sent:")
    unsigned = replace(report, signature=bytes(64))
    assert chat.problem("/v1/e2ee/reports", unsigned.to_dict(), account="k1")["detail"].startswith(
        "bad_signature:"
    )
    assert chat.problem("/v1/e2ee/reports", report.to_dict(), account="a1", device=chat.k.device)[
        "detail"
    ].startswith("sender_mismatch:")
    # nothing refused was stored; the genuine report is
    assert alerts_of(e2ee, "verified_report") == []
    r = chat.up.post("/v1/e2ee/reports", report.to_dict(), "k1", chat.k.device)
    assert r.status_code == 201 and r.json()["accused"] == ["a1"]
    again = chat.up.post("/v1/e2ee/reports", report.to_dict(), "k1", chat.k.device)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    [alert] = alerts_of(e2ee, "verified_report")
    assert alert["subject"] == "a1" and "meet me" not in json.dumps(alert)
    # the report reached the engine as a report event: the reports-received signal counts it
    risk = e2ee.client.get("/v1/accounts/a1/risk", headers=e2ee.key_headers("acme")).json()
    assert "report" in json.dumps(risk)
    # the text: moderators and admins of the platform only
    mod = e2ee.add_person("acme", "moderator", "mod")
    path = f"/v1/e2ee/reports/{report.report_id}"
    got = e2ee.client.get(path, headers={"Authorization": mod["Authorization"]})
    assert (
        got.status_code == 200 and got.json()["messages"][0]["text"] == "meet me after school and tell nobody"
    )
    assert e2ee.client.get(path, headers=e2ee.key_headers("acme")).status_code == 403
    assert e2ee.client.get(path + "x", headers={"Authorization": mod["Authorization"]}).status_code == 404


def test_device_alerts_are_verified_deduplicated_rate_limited_and_listed(chat: Chat, e2ee: Service) -> None:
    from safeguarding.e2ee import DeviceAlert
    from safeguarding.e2ee.alerts import DeviceAlertKind, alert_signed_bytes
    from safeguarding.types import Stage

    chat.send("hi")

    def alert(i: int, account: str = "k1", conversation: str = "c1") -> DeviceAlert:
        session = chat.k if account == "k1" else chat.a
        fields: dict[str, Any] = dict(
            alert_id=f"{i:032x}", account=account, device=session.device, conversation=conversation,
            kind=DeviceAlertKind.GROOMING, risk=0.91, stages=(Stage.SECRECY_ISOLATION,), model_version="t",
            created_at=e2ee.clock.now(),
        )  # fmt: skip
        return DeviceAlert(**fields, signature=session.keys.sign(alert_signed_bytes(**fields)))

    first = alert(1).to_dict()
    r = chat.up.post("/v1/e2ee/device-alerts", first, "k1", chat.k.device)
    assert r.status_code == 201, r.text
    assert chat.up.post("/v1/e2ee/device-alerts", first, "k1", chat.k.device).json()["status"] == "duplicate"
    [listed] = alerts_of(e2ee, "device_grooming")
    assert listed["conversation"] == "c1" and listed["risk"] == 0.91
    assert "no message text was shared" in json.dumps(listed["reasons"])
    # an outsider's chat, another's signature, a text field smuggled in
    assert chat.problem("/v1/e2ee/device-alerts", alert(2, conversation="c9").to_dict(), "k1")[
        "detail"
    ].startswith("not_a_member:")
    assert chat.problem("/v1/e2ee/device-alerts", alert(3).to_dict(), "a1", chat.a.device)[
        "detail"
    ].startswith("sender_mismatch:")
    smuggled = {**alert(4).to_dict(), "text": "the child's words"}
    assert chat.problem("/v1/e2ee/device-alerts", smuggled, "k1")["detail"].startswith("malformed:")
    for i in range(10, 10 + DEVICE_ALERTS_PER_HOUR - 1):
        assert (
            chat.up.post("/v1/e2ee/device-alerts", alert(i).to_dict(), "k1", chat.k.device).status_code == 201
        )
    r = chat.up.post("/v1/e2ee/device-alerts", alert(99).to_dict(), "k1", chat.k.device)
    assert r.status_code == 429 and "alerts an hour" in r.json()["detail"] and r.headers["retry-after"]


def test_directory_refuses_other_keys_and_uploads_need_a_registered_device(chat: Chat, e2ee: Service) -> None:
    other = DeviceKeys.generate("a1", chat.a.device)  # same device id, new keys: a substitution attempt
    r = e2ee.client.post(
        "/v1/e2ee/devices", json=other.identity.to_dict(),
        headers={**e2ee.key_headers("acme"), "X-Safeguarding-Account": "a1"},
    )  # fmt: skip
    assert r.status_code == 409 and "never replaced" in r.json()["detail"]
    r = e2ee.client.post(
        "/v1/e2ee/devices", json=other.identity.to_dict(),
        headers={**e2ee.key_headers("acme"), "X-Safeguarding-Account": "k1"},
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"].startswith("sender_mismatch:")
    [d] = e2ee.client.get("/v1/e2ee/devices/a1", headers=e2ee.key_headers("acme")).json()["devices"]
    assert d["fingerprint"] == chat.a.keys.identity.fingerprint
    r = e2ee.client.get("/v1/e2ee/envelopes", headers=e2ee.key_headers("acme"))
    assert r.status_code == 422 and "X-Safeguarding-Account" in r.json()["detail"]
    r = chat.up.post("/v1/e2ee/envelopes", chat.a.send("c1", "x").envelope.to_dict(), "a1", "tablet")
    assert r.status_code == 422 and "unknown_device:" in r.json()["detail"]


def test_without_a_franking_key_encrypted_mode_is_off(service: Service) -> None:
    r = service.client.get("/v1/e2ee/devices/a1", headers=service.key_headers("acme"))
    assert r.status_code == 404 and "SAFEGUARDING_FRANKING_KEY" in r.json()["detail"]
