"""Platforms kept apart, API keys hashed and rotatable, sign-in, sessions, rate limits."""

from __future__ import annotations

import pytest
from service_helpers import (
    ADMIN_PASSWORD,
    PASSWORD,
    Events,
    KeywordDetector,
    Service,
    grooming_story,
    running,
    settings_for,
)
from sqlalchemy import text

from safeguarding.engine import FrozenClock
from safeguarding.errors import ConfigError
from safeguarding.settings import load_settings


def test_platforms_with_the_same_ids_never_meet(service: Service) -> None:
    service.add_tenant("zeta")
    acme = service.send("acme", grooming_story(Events())).json()
    # zeta reuses every id, with a child where acme had an adult: its own state, its own outcomes
    ev = Events()
    zeta_events = [ev.account("a1", "13_15"), ev.account("k1", "13_15"), ev.account("k2", "under_13"),
                   ev.pair("follow", "k1", "a1"), ev.msg("a1", "k1", text="hi"),
                   ev.msg("k1", "a1", text="ok")]  # fmt: skip
    zeta = service.send("zeta", zeta_events).json()
    assert zeta["processed"] == len(zeta_events) and zeta["duplicates"] == 0
    assert acme["processed"] == 9
    h_acme, h_zeta = service.key_headers("acme"), service.key_headers("zeta")
    assert service.client.get("/v1/alerts", headers=h_zeta).json()["alerts"] == []
    assert len(service.client.get("/v1/alerts", headers=h_acme).json()["alerts"]) >= 1
    assert service.client.get("/v1/accounts/a1/risk", headers=h_zeta).json()["age_band"] == "13_15"
    assert service.client.get("/v1/accounts/a1/risk", headers=h_acme).json()["age_band"] == "adult"
    assert service.client.get("/v1/conversations/c1/risk", headers=h_zeta).json()["flagged"] is False
    assert service.client.get("/v1/conversations/c1/risk", headers=h_acme).json()["flagged"] is True
    # resending acme's event ids to zeta is not a duplicate there (ids are per platform)
    r = service.send("zeta", grooming_story(Events())[:1])
    assert r.json()["results"][0]["status"] == "rejected"  # e1 exists in zeta with other content
    assert "different event" in r.json()["results"][0]["error"]


def test_secrets_are_stored_hashed(service: Service) -> None:
    key = service.keys["acme"]
    secret = key.split("_", 2)[2]
    with service.ctx.sql.engine.connect() as conn:
        dump = " ".join(
            str(row)
            for table in ("sg_api_keys", "sg_users", "sg_sessions")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert secret not in dump and ADMIN_PASSWORD not in dump
    assert "$argon2id$" in dump
    token = service.admin["Authorization"].removeprefix("Bearer ")
    assert token not in dump


def test_rotation_keeps_the_old_key_for_the_grace_period_and_revocation_is_immediate(
    service: Service,
) -> None:
    c, clock = service.client, service.clock
    old = service.keys["acme"]
    old_id = old.split("_")[1]
    ev = Events()
    r = c.post(f"/v1/tenants/acme/api-keys/{old_id}/rotate", json={"grace_hours": 2}, headers=service.admin)
    assert r.status_code == 201
    new = r.json()["key"]
    assert new != old and r.json()["name"] == "main"
    send = lambda key, e: c.post("/v1/events", json=e, headers={"Authorization": f"Bearer {key}"})  # noqa: E731
    assert send(old, ev.account("a1")).status_code == 200
    assert send(new, ev.account("a2")).status_code == 200
    clock.advance(hours=3)
    r = send(old, ev.account("a3"))
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert send(new, ev.account("a4")).status_code == 200
    new_id = new.split("_")[1]
    assert c.delete(f"/v1/tenants/acme/api-keys/{new_id}", headers=service.admin).status_code == 204
    assert send(new, ev.account("a5")).status_code == 401
    listed = c.get("/v1/tenants/acme/api-keys", headers=service.admin).json()
    assert {k["id"] for k in listed} == {old_id, new_id} and all("key" not in k for k in listed)
    assert c.post(f"/v1/tenants/acme/api-keys/{new_id}/rotate", headers=service.admin).status_code == 409
    assert c.delete("/v1/tenants/acme/api-keys/nope", headers=service.admin).status_code == 404
    bad = "sgk_" + old_id + "_wrongsecret"
    assert send(bad, ev.account("a6")).status_code == 401


def test_sign_in_sessions_and_wrong_passwords(service: Service) -> None:
    service.add_person("acme", "moderator", "mo")
    c = service.client
    r = c.post("/v1/auth/login", json={"email": "mo@acme.example.test", "password": "wrong password!"})
    assert r.status_code == 401
    r2 = c.post("/v1/auth/login", json={"email": "nobody@acme.example.test", "password": "wrong password!"})
    assert r2.status_code == 401 and r2.json()["detail"] == r.json()["detail"]
    r = c.post("/v1/auth/login", json={"email": "MO@acme.example.test", "password": PASSWORD})
    assert r.status_code == 200
    c.cookies.clear()
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    assert c.get("/v1/auth/me", headers=h).json()["role"] == "moderator"
    service.clock.advance(hours=13)  # sessions last 12 hours by default
    assert c.get("/v1/auth/me", headers=h).status_code == 401
    for bad in (
        {"email": "x"},
        {"email": "not-an-email", "password": "p"},
        {"email": "a@b", "password": "p", "x": 1},
    ):
        assert c.post("/v1/auth/login", json=bad).status_code == 422
    assert (
        c.post("/v1/auth/login", content=b"{", headers={"Content-Type": "application/json"}).status_code
        == 400
    )


def test_guessing_a_password_is_slowed(service: Service) -> None:
    codes = [
        service.client.post("/v1/auth/login", json={"email": "x@acme.test", "password": "guess"}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [401] * 10 and codes[-1] == 429


def test_rate_limit_per_api_key(db_url: str, frozen_clock: FrozenClock) -> None:
    with running(settings_for(db_url, rate_limit_per_second=2.0), frozen_clock, KeywordDetector()) as svc:
        svc.add_tenant("slow", rate_limit=None)
        svc.add_tenant("fast", rate_limit=1000.0)
        codes = [svc.client.get("/v1/alerts", headers=svc.key_headers("slow")).status_code for _ in range(8)]
        assert codes[:4] == [200] * 4 and 429 in codes
        r = svc.client.get("/v1/alerts", headers=svc.key_headers("slow"))
        assert (
            r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "rate limit" in r.json()["detail"]
        )
        assert all(
            svc.client.get("/v1/alerts", headers=svc.key_headers("fast")).status_code == 200
            for _ in range(20)
        )
        assert "safeguarding_rate_limited_total" in svc.client.get("/metrics").text


def test_management_validation(service: Service) -> None:
    c, h = service.client, service.admin
    for body in ({"id": "Bad Id", "name": "x"}, {"id": "-x", "name": "x"}, {"id": "ok", "name": ""}):
        assert c.post("/v1/tenants", json=body, headers=h).status_code == 422
    assert c.post("/v1/tenants", json={"id": "acme", "name": "again"}, headers=h).status_code == 409
    assert c.get("/v1/tenants/nowhere/users", headers=h).status_code == 404
    user = {"email": "p@acme.test", "password": "short", "role": "parent", "display_name": "P"}
    r = c.post("/v1/tenants/acme/users", json=user, headers=h)
    assert r.status_code == 422 and "12 characters" in r.json()["detail"]
    user["password"] = PASSWORD
    assert c.post("/v1/tenants/acme/users", json=user, headers=h).status_code == 201
    assert c.post("/v1/tenants/acme/users", json=user, headers=h).status_code == 409
    assert c.post("/v1/tenants/acme/users", json={**user, "role": "platform"}, headers=h).status_code == 422
    for url in ("ftp://x/y", "not a url", "http://"):
        assert c.put("/v1/tenants/acme/webhook", json={"url": url}, headers=h).status_code == 422
    r = c.put("/v1/tenants/acme/webhook", json={"url": "https://example.test/hook"}, headers=h)
    assert r.status_code == 200 and r.json()["secret"].startswith("whsec_")
    assert c.put("/v1/tenants/acme/webhook", json={"url": None}, headers=h).json() == {
        "url": None,
        "secret": None,
    }
    link = {"parent": "u_missing", "child": "k1"}
    assert c.post("/v1/tenants/acme/parent-links", json=link, headers=h).status_code == 404
    assert c.delete("/v1/tenants/acme/parent-links/u_missing/k1", headers=h).status_code == 404


def test_settings_fail_closed_and_secrets_have_no_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    for name in ("SAFEGUARDING_ADMIN_EMAIL", "SAFEGUARDING_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.admin_email is None and s.admin_password is None and s.host == "127.0.0.1"
    monkeypatch.setenv("SAFEGUARDING_MAX_BODY_BYTES", "10")
    with pytest.raises(ConfigError, match="max_body_bytes"):
        load_settings()
    monkeypatch.delenv("SAFEGUARDING_MAX_BODY_BYTES")
    from safeguarding.service.context import build_context

    with pytest.raises(ConfigError, match="both"):
        build_context(
            load_settings(database_url=f"sqlite:///{tmp_path}/x.db", admin_email="a@b.c", text_scoring=False)
        )
    with pytest.raises(ConfigError, match="PostgreSQL"):
        build_context(load_settings(database_url=f"sqlite:///{tmp_path}/y.db", workers=2, text_scoring=False))
    monkeypatch.setenv("SAFEGUARDING_ADMIN_PASSWORD", "secret in env")
    assert str(load_settings().admin_password) == "**********"  # never printed


def test_password_change_in_environment_takes_effect(sqlite_url: str, frozen_clock: FrozenClock) -> None:
    with running(settings_for(sqlite_url), frozen_clock):
        pass
    s = settings_for(sqlite_url, admin_password="another long password")
    with pytest.raises(AssertionError), running(s, frozen_clock):  # the helper signs in with the old password
        pass
    from fastapi.testclient import TestClient
    from service_helpers import fast_passwords

    from safeguarding.service.app import create_app

    with TestClient(create_app(s, clock=frozen_clock, detector=None, passwords=fast_passwords())) as c:
        r = c.post("/v1/auth/login", json={"email": s.admin_email, "password": "another long password"})
        assert r.status_code == 200
