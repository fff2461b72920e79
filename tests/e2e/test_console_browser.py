"""End to end in a real headless browser: Debian's chromium driven by Playwright (design guide §6).

A real server (uvicorn, on 127.0.0.1) runs the demo platform: the synthetic grooming conversation played
through the bundled model. A moderator signs in, opens the top grooming alert, reads the highlighted
messages, escalates, builds and downloads the referral package, and the package verifies. With
``SAFEGUARDING_SCREENSHOTS=1`` the screenshots of the queue and the case view are written to ``docs/img/``
(referenced by ``docs/console.md``); otherwise to a temporary folder, so a test run changes no file.

Skipped, with the reason, when ``/usr/bin/chromium`` or Playwright is missing; ``.ci/run`` installs
chromium so CI never skips. Never ``playwright install`` (it downloads a browser).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
REPORTER = {
    "SAFEGUARDING_REPORTER_COMPANY": "Demo Platform Ltd",
    "SAFEGUARDING_REPORTER_FIRST_NAME": "Sam",
    "SAFEGUARDING_REPORTER_LAST_NAME": "Lee",
    "SAFEGUARDING_REPORTER_EMAIL": "safety@demo.example",
}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run does)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, str]]:
    """``(base url, moderator email, password)`` of a running demo service."""
    import uvicorn

    from safeguarding.service.app import create_app
    from safeguarding.service.demo import seed_demo
    from safeguarding.settings import load_settings

    for k, v in REPORTER.items():
        monkeypatch.setenv(k, v)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", webhooks=False)
    app = create_app(settings)
    info = seed_demo(app.state.ctx, base)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield base, info.moderator.email, info.moderator.password
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_moderator_reviews_escalates_and_exports(demo_server: tuple[str, str, str], tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    from safeguarding.evidence import verify_package

    base, email, password = demo_server
    shots = DOCS_IMG if os.environ.get("SAFEGUARDING_SCREENSHOTS") else tmp_path  # docs: set it to refresh
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page.goto(f"{base}/console")
            assert "/console/login" in page.url  # not signed in: sent to sign in
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/console")
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "console-queue.png"), full_page=False)
            page.get_by_label("Kind").select_option("grooming")
            page.get_by_role("button", name="Filter").click()
            page.wait_for_url("**kind=grooming**")
            rows = page.locator("table.queue tbody tr")
            assert rows.count() >= 1

            rows.first.locator("a.risk").click()  # the top alert
            page.wait_for_url("**/console/cases/**")
            driving = page.locator("li.msg.driving")
            assert driving.count() >= 1, "the case view highlights the messages that drove the alert"
            assert "driving message" in driving.first.inner_text()
            assert driving.first.locator(".stage").count() >= 1  # its stage labels (or "no stage named")
            page.screenshot(path=str(shots / "console-case.png"), full_page=False)
            first = driving.first
            text = first.locator("p.text")
            assert not text.is_visible()  # collapsed until opened
            first.locator("summary").click()
            assert text.is_visible() and text.inner_text().strip()

            page.locator("input[value=escalate_to_referral]").check()
            page.get_by_label("Reason (recorded in the evidence log)").fill("grooming with a plan to meet")
            page.get_by_role("button", name="Record action").click()
            page.wait_for_load_state()
            assert "Recorded: Escalate to referral" in page.locator(".flash").inner_text()

            page.get_by_role("button", name="Build referral package").click()
            page.wait_for_load_state()
            assert "Referral package built" in page.locator(".flash").inner_text()
            with page.expect_download() as dl:
                page.locator("a.package").first.click()
            target = tmp_path / "referral.zip"
            dl.value.save_as(str(target))
        finally:
            browser.close()
    check = verify_package(target)
    assert check.ok, check
