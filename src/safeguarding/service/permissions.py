"""The one permissions table: ``allowed(actor, action, resource) -> Permission(allowed, reason)``.

Every route declares the :class:`Act` it needs and nothing else; this module alone decides. A missing
entry is a denial (fail closed), and every answer names why, so a 403 can say it and a test can check it.

::

    action               admin*   moderator  parent            platform key  anonymous
    health:read          yes      yes        yes               yes           yes
    metrics:read         yes      yes        yes               yes           yes   (aggregates only)
    docs:read            yes      yes        yes               yes           yes
    session:create       yes      yes        yes               yes           yes   (signing in)
    session:read         yes      yes        yes               -             -
    session:delete       yes      yes        yes               -             -
    events:write         -        -          -                 own tenant    -
    decisions:read       -        -          -                 own tenant    -
    alerts:read          tenant   own tenant -                 own tenant    -
    conversations:read   tenant   own tenant -                 own tenant    -
    accounts:read        tenant   own tenant linked children   own tenant    -
    tenants:manage       deploy   -          -                 -             -
    api_keys:manage      tenant   -          -                 -             -
    users:manage         tenant   -          -                 -             -
    webhook:manage       tenant   -          -                 -             -
    parent_links:manage  tenant   -          -                 own tenant    -
    console:read         tenant   own tenant -                 -             -     (queue, cases)
    cases:act            tenant   own tenant -                 -             -     (claim, actions, appeals)
    referrals:export     tenant   own tenant -                 -             -
    stats:read           tenant   own tenant -                 own tenant    -     (aggregates)
    e2ee:write           -        -          -                 own tenant    -     (for its signed-in devices)
    e2ee:read            -        -          -                 own tenant    -     (directory, inboxes)
    e2ee_reports:read    tenant   own tenant -                 -             -     (revealed report text)
    family:read          -        -          own, linked child -             -     (parent view)
    family:manage        -        -          linked children   -             -     (controls, approvals)
    family_settings:manage tenant -          -                 -             -
    family_prefs:manage  -        -          their own         -             -     (weekly email)
    child:read           -        -          -                 own tenant    -     child: their own account
    child:act            -        -          -                 own tenant    -     child: their own account
    child_views:create   -        -          -                 own tenant    -     (child page links)

    * an admin with no tenant is a deployment admin (every tenant, and tenants:manage); an admin of a
      tenant ("tenant") manages that tenant only.

    A child is not a person who signs in here: the platform opens the child's page with a short-lived
    token (``child_views:create``), and that token acts for exactly one account (role ``child``).

Data routes are tenant-scoped twice over: here (the resource's tenant must be the actor's), and in
storage (every id is namespaced by tenant, :mod:`safeguarding.store.tenant`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    PARENT = "parent"
    PLATFORM = "platform"
    """A platform's API key."""
    CHILD = "child"
    """A child's page token: acts for one platform account, on the family routes only."""
    ANONYMOUS = "anonymous"


PERSON_ROLES = frozenset({Role.ADMIN, Role.MODERATOR, Role.PARENT})


class Act(StrEnum):
    """What a route does; the names are stable (they appear in 403 responses and in the docs)."""

    HEALTH_READ = "health:read"
    METRICS_READ = "metrics:read"
    DOCS_READ = "docs:read"
    SESSION_CREATE = "session:create"
    SESSION_READ = "session:read"
    SESSION_DELETE = "session:delete"
    EVENTS_WRITE = "events:write"
    DECISIONS_READ = "decisions:read"
    ALERTS_READ = "alerts:read"
    CONVERSATIONS_READ = "conversations:read"
    ACCOUNTS_READ = "accounts:read"
    TENANTS_MANAGE = "tenants:manage"
    API_KEYS_MANAGE = "api_keys:manage"
    USERS_MANAGE = "users:manage"
    WEBHOOK_MANAGE = "webhook:manage"
    PARENT_LINKS_MANAGE = "parent_links:manage"
    CONSOLE_READ = "console:read"
    CASES_ACT = "cases:act"
    REFERRALS_EXPORT = "referrals:export"
    STATS_READ = "stats:read"
    E2EE_WRITE = "e2ee:write"
    E2EE_READ = "e2ee:read"
    E2EE_REPORTS_READ = "e2ee_reports:read"
    FAMILY_READ = "family:read"
    FAMILY_MANAGE = "family:manage"
    FAMILY_SETTINGS_MANAGE = "family_settings:manage"
    FAMILY_PREFS_MANAGE = "family_prefs:manage"
    CHILD_READ = "child:read"
    CHILD_ACT = "child:act"
    CHILD_VIEWS_CREATE = "child_views:create"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking. ``tenant`` None: no tenant (anonymous, or a deployment admin)."""

    role: Role
    tenant: str | None = None
    user_id: str | None = None
    key_id: str | None = None
    name: str = ""
    children: frozenset[str] = field(default_factory=frozenset)
    """For a parent: the platform accounts of the children linked to them."""
    session_id: str | None = None
    via_cookie: bool = False
    """Authenticated by the session cookie: unsafe methods then need the CSRF token."""
    rate_limit: float | None = None
    """An API key's own request rate limit (None: the service default)."""
    account: str | None = None
    """For a child's page token: the one platform account it acts for."""

    @property
    def label(self) -> str:
        """For logs: role and id, never an email or a child's identifier."""
        who = self.user_id or self.key_id or "-"
        return f"{self.role.value}:{who}"


ANONYMOUS = Actor(Role.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class Resource:
    """What is acted on: the tenant it belongs to and, for account routes, the account."""

    tenant: str | None = None
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Permission:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


Check = Callable[[Actor, Resource], Permission]


def _yes(reason: str) -> Check:
    return lambda actor, resource: Permission(True, reason)


def _own_tenant(what: str) -> Check:
    def check(actor: Actor, resource: Resource) -> Permission:
        if actor.tenant is None:
            return Permission(False, f"{actor.role.value} has no platform")
        if resource.tenant is not None and resource.tenant != actor.tenant:
            return Permission(False, f"a {actor.role.value} of one platform cannot {what} of another")
        return Permission(True, f"{what} of their own platform")

    return check


def _admin_scope(what: str) -> Check:
    def check(actor: Actor, resource: Resource) -> Permission:
        if actor.tenant is None:
            return Permission(True, f"a deployment admin may {what} of any platform")
        if resource.tenant is not None and resource.tenant != actor.tenant:
            return Permission(False, f"an admin of one platform cannot {what} of another")
        return Permission(True, f"an admin may {what} of their own platform")

    return check


def _deployment_admin(actor: Actor, resource: Resource) -> Permission:
    if actor.tenant is None:
        return Permission(True, "deployment admins manage platforms")
    return Permission(False, "only a deployment admin (one with no platform) manages platforms")


def _linked_child(actor: Actor, resource: Resource) -> Permission:
    if actor.tenant is None or (resource.tenant is not None and resource.tenant != actor.tenant):
        return Permission(False, "a parent sees only their own platform")
    if resource.account is not None and resource.account in actor.children:
        return Permission(True, "a parent may see a child linked to them")
    return Permission(False, "a parent can see only the children linked to them")


def _parent_family(actor: Actor, resource: Resource) -> Permission:
    """A parent's own overview (no account named), or one child linked to them."""
    if resource.account is None:
        if actor.tenant is None or (resource.tenant is not None and resource.tenant != actor.tenant):
            return Permission(False, "a parent sees only their own platform")
        return Permission(True, "a parent may see their own family overview")
    return _linked_child(actor, resource)


def _own_account(actor: Actor, resource: Resource) -> Permission:
    if actor.tenant is None or (resource.tenant is not None and resource.tenant != actor.tenant):
        return Permission(False, "a child's page belongs to one platform")
    if resource.account is not None and resource.account == actor.account:
        return Permission(True, "a child may see and act on their own account")
    return Permission(False, "a child's page acts only for that child's own account")


_EVERYONE = {r: _yes("open to everyone") for r in Role}
_PEOPLE = {r: _yes("any signed-in person") for r in PERSON_ROLES}
_OPEN: dict[Role, Check] = {r: _yes("open to everyone") for r in Role if r is not Role.CHILD}
"""Public routes: a child's page token is good for nothing but the child's own routes."""

TABLE: dict[Act, dict[Role, Check]] = {
    Act.HEALTH_READ: _EVERYONE,
    Act.METRICS_READ: {r: _yes("metrics hold aggregate counts only, no platform data") for r in Role},
    Act.DOCS_READ: _EVERYONE,
    Act.SESSION_CREATE: _OPEN,
    Act.SESSION_READ: _PEOPLE,
    Act.SESSION_DELETE: _PEOPLE,
    Act.EVENTS_WRITE: {Role.PLATFORM: _own_tenant("send events")},
    Act.DECISIONS_READ: {Role.PLATFORM: _own_tenant("ask for contact decisions")},
    Act.ALERTS_READ: {
        Role.PLATFORM: _own_tenant("read the alerts"),
        Role.MODERATOR: _own_tenant("read the alerts"),
        Role.ADMIN: _admin_scope("read the alerts"),
    },
    Act.CONVERSATIONS_READ: {
        Role.PLATFORM: _own_tenant("read conversation risk"),
        Role.MODERATOR: _own_tenant("read conversation risk"),
        Role.ADMIN: _admin_scope("read conversation risk"),
    },
    Act.ACCOUNTS_READ: {
        Role.PLATFORM: _own_tenant("read account risk"),
        Role.MODERATOR: _own_tenant("read account risk"),
        Role.ADMIN: _admin_scope("read account risk"),
        Role.PARENT: _linked_child,
    },
    Act.TENANTS_MANAGE: {Role.ADMIN: _deployment_admin},
    Act.API_KEYS_MANAGE: {Role.ADMIN: _admin_scope("manage the API keys")},
    Act.USERS_MANAGE: {Role.ADMIN: _admin_scope("manage the people")},
    Act.WEBHOOK_MANAGE: {Role.ADMIN: _admin_scope("manage the webhook")},
    Act.PARENT_LINKS_MANAGE: {
        Role.ADMIN: _admin_scope("link parents and children"),
        Role.PLATFORM: _own_tenant("link parents and children"),
    },
    Act.CONSOLE_READ: {
        Role.MODERATOR: _own_tenant("review the cases"),
        Role.ADMIN: _admin_scope("review the cases"),
    },
    Act.CASES_ACT: {
        Role.MODERATOR: _own_tenant("act on the cases"),
        Role.ADMIN: _admin_scope("act on the cases"),
    },
    Act.REFERRALS_EXPORT: {
        Role.MODERATOR: _own_tenant("export referrals"),
        Role.ADMIN: _admin_scope("export referrals"),
    },
    Act.STATS_READ: {
        Role.MODERATOR: _own_tenant("read the transparency statistics"),
        Role.ADMIN: _admin_scope("read the transparency statistics"),
        Role.PLATFORM: _own_tenant("read the transparency statistics"),
    },
    Act.E2EE_WRITE: {Role.PLATFORM: _own_tenant("relay its devices' encrypted uploads")},
    Act.E2EE_READ: {Role.PLATFORM: _own_tenant("fetch device keys and inboxes")},
    Act.E2EE_REPORTS_READ: {
        # the only message text an encrypted platform's server holds: moderators and admins, not keys
        Role.MODERATOR: _own_tenant("read verified reports"),
        Role.ADMIN: _admin_scope("read verified reports"),
    },
    Act.FAMILY_READ: {Role.PARENT: _parent_family},
    Act.FAMILY_MANAGE: {Role.PARENT: _linked_child},
    Act.FAMILY_SETTINGS_MANAGE: {Role.ADMIN: _admin_scope("set what parents may do and see")},
    Act.FAMILY_PREFS_MANAGE: {Role.PARENT: _parent_family},
    Act.CHILD_READ: {Role.PLATFORM: _own_tenant("read a child's view"), Role.CHILD: _own_account},
    Act.CHILD_ACT: {Role.PLATFORM: _own_tenant("act for a child"), Role.CHILD: _own_account},
    Act.CHILD_VIEWS_CREATE: {Role.PLATFORM: _own_tenant("open a child's page")},
}


def allowed(actor: Actor, action: Act, resource: Resource | None = None) -> Permission:
    """May ``actor`` do ``action`` to ``resource``? Always with a reason; no entry means no."""
    checks = TABLE.get(action)
    if checks is None:
        return Permission(False, f"no permission rule for {action.value!r}")
    check = checks.get(actor.role)
    if check is None:
        if actor.role is Role.ANONYMOUS:
            return Permission(False, f"{action.value} needs you to sign in or send an API key")
        return Permission(False, f"a {actor.role.value} may not {action.value}")
    return check(actor, resource or Resource())
