"""The moderator console: queue, case, actions, appeals, referral export, and the ingest wiring behind it."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from importlib.resources import files as resource_files
from pathlib import Path
from typing import Any

import pytest
from service_helpers import PASSWORD, Events, Service, grooming_story

from safeguarding.evidence import verify_package
from safeguarding.evidence.sql import holds, iter_entries, verify_log

REPORTER = {
    "SAFEGUARDING_REPORTER_COMPANY": "Acme Ltd",
    "SAFEGUARDING_REPORTER_FIRST_NAME": "Sam",
    "SAFEGUARDING_REPORTER_LAST_NAME": "Lee",
    "SAFEGUARDING_REPORTER_EMAIL": "safety@acme.example",
}
ALERT = "e8:0"  # the keyword detector flags c1 at message e8 ("meet", "gift")


@pytest.fixture
def acme(service: Service, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    for k, v in REPORTER.items():
        monkeypatch.setenv(k, v)
    r = service.send("acme", grooming_story(Events()))
    assert r.status_code == 200, r.text
    service.add_person("acme", "moderator", "mod")
    service.add_person("acme", "moderator", "mod2")
    yield service


def H(svc: Service, who: str) -> dict[str, str]:
    return {"Authorization": svc.people[who]["Authorization"]}


def post(svc: Service, who: str, url: str, **body: Any) -> Any:
    return svc.client.post(url, json=body, headers=H(svc, who))


def test_ingest_seals_alerts_decisions_and_flagged_messages(acme: Service) -> None:
    with acme.ctx.sql.engine.connect() as conn:
        entries = list(iter_entries(conn, "acme"))
        assert verify_log(conn, "acme").ok
    kinds = [e.kind for e in entries]
    assert "alert" in kinds and "message" in kinds
    alert = next(e for e in entries if e.kind == "alert").data()
    assert isinstance(alert, dict) and alert["ref"] == ALERT and alert["conversation"] == "c1"
    texts = [e.data()["text"] for e in entries if e.kind == "message"]  # type: ignore[index]
    assert texts == [
        "hey how was school",
        "ok",
        "this is our secret, are you alone",
        "we should meet, i have a gift",
    ]
    # later messages of a flagged conversation are preserved too; unflagged conversations are not
    acme.send("acme", [Events("l").msg("a1", "k1", text="answer me")])
    with acme.ctx.sql.engine.connect() as conn:
        later = [e.data() for e in iter_entries(conn, "acme") if e.kind == "message"]
    assert later[-1]["text"] == "answer me"  # type: ignore[index]
    assert all(m["conversation"] == "c1" for m in later)  # type: ignore[index]


def test_queue_orders_by_risk_then_youngest_child_and_counts(acme: Service) -> None:
    ev = Events("q")
    acme.send(
        "acme",
        [
            ev.account("a2"),
            ev.pair("follow", "k2", "a2"),
            ev.msg("a2", "k2", text="keep it secret, are you alone", conversation="c3"),
            ev.msg("a2", "k2", text="meet me, a gift", conversation="c3"),
        ],
    )
    r = acme.client.get("/console", headers=H(acme, "mod"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    # equal risk 0.8: the under-13 child's case (c3, k2) comes before the 13-15 child's (c1, k1)
    assert html.index("q4:0") < html.index(ALERT)
    assert "under_13" in html and "13_15" in html
    r = acme.client.get("/console?band=13_15", headers=H(acme, "mod"))
    assert ALERT in r.text and "q4:0" not in r.text
    assert "under_13 (1)" in r.text  # counts of the other values stay visible
    r = acme.client.get("/console?status=dismissed", headers=H(acme, "mod"))
    assert ALERT not in r.text


def test_case_view_timeline_highlight_and_participants(acme: Service) -> None:
    r = acme.client.get(f"/console/cases/{ALERT}", headers=H(acme, "mod"))
    assert r.status_code == 200, r.text
    html = r.text
    assert html.count("<details>") >= 4  # every message text collapsed until opened
    assert "this is our secret, are you alone" in html
    assert html.count('class="msg suspect driving') == 2  # a1's two keyword messages drove the alert
    assert "secrecy_isolation" in html and "alert raised here" in html
    assert "a1" in html and "k1" in html and "13_15" in html and "self_declared" in html
    assert acme.client.get("/console/cases/nope:0", headers=H(acme, "mod")).status_code == 404


def test_claim_keeps_two_moderators_off_one_case(acme: Service) -> None:
    assert post(acme, "mod", f"/console/cases/{ALERT}/claim").status_code == 200
    r = post(acme, "mod2", f"/console/cases/{ALERT}/actions", action="dismiss", reason="looks fine")
    assert r.status_code == 409 and "claimed by" in r.json()["detail"]
    assert post(acme, "mod2", f"/console/cases/{ALERT}/claim").status_code == 409
    assert post(acme, "mod", f"/console/cases/{ALERT}/claim", release="1").status_code == 200
    assert post(acme, "mod2", f"/console/cases/{ALERT}/claim").status_code == 200
    assert ">mod2<" in acme.client.get("/console", headers=H(acme, "mod")).text  # the queue shows who has it


def test_actions_are_sealed_with_who_when_why(acme: Service) -> None:
    r = post(acme, "mod", f"/console/cases/{ALERT}/actions", action="dismiss", reason="")
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = post(acme, "mod", f"/console/cases/{ALERT}/actions", action="ban_forever", reason="x")
    assert r.status_code == 422
    r = post(
        acme, "mod", f"/console/cases/{ALERT}/actions", action="dismiss", reason="banter between friends"
    )
    assert r.status_code == 200, r.text
    seq = r.json()["evidence_seq"]
    with acme.ctx.sql.engine.connect() as conn:
        entry = next(e for e in iter_entries(conn, "acme") if e.seq == seq)
        from safeguarding.store.moderation import feedback

        labels = feedback(conn, "acme")
    data = entry.data()
    assert entry.kind == "action" and isinstance(data, dict)
    assert data["action"] == "dismiss" and data["reason"] == "banter between friends"
    assert data["actor"].startswith("moderator:") and data["ref"] == ALERT
    assert data["details"]["label"] == "not_harmful"  # type: ignore[index,call-overload]
    assert labels == [
        {"conversation": "c1", "alert": ALERT, "label": 0, "reason": "banter between friends",
         "at": entry.at.isoformat()}
    ]  # fmt: skip
    for action in ("warn", "restrict_contact_with_minors", "suspend"):
        assert (
            post(acme, "mod", f"/console/cases/{ALERT}/actions", action=action, reason="r").status_code == 200
        )
    assert "suspend" in acme.client.get(f"/console/cases/{ALERT}", headers=H(acme, "mod")).text


def test_escalate_export_download_verify_and_schema(acme: Service, tmp_path: Path) -> None:
    r = post(acme, "mod", f"/console/cases/{ALERT}/export")
    assert r.status_code == 409  # escalate first
    r = post(acme, "mod", f"/console/cases/{ALERT}/actions", action="escalate_to_referral", reason="meeting")
    assert r.status_code == 200
    with acme.ctx.sql.engine.connect() as conn:
        held = {h.case for h in holds(conn, "acme") if h.released_at is None}
    assert held == {"c1", "a1"}
    r = post(acme, "mod", f"/console/cases/{ALERT}/export", imminent_danger="they plan to meet tomorrow")
    assert r.status_code == 200, r.text
    url = r.json()["download"]
    z = acme.client.get(url, headers=H(acme, "mod"))
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    path = tmp_path / "package.zip"
    path.write_bytes(z.content)
    assert verify_package(path).ok
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        report = json.loads(zf.read("report.json"))
    schema = json.loads(resource_files("safeguarding.evidence").joinpath("referral.schema.json").read_text())
    import jsonschema

    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["priority"]["imminent_danger"] is True
    assert [m["action"] for m in report["moderation"]] == ["escalate_to_referral"]
    assert acme.client.get(url, headers=H(acme, "mod2")).status_code == 200
    assert acme.client.get("/console/referrals/nope", headers=H(acme, "mod")).status_code == 404
    with acme.ctx.sql.engine.connect() as conn:
        assert verify_log(conn, "acme").ok


def test_appeals_recorded_and_decided(acme: Service) -> None:
    r = post(acme, "mod", f"/console/cases/{ALERT}/actions", action="suspend", reason="grooming")
    sid = r.json()["action_id"]
    assert (
        post(acme, "mod", f"/console/cases/{ALERT}/appeals", action_id=sid + 99, reason="x").status_code
        == 404
    )
    r = post(acme, "mod", f"/console/cases/{ALERT}/appeals", action_id=sid, reason="it was my brother")
    assert r.status_code == 200
    appeal = r.json()["action_id"]
    r = post(
        acme, "mod2", f"/console/cases/{ALERT}/appeals", action_id=appeal, decision="upheld", reason="ok"
    )
    assert r.status_code == 200
    r = post(
        acme, "mod2", f"/console/cases/{ALERT}/appeals", action_id=appeal, decision="rejected", reason="x"
    )
    assert r.status_code == 409  # already decided
    stats = acme.client.get("/v1/stats", headers=H(acme, "mod")).json()["totals"]
    assert stats["appeals"] == 1 and stats["overturns"] == 1
    assert "overturned" in acme.client.get(f"/console/cases/{ALERT}", headers=H(acme, "mod")).text


def test_browser_sign_in_cookie_and_csrf(acme: Service) -> None:
    c = acme.client
    c.cookies.clear()
    r = c.get("/console", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert c.get("/console").status_code == 401  # not a browser: the API's answer
    assert "Sign in" in c.get("/console/login").text
    bad = c.post("/console/login", data={"email": "mod@acme.example.test", "password": "nope"})
    assert bad.status_code == 401 and "Wrong email" in bad.text
    r = c.post(
        "/console/login",
        data={"email": "mod@acme.example.test", "password": PASSWORD, "next": "/console/stats"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/stats"
    page = c.get(f"/console/cases/{ALERT}", headers={"Accept": "text/html"}).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post(f"/console/cases/{ALERT}/claim", data={}, headers={"Accept": "text/html"})
    assert r.status_code == 403  # no CSRF token
    r = c.post(
        f"/console/cases/{ALERT}/actions",
        data={"csrf_token": csrf, "action": "warn", "reason": ""},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "Not+done" in r.headers["location"]  # shown on the page, not a 422
    r = c.post(
        f"/console/cases/{ALERT}/actions",
        data={"csrf_token": csrf, "action": "warn", "reason": "first warning"},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 200 and "Recorded: Warn the account" in r.text
    assert c.get("/console/static/console.css").headers["content-type"].startswith("text/css")
    r = c.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    c.cookies.clear()
    parent = acme.add_person("acme", "parent", "pa")
    c.cookies.clear()
    r = c.post("/console/login", data={"email": "pa@acme.example.test", "password": PASSWORD})
    assert r.status_code == 403 and parent
