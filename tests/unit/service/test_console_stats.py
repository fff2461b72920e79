"""Transparency statistics: by platform, region and period; JSON, CSV and the console page."""

from __future__ import annotations

import csv
import io

from service_helpers import Events, Service


def _story(ev: Events, adult: str, child: str, conv: str, country: str) -> list[dict[str, object]]:
    return [
        ev.account(adult, country=country),
        ev.account(child, "13_15", country=country),
        ev.pair("follow", child, adult),
        ev.msg(adult, child, text="our secret, are you alone", conversation=conv),
        ev.msg(adult, child, text="meet me, i have a gift", conversation=conv),
    ]


def test_stats_by_tenant_region_and_period(service: Service) -> None:
    svc = service
    svc.add_tenant("other")
    ev = Events()
    svc.send("acme", _story(ev, "a1", "k1", "c1", "GB") + _story(ev, "a2", "k2", "c2", "FR"))
    svc.send("other", _story(Events("o"), "a1", "k1", "c1", "DE"))
    mod = {"Authorization": svc.add_person("acme", "moderator", "mod")["Authorization"]}
    svc.clock.advance(hours=2)
    assert svc.client.get("/console/cases/e5:0", headers=mod).status_code == 200  # first review after 2 h
    r = svc.client.post(
        "/console/cases/e5:0/actions", json={"action": "suspend", "reason": "grooming"}, headers=mod
    )
    assert r.status_code == 200
    doc = svc.client.get("/v1/stats", headers=mod).json()
    assert doc["period"] == "month"
    groups = {(g["tenant"], g["region"], g["period"]): g for g in doc["groups"]}
    assert set(groups) == {("acme", "GB", "2026-01"), ("acme", "FR", "2026-01")}  # never the other platform
    gb = groups[("acme", "GB", "2026-01")]
    assert gb["alerts"] == 1 and gb["alerts_by_kind"] == {"grooming": 1}
    assert gb["alerts_by_stage"] == {"secrecy_isolation": 1}
    assert gb["actions"] == {"suspend": 1} and gb["reviewed"] == 1
    assert gb["time_to_first_review_hours"] == {"median": 2.0, "mean": 2.0}
    assert doc["totals"]["alerts"] == 2 and doc["totals"]["appeals"] == 0
    # periods and time windows
    days = svc.client.get("/v1/stats?period=day", headers=mod).json()
    assert {g["period"] for g in days["groups"]} == {"2026-01-05"}
    weeks = svc.client.get("/v1/stats?period=week", headers=mod).json()
    assert {g["period"] for g in weeks["groups"]} == {"2026-W02"}
    late = svc.client.get("/v1/stats?since=2026-02-01T00:00:00Z", headers=mod).json()
    assert late["groups"] == [] and late["totals"]["alerts"] == 0
    assert svc.client.get("/v1/stats?since=2026-02-01T00:00:00", headers=mod).status_code == 422  # no zone
    assert svc.client.get("/v1/stats?period=year", headers=mod).status_code == 422
    # CSV: one number a row
    r = svc.client.get("/v1/stats?format=csv", headers=mod)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {"tenant": "acme", "region": "GB", "period": "2026-01", "metric": "actions", "key": "suspend",
            "value": "1"} in rows  # fmt: skip
    assert all(row["tenant"] == "acme" for row in rows)
    # a deployment admin sees every platform, or one
    every = svc.client.get("/v1/stats", headers=svc.admin).json()
    assert {g["tenant"] for g in every["groups"]} == {"acme", "other"}
    one = svc.client.get("/v1/stats?tenant=other", headers=svc.admin).json()
    assert {g["region"] for g in one["groups"]} == {"DE"}
    assert svc.client.get("/v1/stats?tenant=nope", headers=svc.admin).status_code == 404
    assert svc.client.get("/v1/stats?tenant=other", headers=mod).status_code == 403
    # the page: inline SVG charts, no script
    page = svc.client.get("/console/stats", headers=mod)
    assert page.status_code == 200 and page.text.count("<svg") == 4 and "<script" not in page.text
    assert "secrecy_isolation" in page.text and "Download CSV" in page.text
