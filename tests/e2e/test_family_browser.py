"""End to end in a real headless browser (Debian's chromium, Playwright): the family pages.

A real server (uvicorn, on 127.0.0.1) gets a platform set up over the HTTP API with its API key: an
adult nobody knows messages an under-13 whose parent is linked, and turns to secrecy (a keyword detector
stands in for the model, so the alert is deterministic). (a) The parent signs in at ``/family/login`` and
sees the new adult and the alert; (b) the child's page (token from the API) shows the monitoring sign
and the notice; (c) the child reports from the notice and a moderator finds the ``child_report`` in the
console's queue. Also: at 375px the child's page has no horizontal scroll. With
``SAFEGUARDING_SCREENSHOTS=1`` the screenshots go to ``docs/img/`` (``family-*.png``), else to a
temporary folder. Skipped when chromium or Playwright is missing.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_console_browser import ARGS, CHROMIUM, DOCS_IMG, _free_port

from safeguarding.types import Assessment, Message, Reason, Stage

ADMIN = ("root@family.test", "a long admin password")
PASSWORD = "a long test password"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need chromium at {CHROMIUM}")


class Keywords:
    """Deterministic detector: "secret", "alone", "meet", "gift" add 0.2 each to the author's risk."""

    version = "keywords-e2e"
    threshold = 0.5

    def new_state(self, conversation: str) -> dict[str, Any]:
        return {"c": conversation, "n": 0, "score": {}, "alert_at": None, "suspect": None}

    def update(self, state: dict[str, Any], message: Message) -> Assessment:
        index, state["n"] = state["n"], state["n"] + 1
        bump = sum(0.2 for w in ("secret", "alone", "meet", "gift") if w in message.text.lower())
        state["score"][message.author] = min(1.0, state["score"].get(message.author, 0.0) + bump)
        author, risk = max(state["score"].items(), key=lambda kv: (kv[1], kv[0]))
        if state["alert_at"] is None and risk >= self.threshold:
            state.update(alert_at=index, suspect=author)
        flagged = state["alert_at"] is not None
        return Assessment(
            conversation=state["c"], index=index, risk=risk, flagged=flagged, alert_at=state["alert_at"],
            suspect=state["suspect"], stages=(Stage.SECRECY_ISOLATION,) if risk > 0 else (),
            reasons=(Reason("keywords", "secrecy keywords seen", 0.2),), model_version=self.version,
        )  # fmt: skip

    def dump_state(self, state: dict[str, Any]) -> bytes:
        return json.dumps(state).encode()

    def load_state(self, blob: bytes) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(blob)
        return out


@dataclass
class Family:
    base: str
    key: str
    child_url: str


def _setup(base: str) -> Family:
    """Over the HTTP API: platform, key, a moderator and a parent, the events, the link, a page token."""
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.post("/v1/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
        admin = {"Authorization": f"Bearer {r.json()['token']}"}
        assert c.post("/v1/tenants", json={"id": "acme", "name": "Acme"}, headers=admin).status_code == 201
        key = c.post("/v1/tenants/acme/api-keys", json={"name": "main"}, headers=admin).json()["key"]
        ids = {}
        for role in ("moderator", "parent"):
            person = {"email": f"{role}@acme.test", "password": PASSWORD, "role": role, "display_name": role}
            r = c.post("/v1/tenants/acme/users", headers=admin, json=person)
            assert r.status_code == 201, r.text
            ids[role] = r.json()["id"]
        at = datetime.now(UTC) - timedelta(hours=1)
        n = 0

        def ev(type_: str, **fields: Any) -> dict[str, Any]:
            nonlocal n
            n += 1
            return {"id": f"e{n}", "type": type_, "at": (at + timedelta(minutes=n)).isoformat(), **fields}

        def msg(sender: str, to: str, text: str) -> dict[str, Any]:
            return ev("message", conversation="c1", sender=sender, recipients=[to], text=text)

        events = [
            ev("account", account="a1", age_band="adult", display_name="Coach Al"),
            ev("account", account="k1", age_band="under_13", display_name="Sam"),
            ev("follow", actor="k1", target="a1"),  # a new adult: the child follows them, never talked
        ]
        key_h = {"Authorization": f"Bearer {key}"}
        assert c.post("/v1/events", json={"events": events}, headers=key_h).status_code == 200
        r = c.post(
            "/v1/tenants/acme/parent-links", json={"parent": ids["parent"], "child": "k1"}, headers=key_h
        )
        assert r.status_code == 204, r.text
        chat = [
            msg("a1", "k1", "hey, you are really good at this game"),
            msg("k1", "a1", "thanks"),
            msg("a1", "k1", "this is our secret, are you alone"),
            msg("a1", "k1", "we should meet, gift"),
        ]
        r = c.post("/v1/events", json={"events": chat}, headers=key_h)
        assert r.status_code == 200, r.text
        r = c.post("/v1/children/k1/page-links", json={"minutes": 30}, headers=key_h)
        assert r.status_code == 201, r.text
        return Family(base, key, base + r.json()["url"])


@pytest.fixture
def family(tmp_path: Path) -> Iterator[Family]:
    import uvicorn

    from safeguarding.service.app import create_app
    from safeguarding.settings import load_settings

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'family.db'}", webhooks=False,
                             admin_email=ADMIN[0], admin_password=ADMIN[1])  # fmt: skip
    app = create_app(settings, detector=Keywords())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield _setup(base)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _shots(tmp_path: Path) -> Path:
    shots = DOCS_IMG if os.environ.get("SAFEGUARDING_SCREENSHOTS") else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def test_parent_child_and_moderator(family: Family, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    base, shots = family.base, _shots(tmp_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            # (a) the parent: the summary sentence, the alert first, then the child's page
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{base}/family")
            assert "/family/login" in page.url
            page.get_by_label("Email").fill("parent@acme.test")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/family")
            big = page.locator("p.big").first.inner_text()
            assert re.fullmatch(r"Sam talked to 1 person this week; 1 new adult; [1-9]\d* alerts?", big), big
            assert "A conversation looked like grooming" in page.locator(".alerts").inner_text()
            page.screenshot(path=str(shots / "family-parent.png"), full_page=True)
            page.get_by_role("link", name="See Sam's contacts").click()
            page.wait_for_url("**/family/children/k1")
            row = page.locator("table.contacts tbody tr").first
            assert "Coach Al" in row.inner_text()
            assert row.locator(".badge.adult").count() == 1 and row.locator(".badge.alert").count() == 1
            grooming = page.locator(".alert-box").filter(has_text="A conversation looked like grooming")
            assert "asking to keep things secret" in grooming.inner_text()
            assert "our secret" not in page.content()  # never message text
            page.screenshot(path=str(shots / "family-child-detail.png"), full_page=True)

            # (b) the child: the monitoring sign and the notice about the new adult
            child = browser.new_page(viewport={"width": 1100, "height": 900})
            child.goto(family.child_url)
            assert "Your parent or carer can see who you talk to" in child.locator(".sign").inner_text()
            notice = child.locator("section.notice").filter(
                has_text="An adult messaged you for the first time"
            )
            assert notice.count() == 1 and "Coach Al" in notice.inner_text()
            child.screenshot(path=str(shots / "family-child.png"), full_page=True)

            # (c) one tap to report (telling the parent) ...
            notice.get_by_label("Tell my parent").check()
            notice.get_by_role("button", name="Report Coach Al").click()
            child.wait_for_load_state()
            assert "Thank you" in child.locator(".flash").inner_text()

            # ... and a moderator finds it in the console's queue
            mod = browser.new_page(viewport={"width": 1280, "height": 900})
            mod.goto(f"{base}/console")
            mod.get_by_label("Email").fill("moderator@acme.test")
            mod.get_by_label("Password").fill(PASSWORD)
            mod.get_by_role("button", name="Sign in").click()
            mod.wait_for_url(f"{base}/console")
            kinds = mod.locator("table.queue tbody tr td:nth-child(2)").all_inner_texts()
            assert "child_report" in kinds, kinds
        finally:
            browser.close()


def test_child_page_fits_a_phone(family: Family) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 375, "height": 740})
            page.goto(family.child_url)
            assert page.locator(".sign").is_visible()
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"horizontal scroll at 375px: {width}"
            page.keyboard.press("Tab")  # keyboard: the skip link first
            assert page.evaluate("() => document.activeElement.className") == "skip"
        finally:
            browser.close()
