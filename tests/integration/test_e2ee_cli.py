"""``safeguarding serve --demo --e2ee`` as a real process: the demo played encrypted, and the key it needs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
from test_service_cli import CLI, serve


def test_encrypted_demo_shows_device_alert_and_verified_report(tmp_path: Path) -> None:
    creds = tmp_path / "demo.json"
    env = {k: v for k, v in os.environ.items() if k != "SAFEGUARDING_FRANKING_KEY"}
    with serve(["--demo", "--e2ee", "--demo-credentials", str(creds)], tmp_path, env=env) as srv:
        banner = srv.output()
        assert "Encrypted mode (--e2ee)" in banner and "What it gives up" in banner, banner
        assert "0 rejected" in banner
        c = json.loads(creds.read_text())
        key = {"Authorization": f"Bearer {c['api_key']}"}
        alerts = httpx.get(f"{srv.url}/v1/alerts?limit=500", headers=key).json()["alerts"]
        kinds = {a["kind"] for a in alerts}
        assert {"device_grooming", "verified_report", "risky_account"} <= kinds, kinds
        assert "grooming" not in kinds  # the server scored no text: grooming alerts came from the device
        report = next(a for a in alerts if a["kind"] == "verified_report")
        login = httpx.post(
            f"{srv.url}/v1/auth/login",
            json={"email": c["moderator"]["email"], "password": c["moderator"]["password"]},
        ).json()
        mod = {"Authorization": f"Bearer {login['token']}"}
        got = httpx.get(f"{srv.url}/v1/e2ee/reports/{report['event']}", headers=mod)
        assert got.status_code == 200 and got.json()["messages"][0]["text"]
        assert httpx.get(f"{srv.url}/v1/e2ee/reports/{report['event']}", headers=key).status_code == 403
    assert srv.proc.returncode == 0, srv.output()


def test_e2ee_without_demo_needs_a_franking_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SAFEGUARDING_FRANKING_KEY"}
    r = subprocess.run(
        [*CLI, "serve", "--e2ee", "--db", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert r.returncode != 0 and "SAFEGUARDING_FRANKING_KEY" in r.stderr + r.stdout
    bad = subprocess.run(
        [*CLI, "serve", "--e2ee", "--db", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True, text=True, timeout=60, env={**env, "SAFEGUARDING_FRANKING_KEY": "not base64!"},
    )  # fmt: skip
    assert bad.returncode != 0 and "not valid base64" in bad.stderr + bad.stdout
