"""The family pages: a parent's pages show who, never what; a parent reaches only linked children; only
parents sign in at ``/family/login``; the child's page works by its token and its report reaches the queue."""

from __future__ import annotations

from service_helpers import PASSWORD, Events, Service, grooming_story

SECRET_WORDS = ("hey how was school", "our secret", "are you alone", "we should meet", "i have a gift")
HTML = {"Accept": "text/html"}


def _family(service: Service) -> tuple[Events, dict[str, str], dict[str, str]]:
    """acme with the grooming story; parent ``pat`` linked to k2 (direct) and k1 (accepted invitation)."""
    ev = Events()
    story = grooming_story(ev)
    story[0]["display_name"] = "Coach Al"
    story[1]["display_name"] = "Sam"
    assert service.send("acme", story).status_code == 200
    parent = service.add_person("acme", "parent", "pat")
    key = service.key_headers("acme")
    r = service.client.post(
        "/v1/tenants/acme/parent-links", json={"parent": parent["id"], "child": "k2"}, headers=key
    )
    assert r.status_code == 204, r.text
    r = service.client.post(
        "/v1/tenants/acme/parent-invitations", json={"parent": parent["id"], "child": "k1"}, headers=key
    )
    inv = r.json()["id"]
    r = service.client.post(f"/v1/children/k1/invitations/{inv}", json={"accept": True}, headers=key)
    assert r.status_code == 200, r.text
    return ev, parent, key


def _sign_in(service: Service, email: str) -> str:
    """Sign in at /family/login; returns the CSRF token from the summary page (the cookie is kept)."""
    c = service.client
    r = c.post("/family/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/family", r.text
    page = c.get("/family", headers=HTML)
    assert page.status_code == 200
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def _child_token(service: Service, key: dict[str, str], child: str = "k1") -> str:
    r = service.client.post(f"/v1/children/{child}/page-links", json={"minutes": 30}, headers=key)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def test_parent_pages_show_who_never_what(service: Service) -> None:
    _family(service)
    c = service.client
    assert (
        c.get("/family", headers=HTML, follow_redirects=False).headers["location"].startswith("/family/login")
    )
    _sign_in(service, "pat@acme.example.test")
    summary = c.get("/family", headers=HTML).text
    assert "Sam talked to 1 person this week; 1 new adult; 1 alert" in summary
    assert "A conversation looked like grooming" in summary
    detail = c.get("/family/children/k1", headers=HTML)
    assert detail.status_code == 200
    assert "Coach Al" in detail.text and "asking to keep things secret" in detail.text
    assert 'class="badge adult"' in detail.text and 'class="badge alert"' in detail.text
    for page in (summary, detail.text, c.get("/family/children/k2", headers=HTML).text):
        for words in SECRET_WORDS:
            assert words not in page.lower(), f"message text {words!r} leaked into a parent page"


def test_parent_controls_need_csrf_and_reach_only_linked_children(service: Service) -> None:
    _family(service)
    service.send("acme", [Events("x").account("k3", "13_15")])
    csrf = _sign_in(service, "pat@acme.example.test")
    c = service.client
    assert c.get("/family/children/k3", headers=HTML).status_code == 403
    r = c.post("/family/children/k3/controls", data={"csrf_token": csrf, "approval_required": "1"})
    assert r.status_code == 403
    r = c.post("/family/children/k2/controls", data={"approval_required": "1"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = c.post("/family/children/k2/controls", data={"csrf_token": csrf, "approval_required": "1"},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "Controls+saved" in r.headers["location"]
    assert (
        'id="approval_required" name="approval_required" value="1" checked'
        in c.get("/family/children/k2", headers=HTML).text
    )
    r = c.post("/family/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/family/login"


def test_only_parents_sign_in_at_family_login(service: Service) -> None:
    service.add_person("acme", "moderator", "mo")
    r = service.client.post(
        "/family/login", data={"email": "mo@acme.example.test", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 403 and "for parents" in r.text
    assert "sg_session" not in r.headers.get("set-cookie", "")
    r = service.client.post("/family/login", data={"email": "nobody@x.test", "password": "wrong"})
    assert r.status_code == 401 and "Wrong email or password" in r.text


def test_child_page_bad_token_is_a_friendly_401(service: Service) -> None:
    for token in ("sgc_not-a-token", "not-even-a-child-token"):
        r = service.client.get(f"/child/{token}")
        assert r.status_code == 401 and "This link has expired" in r.text
        assert r.headers["content-type"].startswith("text/html")
    r = service.client.post("/child/sgc_nope/report", data={"about": "a1"})
    assert r.status_code == 401


def test_child_page_sign_notice_and_report_reach_the_queue(service: Service) -> None:
    key = _family(service)[2]
    token = _child_token(service, key)
    c = service.client
    page = c.get(f"/child/{token}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "Your parent or carer can see who you talk to" in text and "what your messages say" in text
    assert "An adult messaged you for the first time" in text and "Childline" in text
    notice = text.split(f'action="/child/{token}/report"')[1].split('name="notice" value="')[1].split('"')[0]
    r = c.post(f"/child/{token}/report", follow_redirects=False, data={
        "about": "a1", "notice": notice, "conversation": "c1", "reason": "asked_to_keep_secret",
        "tell_parent": "1"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith(f"/child/{token}?msg=Thank+you")
    queue = c.get("/v1/alerts?kind=child_report", headers=key).json()
    items = queue.get("items", queue.get("alerts", []))
    assert any(a["subject"] == "a1" and a["conversation"] == "c1" for a in items)
    r = c.post(f"/child/{token}/block", data={"about": "a1"}, follow_redirects=False)
    assert r.status_code == 303 and "Blocked" in r.headers["location"]
    other = _child_token(service, key, "k2")
    assert c.get(f"/child/{other}").status_code == 200  # k2 is under 13, linked: the sign shows too
    assert "Your parent or carer can see" in c.get(f"/child/{other}").text
