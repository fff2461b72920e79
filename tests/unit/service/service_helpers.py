"""Service test helpers: a keyword detector, an event builder, and a service under test with its people."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from safeguarding.engine import FrozenClock
from safeguarding.service.app import create_app
from safeguarding.service.auth import Passwords
from safeguarding.settings import Settings, load_settings
from safeguarding.types import Assessment, Message, Reason, Stage

START = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
ADMIN_EMAIL = "root@example.test"
ADMIN_PASSWORD = "a long admin password"
PASSWORD = "a long test password"


class KeywordDetector:
    """Deterministic stand-in for the streaming detector: "secret", "alone", "meet", "gift" add 0.2 each."""

    version = "keywords-1"
    threshold = 0.5
    WORDS = ("secret", "alone", "meet", "gift")

    def new_state(self, conversation: str) -> dict[str, Any]:
        return {"c": conversation, "n": 0, "score": {}, "flagged": False, "alert_at": None, "suspect": None}

    def update(self, state: dict[str, Any], message: Message) -> Assessment:
        index = state["n"]
        state["n"] += 1
        bump = sum(0.2 for w in self.WORDS if w in message.text.lower())
        state["score"][message.author] = round(min(1.0, state["score"].get(message.author, 0.0) + bump), 6)
        author, risk = max(state["score"].items(), key=lambda kv: (kv[1], kv[0]))
        if not state["flagged"] and risk >= self.threshold:
            state.update(flagged=True, alert_at=index, suspect=author)
        return Assessment(
            conversation=state["c"],
            index=index,
            risk=risk,
            flagged=state["flagged"],
            alert_at=state["alert_at"],
            suspect=state["suspect"] if state["flagged"] else None,
            stages=(Stage.SECRECY_ISOLATION,) if risk > 0 else (),
            reasons=(Reason("keywords", "secrecy keywords seen", 0.2),),
            model_version=self.version,
        )

    def dump_state(self, state: dict[str, Any]) -> bytes:
        return json.dumps(state, sort_keys=True).encode()

    def load_state(self, blob: bytes) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(blob)
        return loaded


def fast_passwords() -> Passwords:
    """argon2id with the smallest cost: the same code path, fast enough for hundreds of sign-ins."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


class Events:
    """Builds JSON events with unique ids and times one minute apart."""

    def __init__(self, prefix: str = "e", start: datetime = START) -> None:
        self.prefix = prefix
        self.at = start
        self.n = 0

    def __call__(self, type_: str, **fields: Any) -> dict[str, Any]:
        self.n += 1
        self.at += timedelta(minutes=1)
        return {
            "id": fields.pop("id", f"{self.prefix}{self.n}"),
            "type": type_,
            "at": self.at.isoformat(),
            **fields,
        }

    def account(self, account: str, band: str = "adult", **kw: Any) -> dict[str, Any]:
        return self("account", account=account, age_band=band, **kw)

    def msg(self, sender: str, *to: str, text: str | None = "hi", conversation: str = "c1") -> dict[str, Any]:
        extra = {"text": text} if text is not None else {}
        return self("message", conversation=conversation, sender=sender, recipients=list(to), **extra)

    def pair(self, type_: str, actor: str, target: str) -> dict[str, Any]:
        return self(type_, actor=actor, target=target)


def grooming_story(ev: Events) -> list[dict[str, Any]]:
    """An adult (a1) and a child (k1) who follows them; a1 escalates to secrecy: one grooming alert."""
    return [
        ev.account("a1"),
        ev.account("k1", "13_15"),
        ev.account("k2", "under_13"),
        ev.pair("follow", "k1", "a1"),
        ev.msg("a1", "k1", text="hey how was school"),
        ev.msg("k1", "a1", text="ok"),
        ev.msg("a1", "k1", text="this is our secret, are you alone"),
        ev.msg("a1", "k1", text="we should meet, i have a gift"),
        ev.msg("a1", "k2", text="hi there", conversation="c2"),
    ]


def settings_for(db_url: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": db_url,
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "webhooks": False,
        "auth_cache_seconds": 0.0,
        "read_staleness_seconds": 0.0,
    }
    base.update(overrides)
    return load_settings(**base)


@dataclass
class Service:
    """A running app (TestClient) plus tokens of people and keys made for the test."""

    client: TestClient
    clock: FrozenClock
    admin: dict[str, str]
    keys: dict[str, str] = field(default_factory=dict)
    people: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ctx(self) -> Any:
        return self.client.app.state.ctx  # type: ignore[attr-defined]

    def key_headers(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[tenant]}"}

    def add_tenant(self, tenant: str, *, rate_limit: float | None = 100_000.0) -> str:
        r = self.client.post("/v1/tenants", json={"id": tenant, "name": tenant.title()}, headers=self.admin)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = {"name": "main"}
        if rate_limit is not None:
            body["rate_limit"] = rate_limit
        r = self.client.post(f"/v1/tenants/{tenant}/api-keys", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        self.keys[tenant] = r.json()["key"]
        return str(r.json()["key"])

    def add_person(self, tenant: str, role: str, name: str) -> dict[str, str]:
        email = f"{name}@{tenant}.example.test"
        r = self.client.post(
            f"/v1/tenants/{tenant}/users",
            json={"email": email, "password": PASSWORD, "role": role, "display_name": name},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        token = self.login(email, PASSWORD)
        self.people[name] = {"Authorization": f"Bearer {token}", "id": r.json()["id"]}
        return self.people[name]

    def login(self, email: str, password: str) -> str:
        r = self.client.post("/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        self.client.cookies.clear()  # tests send bearer tokens; a stray cookie would sign anonymous calls in
        return str(r.json()["token"])

    def send(self, tenant: str, events: list[dict[str, Any]] | dict[str, Any]) -> Any:
        body = {"events": events} if isinstance(events, list) else events
        return self.client.post("/v1/events", json=body, headers=self.key_headers(tenant))


def auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


@contextmanager
def running(settings: Settings, clock: FrozenClock, detector: Any = None, **kw: Any) -> Iterator[Service]:
    app = create_app(settings, clock=clock, detector=detector, passwords=fast_passwords(), **kw)
    with TestClient(app) as client:
        r = client.post("/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert r.status_code == 200, r.text
        client.cookies.clear()
        yield Service(client, clock, {"Authorization": f"Bearer {r.json()['token']}"})
