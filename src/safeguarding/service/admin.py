"""Managing the deployment: platforms (tenants), their API keys and webhooks, people, parent links.

These are the use cases behind the ``/v1/admin`` and ``/v1/auth`` routes and ``serve --demo``; the
routes only check permissions (the table) and shape responses.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from safeguarding.errors import AuthenticationRequired, ConflictError, InputError, NotFoundError
from safeguarding.service.auth import NewApiKey, new_api_key
from safeguarding.service.context import ServiceContext
from safeguarding.service.permissions import Role
from safeguarding.service.webhooks import new_webhook_secret
from safeguarding.store.tenancy import ApiKeyRecord, SessionRecord, TenantRecord, UserRecord
from safeguarding.store.tenant import TENANT_ID

log = logging.getLogger(__name__)
MIN_PASSWORD = 12


def require_tenant(ctx: ServiceContext, tenant: str) -> TenantRecord:
    rec = ctx.tenancy.tenant(tenant)
    if rec is None:
        raise NotFoundError(f"no platform {tenant!r}")
    return rec


def create_tenant(ctx: ServiceContext, tenant: str, name: str) -> TenantRecord:
    if not TENANT_ID.match(tenant):
        raise InputError(f"invalid platform id {tenant!r}: 1-32 of a-z, 0-9 and inner '-'")
    rec = TenantRecord(tenant, name, ctx.clock.now())
    ctx.tenancy.add_tenant(rec)
    log.info("platform %s created", tenant)
    return rec


def issue_api_key(
    ctx: ServiceContext, tenant: str, name: str, rate_limit: float | None = None
) -> tuple[NewApiKey, ApiKeyRecord]:
    require_tenant(ctx, tenant)
    new = new_api_key()
    rec = ApiKeyRecord(new.id, tenant, name, new.secret_hash, ctx.clock.now(), rate_limit=rate_limit)
    ctx.tenancy.add_api_key(rec)
    log.info("API key %s issued for platform %s", new.id, tenant)
    return new, rec


def _key(ctx: ServiceContext, tenant: str, key_id: str) -> ApiKeyRecord:
    rec = ctx.tenancy.api_key(key_id)
    if rec is None or rec.tenant != tenant:
        raise NotFoundError(f"no API key {key_id!r} for platform {tenant!r}")
    return rec


def rotate_api_key(
    ctx: ServiceContext, tenant: str, key_id: str, grace_hours: float
) -> tuple[NewApiKey, ApiKeyRecord]:
    """A new key with the old one's name and limit; the old one keeps working for ``grace_hours``."""
    old = _key(ctx, tenant, key_id)
    if not old.usable(ctx.clock.now()):
        raise ConflictError(f"API key {key_id!r} is already revoked or expired")
    new, rec = issue_api_key(ctx, tenant, old.name, old.rate_limit)
    lapse = ctx.clock.now() + timedelta(hours=grace_hours)
    if old.expires_at is None or lapse < old.expires_at:
        ctx.tenancy.end_api_key(tenant, key_id, expires_at=lapse)
    ctx.auth.forget()
    return new, rec


def revoke_api_key(ctx: ServiceContext, tenant: str, key_id: str) -> None:
    _key(ctx, tenant, key_id)
    ctx.tenancy.end_api_key(tenant, key_id, revoked_at=ctx.clock.now())
    ctx.auth.forget()
    log.info("API key %s of platform %s revoked", key_id, tenant)


def set_webhook(ctx: ServiceContext, tenant: str, url: str | None) -> str | None:
    """Set (or with None, remove) the alert webhook; returns the new signing secret."""
    require_tenant(ctx, tenant)
    if url is None:
        ctx.tenancy.set_webhook(tenant, None, None)
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError("the webhook URL must be an absolute http:// or https:// URL")
    secret = new_webhook_secret()
    ctx.tenancy.set_webhook(tenant, url, secret)
    return secret


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")


def create_user(
    ctx: ServiceContext, tenant: str | None, email: str, password: str, role: Role, display_name: str
) -> UserRecord:
    if role not in (Role.ADMIN, Role.MODERATOR, Role.PARENT):
        raise InputError(f"people are admins, moderators or parents, not {role.value!r}")
    if tenant is None and role is not Role.ADMIN:
        raise InputError("moderators and parents belong to a platform")
    if tenant is not None:
        require_tenant(ctx, tenant)
    check_password(password)
    rec = UserRecord(
        id="u_" + secrets.token_hex(8),
        tenant=tenant,
        email=email.strip().lower(),
        display_name=display_name,
        role=role.value,
        password_hash=ctx.passwords.hash(password),
        created_at=ctx.clock.now(),
    )
    ctx.tenancy.add_user(rec)
    log.info("%s %s created", role.value, rec.id)
    return rec


def ensure_admin(ctx: ServiceContext, email: str, password: str) -> UserRecord:
    """The deployment admin from the environment: created if absent, its password kept in step."""
    existing = ctx.tenancy.user_by_email(email.strip().lower())
    if existing is None:
        return create_user(ctx, None, email, password, Role.ADMIN, "Administrator")
    if existing.role != Role.ADMIN.value or existing.tenant is not None:
        raise ConflictError(f"{email!r} exists and is not a deployment admin")
    if not ctx.passwords.verify(existing.password_hash, password):
        check_password(password)
        ctx.tenancy.set_password(existing.id, ctx.passwords.hash(password))
        ctx.tenancy.end_sessions_of(existing.id)
    return existing


def link_parent(ctx: ServiceContext, tenant: str, parent: str, child: str, by: str = "admin") -> None:
    """A direct link (under-13s only; older children accept an invitation): see :mod:`.family`."""
    from safeguarding.service import family

    family.link_direct(ctx, tenant, parent, child, by)


def unlink_parent(ctx: ServiceContext, tenant: str, parent: str, child: str, by: str = "admin") -> None:
    from safeguarding.service import family

    family.unlink(ctx, tenant, parent, child, by)


def sign_in(ctx: ServiceContext, email: str, password: str) -> tuple[str, SessionRecord, UserRecord]:
    """Check the password and open a session; the same refusal whether the email exists or not."""
    user = ctx.tenancy.user_by_email(email.strip().lower())
    ok = ctx.passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok or user.disabled_at is not None:
        raise AuthenticationRequired("wrong email or password")
    if ctx.passwords.needs_rehash(user.password_hash):
        ctx.tenancy.set_password(user.id, ctx.passwords.hash(password))
    token, session = ctx.auth.start_session(user)
    log.info("%s %s signed in", user.role, user.id)
    return token, session, user
