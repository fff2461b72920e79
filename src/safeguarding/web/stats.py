"""Transparency statistics, in the spirit of the NSPCC's tables: counts only, never content or ids.

Grouped by tenant (platform), region (the country the platform gave for the account the alert or
action is about; ``unknown`` without one) and period (``day``, ``week`` — ISO week — or ``month`` of the
alert's event time, or the action's time). Metrics per group: alerts (total, by kind, by stage),
moderator actions by kind, escalations, referral packages exported, appeals, overturns (appeals
upheld), alerts reviewed and time to first review (hours from the alert being raised to a moderator
first opening or acting on it; median and mean).

Computed in Python from the tables of one tenant (or every tenant for a deployment admin); fine for a
platform's months of alerts. A very large deployment would move the grouping into SQL.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from safeguarding.store import moderation as mod
from safeguarding.store import schema as t

PERIODS = ("day", "week", "month")


def period_of(at: datetime, period: str) -> str:
    if period == "day":
        return at.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    return at.strftime("%Y-%m")


@dataclass
class Group:
    alerts: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_stage: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    packages: int = 0
    review_hours: list[float] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        hours = self.review_hours
        return {
            "alerts": self.alerts,
            "alerts_by_kind": dict(sorted(self.by_kind.items())),
            "alerts_by_stage": dict(sorted(self.by_stage.items())),
            "actions": dict(sorted(self.actions.items())),
            "escalations": self.actions.get("escalate_to_referral", 0),
            "referral_packages": self.packages,
            "appeals": self.actions.get("appeal", 0),
            "overturns": self.actions.get("appeal_upheld", 0),
            "reviewed": len(hours),
            "time_to_first_review_hours": {
                "median": round(statistics.median(hours), 3) if hours else None,
                "mean": round(statistics.fmean(hours), 3) if hours else None,
            },
        }


def _countries(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(ids))
    out: dict[str, str] = {}
    for i in range(0, len(wanted), 500):
        part = wanted[i : i + 500]
        stmt = select(t.accounts.c.id, t.accounts.c.country).where(t.accounts.c.id.in_(part))
        out.update({r.id: r.country for r in conn.execute(stmt) if r.country})
    return out


def compute(
    conn: Connection,
    tenant: str | None,
    *,
    period: str = "month",
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The statistics document (see the module docstring); ``tenant`` None: every tenant."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")

    def inside(at: datetime) -> bool:
        return (since is None or at >= since) and (until is None or at < until)

    c = t.alerts.c
    stmt = select(c.tenant, c.key, c.kind, c.stages, c.subject, c.event_at, c.created_at)
    if tenant is not None:
        stmt = stmt.where(c.tenant == tenant)
    alerts = [r for r in conn.execute(stmt) if inside(r.event_at)]
    countries = _countries(conn, [f"{a.tenant}/{a.subject}" for a in alerts if a.subject])
    reviews = mod.all_reviews(conn, tenant)
    groups: dict[tuple[str, str, str], Group] = defaultdict(Group)
    for a in alerts:
        g = groups[
            (a.tenant, countries.get(f"{a.tenant}/{a.subject}", "unknown"), period_of(a.event_at, period))
        ]
        g.alerts += 1
        g.by_kind[a.kind] += 1
        g.by_stage.update(s for s in a.stages.split(",") if s)
        first = reviews.get((a.tenant, a.key))
        if first is not None:
            g.review_hours.append(max(0.0, (first - a.created_at).total_seconds() / 3600))
    for act in mod.all_actions(conn, tenant):
        if inside(act.at):
            groups[(act.tenant, act.country or "unknown", period_of(act.at, period))].actions[act.action] += 1
    p = mod.packages.c
    pstmt = select(p.tenant, p.case_key, p.created_at)
    if tenant is not None:
        pstmt = pstmt.where(p.tenant == tenant)
    subjects = {(a.tenant, a.key): a.subject for a in alerts}
    for r in conn.execute(pstmt):
        if inside(r.created_at):
            subject = subjects.get((r.tenant, r.case_key))
            region = countries.get(f"{r.tenant}/{subject}", "unknown") if subject else "unknown"
            groups[(r.tenant, region, period_of(r.created_at, period))].packages += 1
    total = Group()
    for g in groups.values():
        total.alerts += g.alerts
        total.by_kind.update(g.by_kind)
        total.by_stage.update(g.by_stage)
        total.actions.update(g.actions)
        total.packages += g.packages
        total.review_hours.extend(g.review_hours)
    return {
        "period": period,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "groups": [
            {"tenant": k[0], "region": k[1], "period": k[2], **groups[k].json()} for k in sorted(groups)
        ],
        "totals": total.json(),
    }


def to_csv(doc: dict[str, Any]) -> str:
    """Long format, one number a row: ``tenant,region,period,metric,key,value``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["tenant", "region", "period", "metric", "key", "value"])
    for g in doc["groups"]:
        where = [g["tenant"], g["region"], g["period"]]
        for metric in ("alerts", "escalations", "referral_packages", "appeals", "overturns", "reviewed"):
            w.writerow([*where, metric, "", g[metric]])
        for metric in ("alerts_by_kind", "alerts_by_stage", "actions"):
            for key, value in g[metric].items():
                w.writerow([*where, metric, key, value])
        for key, value in g["time_to_first_review_hours"].items():
            w.writerow([*where, "time_to_first_review_hours", key, "" if value is None else value])
    return buf.getvalue()


def bars(counts: dict[str, int], *, width: int = 420, row: int = 22) -> dict[str, Any]:
    """Geometry of a horizontal bar chart, for the template's inline SVG (no script, no build step)."""
    top = max(counts.values(), default=0) or 1
    label_w = 190
    items = [
        {"label": k, "value": v, "y": i * row, "w": round((width - label_w - 40) * v / top, 1)}
        for i, (k, v) in enumerate(counts.items())
    ]
    return {"items": items, "height": max(row, row * len(items)), "width": width, "label_w": label_w}
