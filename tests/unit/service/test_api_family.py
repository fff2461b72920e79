"""The family API: linking by invitation, the parent's view (who, never what), controls and approvals,
the child's view with notices, reports that reach the moderators' queue, and the escalation rule."""

from __future__ import annotations

import json
from typing import Any

from service_helpers import Events, Service, auth, grooming_story

SECRET_WORDS = ("hey how was school", "our secret", "are you alone", "we should meet", "gift", "hi there")


def _family(service: Service) -> tuple[Events, dict[str, str], dict[str, str]]:
    """acme with the grooming story, a parent linked to k2 (under 13, direct) and to k1 (invitation)."""
    ev = Events()
    story = grooming_story(ev)
    story[0]["display_name"] = "Coach Al"
    r = service.send("acme", story)
    assert r.status_code == 200, r.text
    parent = service.add_person("acme", "parent", "pat")
    key = service.key_headers("acme")
    r = service.client.post(
        "/v1/tenants/acme/parent-links", json={"parent": parent["id"], "child": "k2"}, headers=key
    )
    assert r.status_code == 204, r.text
    r = service.client.post(
        "/v1/tenants/acme/parent-links", json={"parent": parent["id"], "child": "k1"}, headers=key
    )
    assert r.status_code == 409 and "invitation" in r.json()["detail"]
    body = {"parent": parent["id"], "child": "k1"}
    r = service.client.post("/v1/tenants/acme/parent-invitations", json=body, headers=key)
    assert r.status_code == 201, r.text
    inv = r.json()["id"]
    view = service.client.get("/v1/children/k1", headers=key).json()
    assert view["monitoring"]["on"] is False and [i["id"] for i in view["invitations"]] == [inv]
    r = service.client.post(f"/v1/children/k1/invitations/{inv}", json={"accept": True}, headers=key)
    assert r.status_code == 200, r.text
    return ev, parent, key


def _no_text(doc: Any) -> None:
    blob = json.dumps(doc).lower()
    for words in SECRET_WORDS:
        assert words not in blob, f"message text {words!r} leaked into a parent response"


def test_parent_sees_who_not_what(service: Service) -> None:
    _, parent, _ = _family(service)
    overview = service.client.get("/v1/family", headers=auth(parent))
    assert overview.status_code == 200, overview.text
    kids = {k["account"]: k for k in overview.json()["children"]}
    assert set(kids) == {"k1", "k2"}
    k1 = kids["k1"]
    [a1] = [c for c in k1["contacts"] if c["account"] == "a1"]
    assert a1["display_name"] == "Coach Al" and a1["adult"] and a1["new"]
    assert a1["child_follows"] and not a1["follows_child"] and a1["messages_per_week"] == 4
    assert a1["open_alerts"] >= 1
    [alert] = [a for a in k1["alerts"] if a["kind"] == "grooming"]
    assert alert["headline"] and alert["next_steps"] and "asking to keep things secret" in alert["signs"]
    assert "new_adult_contact" in alert["child_saw"]
    _no_text(overview.json())
    _no_text(service.client.get("/v1/family/children/k1", headers=auth(parent)).json())


def test_parent_reaches_only_linked_children(service: Service) -> None:
    _, parent, key = _family(service)
    service.send("acme", [Events("x").account("k3", "13_15")])
    assert service.client.get("/v1/family/children/k3", headers=auth(parent)).status_code == 403
    r = service.client.put(
        "/v1/family/children/k3/controls", json={"approval_required": True}, headers=auth(parent)
    )
    assert r.status_code == 403
    assert service.client.get("/v1/family", headers=key).status_code == 403  # a platform key is not a parent
    r = service.client.delete("/v1/family/children/k1/link", headers=auth(parent))
    assert r.status_code == 204
    assert service.client.get("/v1/family/children/k1", headers=auth(parent)).status_code == 403
    assert service.client.get("/v1/children/k1", headers=key).json()["monitoring"]["on"] is False


def test_controls_and_approvals(service: Service) -> None:
    ev, parent, _ = _family(service)
    r = service.client.put(
        "/v1/family/children/k2/controls", json={"approval_required": True}, headers=auth(parent)
    )
    assert r.status_code == 200 and r.json() == {"approval_required": True, "pause_non_connections": False}
    out = service.send(
        "acme", [ev.account("a2"), ev.pair("follow", "k2", "a2"), ev.msg("a2", "k2", conversation="c9")]
    )
    last = out.json()["results"][-1]
    assert (last["decision"], last["rule"]) == ("deny", "family.new_adult.needs_approval")
    assert last["awaiting_parent_approval"] == ["k2"]
    child = service.client.get("/v1/family/children/k2", headers=auth(parent)).json()
    assert {"adult": "a2", "name": "a2", "status": "pending", "age_band": "adult"} in child["approvals"]
    r = service.client.post(
        "/v1/family/children/k2/approvals/a2", json={"approve": True}, headers=auth(parent)
    )
    assert r.status_code == 200
    again = service.send("acme", ev.msg("a2", "k2", conversation="c9")).json()
    assert again["decision"] == "allow_with_notice"
    assert again["notices"] == [{"child": "k2", "kind": "new_adult_contact", "about": "a2"}]
    service.client.put("/v1/tenants/acme/family-settings", json={"allow_pause": False}, headers=service.admin)
    r = service.client.put(
        "/v1/family/children/k2/controls", json={"pause_non_connections": True}, headers=auth(parent)
    )
    assert r.status_code == 409


def test_child_view_notices_and_report_reach_the_queue(service: Service) -> None:
    _, parent, key = _family(service)
    r = service.client.post("/v1/children/k1/page-links", json={"minutes": 30}, headers=key)
    assert r.status_code == 201, r.text
    child = {"Authorization": f"Bearer {r.json()['token']}"}
    view = service.client.get("/v1/children/k1", headers=child).json()
    assert (
        view["monitoring"]["on"] and view["monitoring"]["sign"] and view["monitoring"]["parent_does_not_see"]
    )
    kinds = {n["kind"] for n in view["notices"]}
    assert {"new_adult_contact", "keep_secret"} <= kinds
    assert service.client.get("/v1/children/k2", headers=child).status_code == 403  # only their own account
    assert service.client.get("/v1/family", headers=child).status_code == 403
    notice = next(n["id"] for n in view["notices"] if n["kind"] == "keep_secret")
    report = {"about": "a1", "conversation": "c1", "reason": "asked_to_keep_secret", "tell_parent": True,
              "notice": notice}  # fmt: skip
    r = service.client.post("/v1/children/k1/reports", headers=child, json=report)
    assert r.status_code == 201 and r.json()["queued"], r.text
    queue = service.client.get("/v1/alerts?kind=child_report", headers=key).json()
    items = queue.get("items", queue.get("alerts", []))
    assert any(a["conversation"] == "c1" and a["subject"] == "a1" for a in items)
    told = service.client.get("/v1/family/children/k1", headers=auth(parent)).json()
    assert told["reports_shared"] and any(a["kind"] == "child_report" for a in told["alerts"])
    r = service.client.post("/v1/children/k1/reports", headers=child, json={"about": "a1", "reason": "nope"})
    assert r.status_code == 422


def test_flagged_messages_only_under13_after_escalation(service: Service) -> None:
    _, parent, _ = _family(service)
    alerts = service.client.get("/v1/family/children/k1", headers=auth(parent)).json()["alerts"]
    key1 = next(a["key"] for a in alerts if a["kind"] == "grooming")
    r = service.client.get(f"/v1/family/children/k1/alerts/{key1}/messages", headers=auth(parent))
    assert r.status_code == 409 and "does not show" in r.json()["detail"]
    service.client.put("/v1/tenants/acme/family-settings", json={"show_flagged_to_under13_parents": True},
                       headers=service.admin)  # fmt: skip
    r = service.client.get(f"/v1/family/children/k1/alerts/{key1}/messages", headers=auth(parent))
    assert r.status_code == 409 and "under-13" in r.json()["detail"]


def test_bad_input_is_a_clear_4xx(service: Service) -> None:
    _, parent, key = _family(service)
    r = service.client.put(
        "/v1/family/children/k1/controls", json={"approval_required": "yes"}, headers=auth(parent)
    )
    assert r.status_code == 422
    r = service.client.put("/v1/tenants/acme/family-settings", json={"nope": True}, headers=service.admin)
    assert r.status_code in (400, 422) and "nope" in r.text
    r = service.client.post("/v1/children/k1/invitations/missing", json={"accept": True}, headers=key)
    assert r.status_code == 404
    expired = {"Authorization": "Bearer sgc_not-a-token"}
    assert service.client.get("/v1/children/k1", headers=expired).status_code == 401


def test_a_birth_date_decides_the_band_for_a_direct_link(service: Service) -> None:
    _, parent, key = _family(service)
    ev = Events("b")
    assert service.send("acme", [ev("account", account="k9", birth_date="2016-03-01")]).status_code == 200
    r = service.client.post(
        "/v1/tenants/acme/parent-links", json={"parent": parent["id"], "child": "k9"}, headers=key
    )
    assert r.status_code == 204, r.text
    assert service.client.get("/v1/family/children/k9", headers=auth(parent)).json()["age_band"] == "under_13"


def test_flagged_messages_reach_an_under13_parent_after_escalation(service: Service) -> None:
    ev, parent, _ = _family(service)
    service.client.put("/v1/tenants/acme/family-settings", json={"show_flagged_to_under13_parents": True},
                       headers=service.admin)  # fmt: skip
    story = [
        ev.pair("follow", "k2", "a1"),
        ev.msg("a1", "k2", text="hello again", conversation="c7"),
        ev.msg("a1", "k2", text="keep this secret ok", conversation="c7"),
        ev.msg("a1", "k2", text="are you alone, we could meet", conversation="c7"),
    ]
    assert service.send("acme", story).status_code == 200
    alerts = service.client.get("/v1/family/children/k2", headers=auth(parent)).json()["alerts"]
    key7 = next(a["key"] for a in alerts if a["kind"] == "grooming")
    url = f"/v1/family/children/k2/alerts/{key7}/messages"
    r = service.client.get(url, headers=auth(parent))
    assert r.status_code == 409 and "escalated" in r.json()["detail"]  # not before a moderator escalates
    mod = service.add_person("acme", "moderator", "mo")
    r = service.client.post(f"/console/cases/{key7}/actions", headers=auth(mod),
                            json={"action": "escalate_to_referral", "reason": "meeting"})  # fmt: skip
    assert r.status_code == 200, r.text
    shown = service.client.get(url, headers=auth(parent))
    assert shown.status_code == 200, shown.text
    texts = [m["text"] for m in shown.json()["messages"]]
    assert texts and "hello again" not in texts  # only the messages that drove the alert
    assert all(m["from"] == "a1" for m in shown.json()["messages"])
    page = service.client.get(f"/family/children/k2/alerts/{key7}", headers=auth(parent))
    assert page.status_code == 200 and all(t in page.text for t in texts)
    detail = service.client.get("/family/children/k2", headers=auth(parent)).text
    assert f"/family/children/k2/alerts/{key7.replace(':', '%3A')}" in detail or key7 in detail
    refused = service.client.get(f"/family/children/k1/alerts/{key7}", headers=auth(parent))
    assert refused.status_code == 409 and "hello again" not in refused.text


def test_every_parent_route_refuses_a_child_not_linked_to_them(service: Service) -> None:
    """Walks the app's own route table: every route a parent may use that names an account."""
    from safeguarding.service.app import route_actions
    from safeguarding.service.permissions import Act

    _, parent, _ = _family(service)
    service.send("acme", [Events("x").account("k3", "13_15")])
    family_acts = {Act.FAMILY_READ, Act.FAMILY_MANAGE}
    routes = [(m, p) for (m, p), act in route_actions().items() if act in family_acts and "{account_id" in p]
    assert len(routes) >= 8  # API and pages
    for method, path in routes:
        url = path.replace("{account_id:path}", "k3").replace("{adult}", "a1").replace("{key}", "e8:0")
        r = service.client.request(method, url, headers=auth(parent), json={})
        assert r.status_code == 403, f"{method} {url}: {r.status_code}"
        assert "linked to them" in r.json()["detail"]


def test_an_unknown_notice_refuses_the_whole_action(service: Service) -> None:
    _, _, key = _family(service)
    before = service.client.get("/v1/alerts?kind=child_report", headers=key).json()["alerts"]
    r = service.client.post("/v1/children/k1/reports", headers=key,
                            json={"about": "a1", "reason": "other", "notice": 999})  # fmt: skip
    assert r.status_code == 404 and "notice" in r.json()["detail"]
    assert service.client.get("/v1/alerts?kind=child_report", headers=key).json()["alerts"] == before
    token = service.client.post("/v1/children/k1/page-links", json={"minutes": 5}, headers=key).json()[
        "token"
    ]
    r = service.client.post(f"/child/{token}/dismiss", data={"notice": str(2**70)}, follow_redirects=False)
    assert r.status_code == 303 and "Not+done" in r.headers["location"]
