"""``safeguarding serve`` as a real process: the demo, failing closed, kill -9 and restart, several workers.

Servers listen on 127.0.0.1 only, on a free port, and are stopped (SIGTERM, then SIGKILL) by the test.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from safeguarding.store.sql import normalise_url

CLI = [sys.executable, "-c", "from safeguarding.cli import main; main()"]
ADMIN = {
    "SAFEGUARDING_ADMIN_EMAIL": "root@example.test",
    "SAFEGUARDING_ADMIN_PASSWORD": "a long admin password",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled model when there is one, else the real detector artifact format with random weights."""
    from safeguarding.detection import bundled_model_dir

    if (bundled_model_dir() / "manifest.json").is_file():
        return bundled_model_dir()
    import numpy as np

    from safeguarding.detection.artifact import save_artifact
    from safeguarding.detection.model import N_DENSE, LinearWeights
    from safeguarding.detection.streaming import DetectorConfig

    rng = np.random.default_rng(3)
    weights = LinearWeights(
        text=rng.normal(0, 0.3, 1 << 14), dense=rng.normal(0, 0.3, N_DENSE), intercept=-2.0
    )
    out = tmp_path_factory.mktemp("model")
    save_artifact(
        out, weights=weights, config=DetectorConfig(), version="test-random", tagger_arrays=None, info={}
    )
    return out


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text()


@contextmanager
def serve(
    args: list[str], tmp: Path, *, env: dict[str, str] | None = None, wait: bool = True
) -> Iterator[Server]:
    port = free_port()
    log = tmp / f"serve-{port}.log"
    full_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), *args], stdout=out, stderr=subprocess.STDOUT, env=full_env
        )
    server = Server(proc, port, log)
    try:
        if wait:
            deadline = time.monotonic() + 90
            while True:
                assert proc.poll() is None, server.output()
                try:
                    if httpx.get(f"{server.url}/health/live", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, server.output()
                time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_demo_prints_where_to_look_and_writes_credentials(tmp_path: Path, model_dir: Path) -> None:
    creds = tmp_path / "demo.json"
    with serve(["--demo", "--demo-credentials", str(creds), "--model", str(model_dir)], tmp_path) as srv:
        banner = srv.output()
        c = json.loads(creds.read_text())
        assert oct(creds.stat().st_mode & 0o777) == "0o600"
        assert c["url"] == srv.url and c["tenant"] == "demo" and c["api_key"].startswith("sgk_")
        for role in ("admin", "moderator", "parent"):
            assert c[role]["email"] in banner and c[role]["password"] in banner
        assert f"{srv.url}/docs" in banner and "0 rejected" in banner
        key = {"Authorization": f"Bearer {c['api_key']}"}
        alerts = httpx.get(f"{srv.url}/v1/alerts?limit=500", headers=key).json()["alerts"]
        kinds = {a["kind"] for a in alerts}
        assert {"risky_account", "blocked_contact_pattern"} <= kinds
        from safeguarding.detection import bundled_model_dir

        if model_dir == bundled_model_dir():
            assert "grooming" in kinds  # the bundled model catches the escalation
        mass = re.search(r"mass contact by (\S+)\.", banner)
        assert mass is not None
        risk = httpx.get(f"{srv.url}/v1/accounts/{mass.group(1)}/risk", headers=key).json()
        assert risk["risk"] >= 0.5 and risk["alerts"]

        def login(who: str) -> dict[str, str]:
            r = httpx.post(
                f"{srv.url}/v1/auth/login", json={"email": c[who]["email"], "password": c[who]["password"]}
            )
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['token']}"}

        assert httpx.get(f"{srv.url}/v1/alerts", headers=login("moderator")).status_code == 200
        parent = login("parent")
        child = c["parent"]["children"][0]
        assert httpx.get(f"{srv.url}/v1/accounts/{child}/risk", headers=parent).status_code == 200
        assert httpx.get(f"{srv.url}/v1/accounts/{mass.group(1)}/risk", headers=parent).status_code == 403
        assert httpx.get(f"{srv.url}/v1/tenants", headers=login("admin")).json()[0]["id"] == "demo"
        db = re.search(r"Demo database: sqlite:///(\S+)", banner)
        assert db is not None and Path(db.group(1)).exists()
    assert srv.proc.returncode == 0, srv.output()
    assert not Path(db.group(1)).exists()  # the throwaway demo database is gone


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "serve", *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


def test_serve_fails_closed(tmp_path: Path) -> None:
    r = _run(["--demo-credentials", str(tmp_path / "c.json")])
    assert r.returncode == 2 and "needs --demo" in r.stderr
    empty = tmp_path / "empty-model"
    empty.mkdir()
    r = _run(["--db", f"sqlite:///{tmp_path / 'a.db'}", "--model", str(empty)])
    assert r.returncode == 2 and "model error" in r.stderr and "--no-text" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = 1\n")
    r = _run(["--db", f"sqlite:///{tmp_path / 'b.db'}", "--policy", str(bad), "--no-text"])
    assert r.returncode == 2 and "policy" in r.stderr
    assert not (tmp_path / "b.db").exists()  # the policy is checked before the database is touched
    r = _run(
        ["--db", f"sqlite:///{tmp_path / 'c.db'}", "--no-text"], env={"SAFEGUARDING_MAX_BODY_BYTES": "5"}
    )
    assert r.returncode == 2 and "max_body_bytes" in r.stderr
    r = _run(["--db", f"sqlite:///{tmp_path / 'd.db'}", "--no-text", "--workers", "2"])
    assert r.returncode == 2 and "PostgreSQL" in r.stderr


# -- kill -9 and restart; several workers ---------------------------------------------------------------


def make_events(n: int, seed: int = 5) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    at = datetime(2026, 1, 5, 8, tzinfo=UTC)
    out: list[dict[str, Any]] = []

    def add(kind: str, **f: Any) -> None:
        nonlocal at
        at += timedelta(seconds=rnd.randint(1, 30))
        out.append({"id": f"ev{len(out)}", "type": kind, "at": at.isoformat(), **f})

    adults, kids = [f"a{i}" for i in range(20)], [f"k{i}" for i in range(40)]
    for a in adults:
        add("account", account=a, age_band="adult")
    for k in kids:
        add("account", account=k, age_band=rnd.choice(["under_13", "13_15", "16_17"]))
    for k in kids[:30]:
        add("follow", actor=k, target=rnd.choice(adults))
    words = [
        "hey",
        "how was school",
        "this is our secret",
        "are you alone",
        "add me on snap",
        "lol",
        "meet up?",
    ]
    while len(out) < n:
        s, r = rnd.sample(adults + kids, 2)
        if rnd.random() < 0.03:
            add("block", actor=r, target=s)
        else:
            conv = "-".join(sorted((s, r)))
            add("message", conversation=conv, sender=s, recipients=[r], text=rnd.choice(words))
    return out


def setup_platform(url: str) -> dict[str, str]:
    who = {"email": ADMIN["SAFEGUARDING_ADMIN_EMAIL"], "password": ADMIN["SAFEGUARDING_ADMIN_PASSWORD"]}
    r = httpx.post(f"{url}/v1/auth/login", json=who)
    admin = {"Authorization": f"Bearer {r.json()['token']}"}
    httpx.post(f"{url}/v1/tenants", json={"id": "acme", "name": "Acme"}, headers=admin)
    r = httpx.post(f"{url}/v1/tenants/acme/api-keys", json={"name": "k", "rate_limit": 100000}, headers=admin)
    return {"Authorization": f"Bearer {r.json()['key']}"}


def state_of(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the engine keeps for platform acme, minus the wall-clock stamps."""
    queries = {
        "events": "SELECT id, type, digest, outcome FROM sg_events",
        "accounts": "SELECT id, age_band, risk_alerted FROM sg_accounts",
        "edges": "SELECT kind, src, dst FROM sg_edges",
        "counters": "SELECT account, counter, bucket, value FROM sg_counters",
        "members": "SELECT account, counter, bucket, member FROM sg_counter_members",
        "conversations": "SELECT id, messages, flagged, alerted, risk, suspect, stages, detector_state "
        "FROM sg_conversations",
        "alerts": "SELECT key, kind, subject, conversation, risk, stages FROM sg_alerts",
        "outbox": "SELECT key, kind, payload FROM sg_outbox",
    }
    eng = create_engine(normalise_url(db_url))
    with eng.connect() as conn:  # booleans and row order as Python sees them, whatever the database
        state = {
            name: sorted(
                (tuple(int(x) if isinstance(x, bool) else x for x in r) for r in conn.execute(text(q))),
                key=repr,
            )
            for name, q in queries.items()
        }
    eng.dispose()
    return state


def clean_run(db_url: str, batches: list[list[dict[str, Any]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The same batches through one in-process service (with text scoring, the bundled model), sequentially,
    never interrupted."""
    from safeguarding.service import admin
    from safeguarding.service.context import build_context
    from safeguarding.service.ingest import Batch, parse_items
    from safeguarding.settings import load_settings

    ctx = build_context(load_settings(database_url=db_url))
    admin.create_tenant(ctx, "acme", "Acme")
    for b in batches:
        ctx.ingest("acme", parse_items(Batch(b, single=False), strict_fields=True))
    ctx.close()
    return state_of(db_url)


# The exact comparisons below run with text scoring (the bundled model): every event stored once, counters,
# edges, outbox, alerts, and each conversation's detector state byte for byte — the detector resumes
# exactly from its stored state (tests/unit/engine/test_engine_persistence.py checks it message by message).
EXACT: list[str] = []


def batches_of(events: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


@pytest.mark.slow
def test_kill_9_mid_stream_then_restart_loses_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'live.db'}"
    batches = batches_of(make_events(6000), 300)
    args = ["--db", db, *EXACT]
    sent = 0
    with serve(args, tmp_path, env=ADMIN) as srv:
        key = setup_platform(srv.url)
        with httpx.Client(timeout=30) as client:
            for b in batches:
                if sent == 4:  # kill -9 while the fifth batch is being processed
                    threading.Timer(0.05, lambda: srv.proc.send_signal(signal.SIGKILL)).start()
                try:
                    r = client.post(f"{srv.url}/v1/events", json={"events": b}, headers=key)
                    assert r.status_code == 200
                    sent += 1
                except httpx.HTTPError:
                    break
        srv.proc.wait(10)
    assert 0 < sent < len(batches), "the kill should land mid-stream"
    with serve(args, tmp_path, env=ADMIN) as srv:
        key = {"Authorization": key["Authorization"]}
        totals = {"processed": 0, "duplicates": 0, "rejected": 0}
        with httpx.Client(timeout=60) as client:
            for b in batches:  # the platform resends everything it has no answer for (here: all)
                r = client.post(f"{srv.url}/v1/events", json={"events": b}, headers=key).json()
                for k in totals:
                    totals[k] += r[k]
    assert totals["rejected"] == 0 and totals["duplicates"] >= sent * 300
    after = state_of(db)
    assert sum(row[1] for row in after["conversations"]) > 1000  # text was scored: detector states compared
    assert after == clean_run(f"sqlite:///{tmp_path / 'clean.db'}", batches)


@pytest.mark.slow
def test_several_workers_on_one_postgres_never_double_process(tmp_path: Path, pg_url: str) -> None:
    """Two server processes on one database get every batch at the same time: each event is processed once."""
    batches = batches_of(make_events(1200, seed=9), 60)
    args = ["--db", pg_url, *EXACT]
    with serve(args, tmp_path, env=ADMIN) as a, serve(args, tmp_path, env=ADMIN) as b:
        key = setup_platform(a.url)
        with httpx.Client(timeout=60) as client:
            for batch in batches:
                answers: dict[str, Any] = {}

                def post(srv: Server, into: dict[str, Any] = answers, batch: Any = batch) -> None:
                    into[srv.url] = client.post(
                        f"{srv.url}/v1/events", json={"events": batch}, headers=key
                    ).json()

                threads = [threading.Thread(target=post, args=(s,)) for s in (a, b)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                ra, rb = (answers[s.url]["results"] for s in (a, b))
                for x, y in zip(ra, rb, strict=True):
                    assert sorted((x["status"], y["status"])) == ["duplicate", "processed"], (x, y)
                    assert {k: v for k, v in x.items() if k != "status"} == {
                        k: v for k, v in y.items() if k != "status"
                    }
    after = state_of(pg_url)
    assert sum(row[1] for row in after["conversations"]) > 100  # text was scored: detector states compared
    assert after == clean_run(f"sqlite:///{tmp_path / 'clean.db'}", batches)


@pytest.mark.slow
def test_workers_flag_starts_several_processes(tmp_path: Path, pg_url: str) -> None:
    with serve(["--db", pg_url, "--no-text", "--workers", "2"], tmp_path, env=ADMIN) as srv:
        key = setup_platform(srv.url)
        events = make_events(400, seed=2)
        with httpx.Client(timeout=60) as client:
            results = [client.post(f"{srv.url}/v1/events", json={"events": b}, headers=key).json()
                       for b in batches_of(events, 50)]  # fmt: skip
        assert sum(r["processed"] for r in results) == len(events)
        assert len(children_of(srv.proc.pid)) >= 2, srv.output()  # uvicorn's worker processes


def children_of(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids
