"""Parents' weekly summary: in the app and by email through a real (local) SMTP server, once a week."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from service_helpers import Events, KeywordDetector, auth, grooming_story, running, settings_for

from safeguarding.engine import FrozenClock
from safeguarding.service import family as fam


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def test_weekly_summary_in_app_and_by_email_once(
    db_url: str, frozen_clock: FrozenClock, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    settings = settings_for(db_url, smtp_host="127.0.0.1", smtp_port=port, smtp_from="noreply@acme.test")
    with running(settings, frozen_clock, KeywordDetector()) as svc:
        svc.add_tenant("acme")
        ev = Events()
        story = grooming_story(ev)
        story[0]["display_name"] = "Coach Al"
        story += [
            ev.pair("follow", "k2", "a1"),
            ev.msg("a1", "k2", text="see you at training", conversation="c2"),
        ]
        assert svc.send("acme", story).status_code == 200
        parent = svc.add_person("acme", "parent", "pat")
        key = svc.key_headers("acme")
        r = svc.client.post(
            "/v1/tenants/acme/parent-links", json={"parent": parent["id"], "child": "k2"}, headers=key
        )
        assert r.status_code == 204
        in_app = svc.client.get("/v1/family/summary", headers=auth(parent)).json()
        assert "new adult: Coach Al" in in_app["text"] and "see you at training" not in in_app["text"]

        assert fam.send_summaries(svc.ctx) == {"sent": 1, "already_sent": 0, "opted_out": 0}
        assert fam.send_summaries(svc.ctx) == {"sent": 0, "already_sent": 1, "opted_out": 0}
        [mail] = sink.messages
        assert mail["To"] == "pat@acme.example.test" and mail["From"] == "noreply@acme.test"
        body = mail.get_payload(decode=True).decode()
        assert body == in_app["text"].replace("\n", "\r\n") or body.replace("\r\n", "\n") == in_app["text"]
        assert "see you at training" not in body


def test_a_parent_can_turn_the_weekly_email_off(
    db_url: str, frozen_clock: FrozenClock, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    with running(settings_for(db_url, smtp_host="127.0.0.1", smtp_port=port), frozen_clock) as svc:
        svc.add_tenant("acme")
        assert svc.send("acme", grooming_story(Events())).status_code == 200
        parent = svc.add_person("acme", "parent", "pat")
        key = svc.key_headers("acme")
        r = svc.client.post(
            "/v1/tenants/acme/parent-links", json={"parent": parent["id"], "child": "k2"}, headers=key
        )
        assert r.status_code == 204
        assert svc.client.get("/v1/family", headers=auth(parent)).json()["weekly_email"] is True
        # the page's form: a hidden "0" then the checkbox's "1" when ticked; unticked means off
        r = svc.client.post(
            "/family/preferences", data={"weekly_email": "0"}, headers=auth(parent), follow_redirects=False
        )
        assert r.status_code == 303
        assert svc.client.get("/v1/family", headers=auth(parent)).json()["weekly_email"] is False
        assert (
            fam.send_summaries(svc.ctx) == {"sent": 0, "already_sent": 0, "opted_out": 1}
            and not sink.messages
        )
        ticked = {"weekly_email": ["0", "1"]}  # what a browser sends for the ticked box
        r = svc.client.post("/family/preferences", data=ticked, headers=auth(parent), follow_redirects=False)
        assert r.status_code == 303
        assert svc.client.get("/v1/family", headers=auth(parent)).json()["weekly_email"] is True
        r = svc.client.put("/v1/family/preferences", json={"weekly_email": True}, headers=auth(parent))
        assert r.status_code == 200
        assert fam.send_summaries(svc.ctx)["sent"] == 1 and len(sink.messages) == 1
