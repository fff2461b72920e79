"""The console's case work beyond single actions: assigning cases, prior alerts on both participants,
and moderators' decisions exported as labelled training data (``safeguarding feedback export``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from service_helpers import Events, Service, grooming_story

from safeguarding.cli import main
from safeguarding.detection.data.feedback import FEEDBACK_SOURCE, load_feedback
from safeguarding.evidence.sql import iter_entries, verify_log
from safeguarding.store.feedback import export_feedback

ALERT = "e8:0"  # the keyword detector flags c1 (a1 grooming k1) at message e8


@pytest.fixture
def acme(service: Service) -> Service:
    r = service.send("acme", grooming_story(Events()))
    assert r.status_code == 200, r.text
    for name in ("mod", "mod2"):
        service.add_person("acme", "moderator", name)
    return service


def H(svc: Service, who: str) -> dict[str, str]:
    return {"Authorization": svc.people[who]["Authorization"]}


def post(svc: Service, who: str, url: str, **body: Any) -> Any:
    return svc.client.post(url, json=body, headers=H(svc, who))


def test_assign_hands_a_case_to_a_moderator_of_the_same_platform(acme: Service) -> None:
    acme.add_tenant("other")
    outsider = acme.add_person("other", "moderator", "om")["id"]
    parent = acme.add_person("acme", "parent", "pa")["id"]
    boss = acme.add_person("acme", "admin", "boss")
    url = f"/console/cases/{ALERT}/assign"
    for assignee, status, words in [
        (outsider, 422, "platform"),  # a moderator of another platform
        (parent, 422, "not a moderator"),
        ("nobody", 422, "no moderator"),
        ("", 422, "assignee"),
    ]:
        r = post(acme, "mod", url, assignee=assignee)
        assert r.status_code == status and words in r.json()["detail"], (assignee, r.text)
    mod2 = acme.people["mod2"]["id"]
    r = post(acme, "mod", url, assignee=mod2, reason="mod2 speaks the language")
    assert r.status_code == 200, r.text
    seq = r.json()["evidence_seq"]
    with acme.ctx.sql.engine.connect() as conn:
        entry = next(e for e in iter_entries(conn, "acme") if e.seq == seq)
        assert verify_log(conn, "acme").ok
    data = entry.data()
    assert entry.kind == "action" and isinstance(data, dict) and data["action"] == "assign"
    assert data["details"] == {"assignee": f"moderator:{mod2}", "previous": None}
    assert data["actor"] == f"moderator:{acme.people['mod']['id']}" and data["ref"] == ALERT
    assert ">mod2<" in acme.client.get("/console", headers=H(acme, "mod")).text  # the queue shows who
    # the case is mod2's now: mod can neither act on it nor hand it on; mod2 and an admin can
    assert post(acme, "mod", f"/console/cases/{ALERT}/actions", action="warn", reason="x").status_code == 409
    assert post(acme, "mod", url, assignee=acme.people["mod"]["id"]).status_code == 409
    assert post(acme, "boss", url, assignee=acme.people["mod"]["id"]).status_code == 200
    assert boss and post(acme, "mod", f"/console/cases/{ALERT}/claim", release="1").status_code == 200
    # only cases still being worked are handed on
    assert (
        post(acme, "mod", f"/console/cases/{ALERT}/actions", action="dismiss", reason="ok").status_code == 200
    )
    r = post(acme, "mod", url, assignee=mod2)
    assert r.status_code == 409 and "dismissed" in r.json()["detail"]


def test_the_case_page_offers_assignment_to_the_platforms_moderators(acme: Service) -> None:
    html = acme.client.get(f"/console/cases/{ALERT}", headers=H(acme, "mod")).text
    assert 'action="/console/cases/e8%3A0/assign"' in html
    assert f'value="{acme.people["mod2"]["id"]}">mod2<' in html and 'name="reason_code"' in html


def test_prior_alerts_are_counted_and_listed_for_both_participants(acme: Service) -> None:
    ev = Events("p")
    r = acme.send(
        "acme",
        [
            ev.msg("a1", "k2", text="our secret, are you alone, meet me", conversation="c7"),  # a1 again
            ev.msg("k1", "a1", text="secret alone meet gift", conversation="c8"),  # about k1
        ],
    )
    assert r.status_code == 200, r.text
    alerts = acme.client.get("/v1/alerts", headers=acme.key_headers("acme")).json()["alerts"]
    about = {a["subject"] for a in alerts if a["id"] != ALERT}
    assert {"a1", "k1"} <= about
    html = acme.client.get(f"/console/cases/{ALERT}", headers=H(acme, "mod")).text
    for account in ("a1", "k1"):
        n = sum(1 for a in alerts if a["subject"] == account and a["id"] != ALERT)
        assert f'data-account="{account}">{n}<' in html, account
    others = {a["id"] for a in alerts if a["subject"] in ("a1", "k1") and a["id"] != ALERT}
    for key in others:  # each links to its own case
        assert 'href="/console/cases/{}"'.format(key.replace(":", "%3A")) in html, key
    assert "after this alert" in html


def test_feedback_export_labels_dismissals_benign_and_confirmed_grooming(
    acme: Service, db_url: str, tmp_path: Path
) -> None:
    ev = Events("f")
    for adult, child, conversation in (("a2", "k2", "c3"), ("a3", "k1", "c4")):
        r = acme.send(
            "acme",
            [
                ev.account(adult),
                ev.pair("follow", child, adult),
                ev.msg(adult, child, text="hi", conversation=conversation),
                ev.msg(adult, child, text="keep it secret, are you alone, meet", conversation=conversation),
            ],
        )
        assert r.status_code == 200, r.text
    keys = {a["conversation"]: a["id"] for a in acme.client.get(
        "/v1/alerts?kind=grooming", headers=acme.key_headers("acme")).json()["alerts"]}  # fmt: skip
    act = f"/console/cases/{ALERT}/actions"
    assert post(acme, "mod", act, action="dismiss", reason="siblings joking").status_code == 200
    esc = f"/console/cases/{keys['c3']}/actions"
    assert post(acme, "mod", esc, action="escalate_to_referral", reason="meeting").status_code == 200
    sus = post(acme, "mod", f"/console/cases/{keys['c4']}/actions", action="suspend", reason="x")
    appeal = post(acme, "mod", f"/console/cases/{keys['c4']}/appeals", action_id=sus.json()["action_id"],
                  reason="hacked").json()["action_id"]  # fmt: skip
    r = post(acme, "mod2", f"/console/cases/{keys['c4']}/appeals", action_id=appeal, decision="upheld",
             reason="account was hacked")  # fmt: skip
    assert r.status_code == 200  # overturned: c4 is no label either way
    out = tmp_path / "feedback.jsonl"
    with acme.ctx.sql.engine.connect() as conn:
        counts = export_feedback(conn, out, tenant="acme")
    assert counts == {"benign": 1, "grooming": 1, "skipped": 0}
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["id"], x["label"], x["suspect"]) for x in lines] == [
        ("acme/c1", "benign", "a1"), ("acme/c3", "grooming", "a2")
    ]  # fmt: skip
    assert lines[0]["messages"][0] == {
        "author": "a1", "text": "hey how was school", "time": lines[0]["messages"][0]["time"]
    }  # fmt: skip
    recs = list(load_feedback(out))  # what `train --feedback` reads
    assert [(r.source, r.label, sorted(r.positive_authors)) for r in recs] == [
        (FEEDBACK_SOURCE, 0, []), (FEEDBACK_SOURCE, 1, ["a2"])
    ]  # fmt: skip
    # the command line writes the same file and prints counts only
    cli_out = tmp_path / "cli.jsonl"
    res = CliRunner().invoke(
        main, ["feedback", "export", "--db", db_url, "--tenant", "acme", "-o", str(cli_out)]
    )
    assert res.exit_code == 0, res.output
    assert "2 conversations" in res.stdout and "1 benign, 1 grooming" in res.stdout
    assert "how was school" not in res.stdout and cli_out.read_text() == out.read_text()
