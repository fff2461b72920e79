"""A parent, or a moderator, admin or API key of another platform, gets 403/404 on every moderation route.

The routes are taken from the app itself (every ``/console`` route and ``/v1/stats`` that is not open to
everyone), so a new console route is covered without editing this file. The full every-role-against-
every-route matrix, with hand-written expectations, is ``test_api_permissions.py``.
"""

from __future__ import annotations

import pytest
from service_helpers import Events, Service, grooming_story

from safeguarding.service.app import route_actions
from safeguarding.service.permissions import Act, Actor, Resource, Role, allowed

REPORTER = {
    "SAFEGUARDING_REPORTER_COMPANY": "Acme Ltd",
    "SAFEGUARDING_REPORTER_FIRST_NAME": "Sam",
    "SAFEGUARDING_REPORTER_LAST_NAME": "Lee",
    "SAFEGUARDING_REPORTER_EMAIL": "safety@acme.example",
}


MODERATION = {Act.CONSOLE_READ, Act.CASES_ACT, Act.REFERRALS_EXPORT, Act.STATS_READ}


def _moderation_routes() -> list[tuple[str, str]]:
    """Every route that needs a moderation action (signing in and out and the stylesheet are not)."""
    out = []
    for (method, path), act in sorted(route_actions().items()):
        if path.startswith("/console") or path == "/v1/stats":
            assert act in MODERATION or act in (Act.SESSION_CREATE, Act.SESSION_DELETE, Act.DOCS_READ)
            if act in MODERATION:
                out.append((method, path))
    return out


def test_the_table_gives_moderation_to_moderators_and_admins_only() -> None:
    mod = Actor(Role.MODERATOR, tenant="acme")
    for act in (Act.CONSOLE_READ, Act.CASES_ACT, Act.REFERRALS_EXPORT, Act.STATS_READ):
        assert allowed(mod, act, Resource("acme"))
        assert not allowed(mod, act, Resource("other"))
        assert not allowed(Actor(Role.PARENT, tenant="acme"), act, Resource("acme"))
        assert allowed(Actor(Role.ADMIN), act, Resource("acme"))  # deployment admin
        assert not allowed(Actor(Role.ADMIN, tenant="other"), act, Resource("acme"))
    for act in (Act.CONSOLE_READ, Act.CASES_ACT, Act.REFERRALS_EXPORT):
        assert not allowed(Actor(Role.PLATFORM, tenant="acme"), act, Resource("acme"))
    assert allowed(Actor(Role.PLATFORM, tenant="acme"), Act.STATS_READ, Resource("acme"))


def test_outsiders_get_403_or_404_on_every_moderation_route(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in REPORTER.items():
        monkeypatch.setenv(k, v)
    svc = service
    svc.add_tenant("other")
    svc.send("acme", grooming_story(Events()))
    mod = svc.add_person("acme", "moderator", "mod")
    parent = svc.add_person("acme", "parent", "parent")
    outsiders = {
        "parent": parent,
        "other_moderator": svc.add_person("other", "moderator", "om"),
        "other_admin": svc.add_person("other", "admin", "oa"),
    }
    c = svc.client
    h = {"Authorization": mod["Authorization"]}
    assert c.post("/console/cases/e8:0/actions", json={"action": "escalate_to_referral", "reason": "x"},
                  headers=h).status_code == 200  # fmt: skip
    pid = c.post("/console/cases/e8:0/export", json={}, headers=h).json()["package_id"]
    routes = _moderation_routes()
    # queue, case, claim, assign, actions, appeals, export, download, stats page, /v1/stats
    assert len(routes) == 10
    for who, headers in outsiders.items():
        hdr = {"Authorization": headers["Authorization"]}
        for method, path in routes:
            url = path.replace("{key:path}", "e8:0").replace("{package_id}", pid)
            body = {"action": "dismiss", "reason": "outsider", "action_id": 1, "assignee": mod["id"]}
            # naming acme's platform: refused by the table
            r = c.request(method, f"{url}?tenant=acme", json=body, headers=hdr, follow_redirects=False)
            assert r.status_code == 403, (who, method, path, r.status_code)
            # on their own platform: acme's case and package do not exist there
            r = c.request(method, url, json=body, headers=hdr, follow_redirects=False)
            if who == "parent":
                assert r.status_code == 403, (who, method, path)
            elif "{" in path:
                assert r.status_code == 404, (who, method, path, r.status_code)
            else:
                assert r.status_code in (200, 404), (who, method, path)
                assert "e8:0" not in r.text and "a1" not in r.text
    # the platform's API key reads statistics but never the console
    key = svc.key_headers("acme")
    assert c.get("/v1/stats", headers=key).status_code == 200
    assert c.get("/console", headers=key).status_code == 403
    assert c.get("/console/cases/e8:0", headers=svc.key_headers("other")).status_code == 403
