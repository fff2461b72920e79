"""``safeguarding serve --demo``: a demo platform made by the project's own synthetic generator.

The platform ``demo`` gets the accounts, follows, contact requests and conversations of
:func:`safeguarding.synth.scenario.build_scenario` (ordinary chats, a grooming approach that escalates
over several days, an adult who mass-contacts minors), moved so that it ends about now, and played
through the engine by the same ingest path as ``POST /v1/events``. People to sign in as (admin,
moderator, a parent linked to the groomed child) and a platform API key get fresh random secrets on
every start: the demo is the only place secrets are made up rather than configured.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from safeguarding.engine import Rejected
from safeguarding.service import admin
from safeguarding.service.context import ServiceContext
from safeguarding.service.ingest import Batch, parse_items
from safeguarding.service.permissions import Role
from safeguarding.store.alerts import AlertQuery
from safeguarding.synth.scenario import Scenario, build_scenario

TENANT = "demo"
KEY_NAME = "demo platform"
BATCH = 500


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    role: str
    children: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoInfo:
    url: str
    tenant: str
    api_key: str
    admin: Person
    moderator: Person
    parent: Person
    events: int
    rejected: int
    alerts: dict[str, int]
    groomer: str
    victim: str
    grooming_conversation: str | None
    mass_contact: str
    child_page: str = ""
    """The child's page for the demo's groomed child (valid for a day)."""

    def credentials_json(self) -> str:
        doc: dict[str, Any] = {
            "url": self.url,
            "tenant": self.tenant,
            "api_key": self.api_key,
            "admin": asdict(self.admin),
            "moderator": asdict(self.moderator),
            "parent": asdict(self.parent),
            "child_page": self.child_page,
        }
        return json.dumps(doc, indent=2) + "\n"

    def banner(self) -> str:
        u, k = self.url, self.api_key
        alerts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.alerts.items())) or "none"
        conv = self.grooming_conversation
        lines = [
            f"Safeguarding demo: http://{u.removeprefix('http://')}",
            f"  API docs      {u}/docs   (OpenAPI: {u}/openapi.json)",
            f"  health        {u}/health   metrics: {u}/metrics",
            "",
            f"  Played {self.events} synthetic events of platform '{self.tenant}' through the engine "
            f"({self.rejected} rejected); alerts: {alerts}.",
            f"  The grooming approach: adult {self.groomer} -> child {self.victim}"
            + (f" in conversation {conv}" if conv else "")
            + f"; mass contact by {self.mass_contact}.",
            "",
            f"  Platform API key: {k}",
            f"    curl -H 'Authorization: Bearer {k}' {u}/v1/alerts",
            f"    curl -H 'Authorization: Bearer {k}' {u}/v1/accounts/{self.mass_contact}/risk",
        ]
        if conv:
            lines.append(f"    curl -H 'Authorization: Bearer {k}' {u}/v1/conversations/{conv}/risk")
        lines += [
            f"    curl -H 'Authorization: Bearer {k}' -H 'Content-Type: application/json' "
            f'-d \'{{"action": "message", "sender": "{self.groomer}", "recipient": "{self.victim}"}}\' '
            f"{u}/v1/decisions/contact",
            "",
            f"  Moderator console: {u}/console   Parent view: {u}/family   "
            f"Child's page ({self.victim}): {self.child_page}",
            f"  Sign in (POST {u}/v1/auth/login with email and password):",
        ]
        for p in (self.admin, self.moderator, self.parent):
            extra = f"   (linked to {', '.join(p.children)})" if p.children else ""
            lines.append(f"    {p.role:<10} {p.email:<24} {p.password}{extra}")
        return "\n".join(lines)


def _person(ctx: ServiceContext, tenant: str | None, role: Role, email: str) -> Person:
    password = secrets.token_urlsafe(12)
    existing = ctx.tenancy.user_by_email(email)
    if existing is None:
        admin.create_user(ctx, tenant, email, password, role, f"Demo {role.value}")
    else:
        ctx.tenancy.set_password(existing.id, ctx.passwords.hash(password))
        ctx.tenancy.end_sessions_of(existing.id)
    return Person(email, password, role.value)


def seed_demo(
    ctx: ServiceContext,
    url: str,
    *,
    seed: int = 0,
    play: Callable[[ServiceContext, Scenario], int] | None = None,
) -> DemoInfo:
    """Create (or refresh) the demo platform and play the synthetic scenario through the engine.

    ``play(ctx, scenario)`` replaces the plaintext playback (the encrypted demo passes its own) and
    returns how many events were rejected."""
    now = ctx.clock.now().replace(minute=0, second=0, microsecond=0)
    probe = build_scenario(seed)
    span = max(str(e["at"]) for e in probe.to_events())  # ISO text in UTC sorts in time order
    length = datetime.fromisoformat(span.replace("Z", "+00:00")) - probe.start
    scenario = build_scenario(seed, start=now - length - timedelta(hours=1))  # so it ends about now

    if ctx.tenancy.tenant(TENANT) is None:
        admin.create_tenant(ctx, TENANT, "Demo platform (synthetic)")
    for key in ctx.tenancy.api_keys(TENANT):
        if key.name == KEY_NAME and key.revoked_at is None:
            ctx.tenancy.end_api_key(TENANT, key.id, revoked_at=ctx.clock.now())
    new, _ = admin.issue_api_key(ctx, TENANT, KEY_NAME, rate_limit=10_000)

    admin_p = _person(ctx, None, Role.ADMIN, "admin@demo.local")
    moderator = _person(ctx, TENANT, Role.MODERATOR, "moderator@demo.local")
    parent = _person(ctx, TENANT, Role.PARENT, "parent@demo.local")
    parent_user = ctx.tenancy.user_by_email(parent.email)
    assert parent_user is not None
    parent = Person(parent.email, parent.password, parent.role, [scenario.victim])

    events = scenario.to_events()
    rejected = 0
    # a database that already holds the demo keeps it (its events were played at an earlier start)
    if play is not None:
        if not ctx.engines.engine(TENANT).store.processed([str(events[0]["id"])]):
            rejected = play(ctx, scenario)
    elif not ctx.engines.engine(TENANT).store.processed([str(events[0]["id"])]):
        for i in range(0, len(events), BATCH):
            items = parse_items(Batch(events[i : i + BATCH], single=False), strict_fields=True)
            rejected += sum(isinstance(r, Rejected) for r in ctx.ingest(TENANT, items))
    child_page = _link_family(ctx, parent_user.id, scenario.victim)
    alerts = Counter(a.kind for a in ctx.alerts.alerts(TENANT, AlertQuery(), limit=10_000))
    conv = next(
        (c.conversation.id for c in scenario.conversations if scenario.groomer in c.conversation.authors
         and scenario.victim in c.conversation.authors),
        None,
    )  # fmt: skip
    return DemoInfo(
        url=url,
        tenant=TENANT,
        api_key=new.key,
        admin=admin_p,
        moderator=moderator,
        parent=parent,
        events=len(events),
        rejected=rejected,
        alerts=dict(alerts),
        groomer=scenario.groomer,
        victim=scenario.victim,
        grooming_conversation=conv,
        mass_contact=scenario.mass_contact,
        child_page=f"{url}{child_page}",
    )


def _link_family(ctx: ServiceContext, parent: str, child: str) -> str:
    """The demo parent invites the groomed child, who accepts; returns a day-long child page link."""
    from safeguarding.service import family

    if not any(lk.parent == parent for lk in family.store(ctx).links(TENANT, child=child)):
        inv = family.invite(ctx, TENANT, parent, child, by="demo")
        family.answer_invitation(ctx, TENANT, child, str(inv["id"]), True)
    token, _ = family.issue_child_token(ctx, TENANT, child, 24 * 60)
    return f"/child/{token}"


def write_credentials(info: DemoInfo, path: Path) -> None:
    """Write the demo credentials as JSON, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(info.credentials_json())
    tmp.chmod(0o600)
    tmp.replace(path)
