"""Alert webhooks: HMAC-signed, retried with back-off, at least once, idempotency key = event id + index."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from service_helpers import Events, KeywordDetector, Service, grooming_story, running, settings_for

from safeguarding.engine import FrozenClock
from safeguarding.service.webhooks import sign, verify_signature


class Receiver:
    """A fake platform endpoint (httpx MockTransport): records requests, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: list[int | Exception] = []
        self.default = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else self.default
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    def bodies(self) -> list[dict]:  # type: ignore[type-arg]
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def hooked(
    db_url: str, frozen_clock: FrozenClock
) -> Iterator[tuple[Service, Receiver, Callable[[str], str]]]:
    receiver = Receiver()
    settings = settings_for(db_url, webhook_max_attempts=3, webhook_backoff_seconds=10)
    with running(settings, frozen_clock, KeywordDetector(), transport=httpx.MockTransport(receiver)) as svc:
        svc.add_tenant("acme")

        def hook(tenant: str) -> str:
            r = svc.client.put(
                f"/v1/tenants/{tenant}/webhook",
                json={"url": f"https://{tenant}.test/hook"},
                headers=svc.admin,
            )
            return str(r.json()["secret"])

        yield svc, receiver, hook


def test_signature_round_trip() -> None:
    body = b'{"id":"e1:0"}'
    now = int(time.time())
    sig = sign("whsec_x", now, body)
    assert verify_signature("whsec_x", body, str(now), sig)
    assert not verify_signature("whsec_y", body, str(now), sig)
    assert not verify_signature("whsec_x", body + b" ", str(now), sig)
    assert not verify_signature("whsec_x", body, str(now - 3600), sign("whsec_x", now - 3600, body))
    assert not verify_signature("whsec_x", body, "soon", sig) and not verify_signature(
        "whsec_x", body, None, sig
    )
    assert verify_signature("whsec_x", body, str(now), "v1=00, " + sig)  # several signatures during rotation


def test_alerts_are_delivered_signed_with_the_event_id_as_key(
    hooked: tuple[Service, Receiver, Callable[[str], str]],
) -> None:
    svc, receiver, hook = hooked
    secret = hook("acme")
    svc.send("acme", grooming_story(Events()))
    result = svc.ctx.relay.run_once()
    assert result.delivered == 1 and len(receiver.requests) == 1
    req = receiver.requests[0]
    assert str(req.url) == "https://acme.test/hook"
    assert verify_signature(
        secret, req.content, req.headers["Safeguarding-Timestamp"], req.headers["Safeguarding-Signature"]
    )
    body = json.loads(req.content)
    alert = svc.client.get("/v1/alerts?kind=grooming", headers=svc.key_headers("acme")).json()["alerts"][0]
    assert body["id"] == alert["id"] == req.headers["Safeguarding-Id"] == req.headers["Idempotency-Key"]
    assert body["tenant"] == "acme" and body["type"] == "alert"
    assert body["data"]["kind"] == "grooming" and body["data"]["subject"] == "a1" and body["data"]["reasons"]
    assert svc.ctx.relay.run_once().delivered == 0  # delivered once, not again


def test_failures_are_retried_with_back_off_then_given_up(
    hooked: tuple[Service, Receiver, Callable[[str], str]],
) -> None:
    svc, receiver, hook = hooked
    hook("acme")
    receiver.answers = [500, httpx.ConnectError("refused"), 200]
    svc.send("acme", grooming_story(Events()))
    relay, clock = svc.ctx.relay, svc.clock
    assert relay.run_once().retrying == 1
    assert relay.run_once().retrying == 0 and len(receiver.requests) == 1  # not due yet
    clock.advance(seconds=11)  # first back-off: 5-10 s
    assert relay.run_once().retrying == 1
    clock.advance(seconds=21)  # second: 10-20 s
    assert relay.run_once().delivered == 1
    ids = {r.headers["Safeguarding-Id"] for r in receiver.requests}
    assert len(ids) == 1 and [r.headers["Safeguarding-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert len({r.content for r in receiver.requests}) == 1  # the same bytes every time

    receiver.default = 503
    ev = Events("z")
    svc.send(
        "acme",
        [
            ev.account("x1"),
            ev.account("x2", "13_15"),
            ev.msg("x1", "x2", text="secret alone meet", conversation="cz"),
        ],
    )
    for _ in range(3):
        relay.run_once()
        clock.advance(hours=1)
    counts = svc.ctx.alerts.outbox_counts()
    assert counts["pending"] == 0 and counts["failed"] >= 1
    rows = svc.ctx.alerts.outbox_rows("acme/")
    assert rows[-1]["attempts"] == 3 and "503" in rows[-1]["last_error"] and rows[-1]["failed_at"]
    assert "safeguarding_outbox_items" in svc.client.get("/metrics").text


def test_each_platform_gets_its_own_alerts_and_none_without_a_webhook(
    hooked: tuple[Service, Receiver, Callable[[str], str]],
) -> None:
    svc, receiver, hook = hooked
    svc.add_tenant("zeta")
    svc.add_tenant("quiet")
    secrets = {"acme": hook("acme"), "zeta": hook("zeta")}
    for tenant in ("acme", "zeta", "quiet"):
        svc.send(tenant, grooming_story(Events()))
    result = svc.ctx.relay.run_once()
    assert result.delivered == 3  # one each; quiet's is settled without a request
    by_host = {r.url.host: r for r in receiver.requests}
    assert set(by_host) == {"acme.test", "zeta.test"}
    for tenant, req in (("acme", by_host["acme.test"]), ("zeta", by_host["zeta.test"])):
        assert json.loads(req.content)["tenant"] == tenant
        ts, sig = req.headers["Safeguarding-Timestamp"], req.headers["Safeguarding-Signature"]
        assert verify_signature(secrets[tenant], req.content, ts, sig)
        other = secrets["zeta" if tenant == "acme" else "acme"]
        assert not verify_signature(other, req.content, ts, sig)
    assert svc.client.get("/v1/alerts", headers=svc.key_headers("quiet")).json()["alerts"]


def test_a_moderator_action_is_one_outbox_item_delivered_signed(
    hooked: tuple[Service, Receiver, Callable[[str], str]],
) -> None:
    svc, receiver, hook = hooked
    secret = hook("acme")
    svc.send("acme", grooming_story(Events()))
    assert svc.ctx.relay.run_once().delivered == 1  # the alert
    mod = svc.add_person("acme", "moderator", "mod")
    headers = {"Authorization": mod["Authorization"]}
    url = "/console/cases/e8:0/actions"
    before = len(svc.ctx.alerts.outbox_rows("acme/"))
    bad = svc.client.post(
        url, json={"action": "suspend", "reason": "x", "reason_code": "nope"}, headers=headers
    )
    assert bad.status_code == 422 and len(svc.ctx.alerts.outbox_rows("acme/")) == before  # one transaction
    body = {"action": "suspend", "reason": "asked k1 to keep secrets", "reason_code": "grooming"}
    r = svc.client.post(url, json=body, headers=headers)
    assert r.status_code == 200, r.text
    action_id = r.json()["action_id"]
    rows = svc.ctx.alerts.outbox_rows("acme/")[before:]
    assert [(x["key"], x["kind"]) for x in rows] == [(f"acme/action-{action_id}", "action")]
    assert svc.ctx.relay.run_once().delivered == 1 and svc.ctx.relay.run_once().delivered == 0
    req = receiver.requests[-1]
    assert verify_signature(
        secret, req.content, req.headers["Safeguarding-Timestamp"], req.headers["Safeguarding-Signature"]
    )
    assert req.headers["Safeguarding-Id"] == req.headers["Idempotency-Key"] == f"action-{action_id}"
    doc = json.loads(req.content)
    assert doc["type"] == "action" and doc["id"] == f"action-{action_id}" and doc["tenant"] == "acme"
    assert doc["data"] == {
        "action_id": action_id, "kind": "suspend", "subject": "a1", "conversation": "c1", "alert": "e8:0",
        "moderator": mod["id"], "reason_code": "grooming", "at": svc.clock.now().isoformat(),
        "about_action": None, "overturns": None,
    }  # fmt: skip
    assert b"keep secrets" not in req.content and b"@" not in req.content  # no free text, no email

    # an appeal and its decision reach the platform too; the upheld one names the action it overturns
    r = svc.client.post("/console/cases/e8:0/appeals", json={"action_id": action_id, "reason": "not me"},
                        headers=headers)  # fmt: skip
    appeal = r.json()["action_id"]
    decision = {"action_id": appeal, "decision": "upheld", "reason": "shared device"}
    r = svc.client.post("/console/cases/e8:0/appeals", json=decision, headers=headers)
    assert r.status_code == 200
    assert svc.ctx.relay.run_once().delivered == 2
    sent = [json.loads(x.content)["data"] for x in receiver.requests[-2:]]
    assert [(d["kind"], d["about_action"], d["overturns"], d["reason_code"]) for d in sent] == [
        ("appeal", action_id, None, "appeal"),
        ("appeal_upheld", appeal, action_id, "appeal"),
    ]
