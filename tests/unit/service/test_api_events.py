"""POST /v1/events: one or a batch, per-event outcomes, idempotency, and 4xx (never 500) for bad input."""

from __future__ import annotations

import json

from service_helpers import Events, Service, grooming_story


def test_batch_gives_one_result_per_event_in_order(service: Service) -> None:
    ev = Events()
    events = grooming_story(ev)
    r = service.send("acme", events)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["event"] for x in body["results"]] == [e["id"] for e in events]
    assert (body["processed"], body["duplicates"], body["rejected"]) == (len(events), 0, 0)
    grooming = [a for x in body["results"] for a in x["alerts"] if a["kind"] == "grooming"]
    assert len(grooming) == 1 and grooming[0]["subject"] == "a1" and grooming[0]["conversation"] == "c1"
    assert grooming[0]["stages"] == ["secrecy_isolation"] and grooming[0]["reasons"][0]["code"] == "keywords"
    denied = body["results"][-1]  # a1 -> k2: an adult to an under-13 who does not follow them
    assert denied["decision"] == "deny" and denied["rule"] and denied["reasons"][0]["message"]


def test_single_event_and_idempotency(service: Service) -> None:
    ev = Events()
    first = ev.account("a1")
    r1 = service.send("acme", first)
    assert r1.status_code == 200 and r1.json()["status"] == "processed"
    r2 = service.send("acme", first)
    assert r2.status_code == 200 and r2.json()["status"] == "duplicate"
    assert {k: v for k, v in r2.json().items() if k != "status"} == {
        k: v for k, v in r1.json().items() if k != "status"
    }
    changed = {**first, "age_band": "13_15"}
    r3 = service.send("acme", changed)
    assert r3.status_code == 422 and "already used for a different event" in r3.json()["detail"]


def test_resending_a_batch_counts_nothing_twice(service: Service) -> None:
    events = grooming_story(Events())
    service.send("acme", events)
    again = service.send("acme", events).json()
    assert again["duplicates"] == len(events) and again["processed"] == 0
    alerts = service.client.get("/v1/alerts", headers=service.key_headers("acme")).json()["alerts"]
    assert len([a for a in alerts if a["kind"] == "grooming"]) == 1


def test_a_bad_event_in_a_batch_is_rejected_with_its_reason_while_others_proceed(service: Service) -> None:
    ev = Events()
    batch = [
        ev.account("a1"),
        {"id": "b1", "type": "teleport", "at": "2026-01-05T18:00:00Z"},
        ev.msg("a1", "nobody"),
        {"id": "b3", "type": "account", "account": "x", "at": "2026-01-05T18:00:00"},
        {"id": "b4", "type": "follow", "actor": "a1", "target": "a1", "at": "2026-01-05T18:00:00Z"},
        "not an object",
        {"id": "b6", "type": "account", "account": "y", "age_band": "adult", "at": "2026-01-05T18:00:00Z",
         "bogus": 1},
        {"id": "b7", "type": "message", "conversation": "c", "sender": "a1", "recipients": "k1",
         "at": "2026-01-05T18:00:00Z"},
        ev.account("k1", "13_15"),
    ]  # fmt: skip
    r = service.send("acme", batch)
    assert r.status_code == 200
    res = r.json()["results"]
    status = [x["status"] for x in res]
    assert status == ["processed"] + ["rejected"] * 7 + ["processed"]
    errors = [x.get("error", "") for x in res]
    assert "unknown event type 'teleport'" in errors[1]
    assert "unknown account 'nobody'" in errors[2]
    assert "time has no zone" in errors[3]
    assert "same account" in errors[4]
    assert errors[5].startswith("events[5]") and "JSON object" in errors[5]
    assert "unknown field 'bogus'" in errors[6]
    assert "recipients" in errors[7]
    assert all(e.startswith(f"events[{i}]") for i, e in enumerate(errors) if e)


def test_bad_bodies_are_4xx_with_a_reason(service: Service) -> None:
    c, h = service.client, service.key_headers("acme")
    cases = [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not"),
        (b"42", 422, "event object"),
        (b'{"events": "x"}', 422, "array"),
        (b'{"events": []}', 422, "no events"),
        (b'{"events": [], "more": 1}', 422, "unknown field 'more'"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nested"),
        (b'{"id": "x", "type": "message"}', 422, "missing field"),
    ]
    for body, status, words in cases:
        r = c.post("/v1/events", content=body, headers={**h, "Content-Type": "application/json"})
        assert r.status_code == status, (body[:30], r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert words in r.json()["detail"], r.json()


def test_body_limit_and_batch_limit(db_url: str, frozen_clock: object) -> None:
    from service_helpers import KeywordDetector, running, settings_for

    settings = settings_for(db_url, max_body_bytes=4096, max_batch_events=3)
    with running(settings, frozen_clock, KeywordDetector()) as svc:  # type: ignore[arg-type]
        svc.add_tenant("acme")
        h = {**svc.key_headers("acme"), "Content-Type": "application/json"}
        big = json.dumps({"events": [{"id": "x" * 5000}]}).encode()
        r = svc.client.post("/v1/events", content=big, headers=h)
        assert r.status_code == 413 and r.json()["limit_bytes"] == 4096

        def chunks() -> object:  # no Content-Length: the limit applies while streaming
            yield b'{"events": ['
            for _ in range(20):
                yield b'"' + b"y" * 500 + b'",'
            yield b'"z"]}'

        r = svc.client.post("/v1/events", content=chunks(), headers=h)  # type: ignore[arg-type]
        assert r.status_code == 413
        ev = Events()
        r = svc.send("acme", [ev.account(f"a{i}") for i in range(4)])
        assert r.status_code == 422 and "at most 3 events" in r.json()["detail"]


def test_unknown_fields_can_be_accepted_by_setting(db_url: str, frozen_clock: object) -> None:
    from service_helpers import running, settings_for

    with running(settings_for(db_url, accept_unknown_event_fields=True), frozen_clock) as svc:  # type: ignore[arg-type]
        svc.add_tenant("acme")
        r = svc.send("acme", {**Events().account("a1"), "display_name": "Ann"})
        assert r.status_code == 200 and r.json()["status"] == "processed"


def test_group_message_reports_each_recipient(service: Service) -> None:
    ev = Events()
    events = [ev.account("a1"), ev.account("a2"), ev.account("k1", "13_15")]
    events.append(ev.msg("a1", "a2", "k1", text="hello both"))
    res = service.send("acme", events).json()["results"][-1]
    assert [r["recipient"] for r in res["recipients"]] == ["a2", "k1"]
    assert res["decision"] == "deny" and res["recipients"][0]["decision"] == "allow"
