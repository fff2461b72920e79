"""The service's own rows: tenants, API keys, people, sessions and parent links (revision 0002).

Plain data in, frozen records out; no hashing or policy here (that is :mod:`safeguarding.service.auth`).
Secrets are never stored: API keys and session tokens by their sha256, passwords by their argon2 hash.
The webhook secret is the exception, because the service must sign with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text, update

from safeguarding.errors import NotFoundError
from safeguarding.store import schema as t
from safeguarding.store.rows import RowStore


@dataclass(frozen=True, slots=True)
class TenantRecord:
    id: str
    name: str
    created_at: datetime
    webhook_url: str | None = None
    webhook_secret: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    tenant: str
    name: str
    secret_hash: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    rate_limit: float | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A person who signs in. ``tenant`` None with role ``admin``: a deployment-wide admin."""

    id: str
    tenant: str | None
    email: str
    display_name: str
    role: str
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user_id: str
    created_at: datetime
    expires_at: datetime


class TenancyStore(RowStore):
    """Tenants, keys, people, sessions and parent links over the same database as the engine."""

    # -- tenants ---------------------------------------------------------------------------------------
    def add_tenant(self, rec: TenantRecord) -> None:
        self._write(
            insert(t.tenants).values(
                id=rec.id,
                name=rec.name,
                created_at=rec.created_at,
                webhook_url=rec.webhook_url,
                webhook_secret=rec.webhook_secret,
                write_epoch=0,
            ),
            f"tenant {rec.id!r}",
        )

    def tenant(self, tenant_id: str) -> TenantRecord | None:
        r = self._one(select(t.tenants).where(t.tenants.c.id == tenant_id))
        return _tenant(r) if r is not None else None

    def tenants(self) -> list[TenantRecord]:
        return [_tenant(r) for r in self._all(select(t.tenants).order_by(t.tenants.c.id))]

    def set_webhook(self, tenant_id: str, url: str | None, secret: str | None) -> None:
        n = self._write(
            update(t.tenants)
            .where(t.tenants.c.id == tenant_id)
            .values(webhook_url=url, webhook_secret=secret),
            "webhook",
        )
        if n == 0:
            raise NotFoundError(f"no tenant {tenant_id!r}")

    # -- API keys --------------------------------------------------------------------------------------
    def add_api_key(self, rec: ApiKeyRecord) -> None:
        self._write(
            insert(t.api_keys).values(
                id=rec.id,
                tenant=rec.tenant,
                name=rec.name,
                secret_hash=rec.secret_hash,
                created_at=rec.created_at,
                expires_at=rec.expires_at,
                revoked_at=rec.revoked_at,
                rate_limit=rec.rate_limit,
            ),
            f"API key {rec.id!r}",
        )

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        r = self._one(select(t.api_keys).where(t.api_keys.c.id == key_id))
        return _api_key(r) if r is not None else None

    def api_keys(self, tenant: str) -> list[ApiKeyRecord]:
        c = t.api_keys.c
        return [
            _api_key(r)
            for r in self._all(select(t.api_keys).where(c.tenant == tenant).order_by(c.created_at))
        ]

    def end_api_key(self, tenant: str, key_id: str, *, revoked_at: datetime | None = None,
                    expires_at: datetime | None = None) -> None:  # fmt: skip
        """Revoke a key now (``revoked_at``) or let it lapse at ``expires_at`` (a rotation's grace period)."""
        c = t.api_keys.c
        values: dict[str, Any] = {}
        if revoked_at is not None:
            values["revoked_at"] = revoked_at
        if expires_at is not None:
            values["expires_at"] = expires_at
        n = self._write(update(t.api_keys).where(c.id == key_id, c.tenant == tenant).values(**values), "key")
        if n == 0:
            raise NotFoundError(f"no API key {key_id!r} for tenant {tenant!r}")

    def touch_api_key(self, key_id: str, at: datetime) -> None:
        self._write(update(t.api_keys).where(t.api_keys.c.id == key_id).values(last_used_at=at), "key")

    # -- people ----------------------------------------------------------------------------------------
    def add_user(self, rec: UserRecord) -> None:
        self._write(
            insert(t.users).values(
                id=rec.id,
                tenant=rec.tenant,
                email=rec.email,
                display_name=rec.display_name,
                role=rec.role,
                password_hash=rec.password_hash,
                created_at=rec.created_at,
                disabled_at=rec.disabled_at,
            ),
            f"a user with email {rec.email!r}",
        )

    def user(self, user_id: str) -> UserRecord | None:
        r = self._one(select(t.users).where(t.users.c.id == user_id))
        return _user(r) if r is not None else None

    def user_by_email(self, email: str) -> UserRecord | None:
        r = self._one(select(t.users).where(t.users.c.email == email))
        return _user(r) if r is not None else None

    def users(self, tenant: str | None) -> list[UserRecord]:
        c = t.users.c
        where = c.tenant.is_(None) if tenant is None else c.tenant == tenant
        return [_user(r) for r in self._all(select(t.users).where(where).order_by(c.created_at, c.id))]

    def set_password(self, user_id: str, password_hash: str) -> None:
        self._write(
            update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash), "user"
        )

    # -- sessions --------------------------------------------------------------------------------------
    def add_session(self, rec: SessionRecord) -> None:
        self._write(
            insert(t.sessions).values(
                id=rec.id, user_id=rec.user_id, created_at=rec.created_at, expires_at=rec.expires_at
            ),
            "session",
        )

    def session(self, session_id: str) -> SessionRecord | None:
        r = self._one(select(t.sessions).where(t.sessions.c.id == session_id))
        return SessionRecord(r.id, r.user_id, r.created_at, r.expires_at) if r is not None else None

    def end_session(self, session_id: str) -> None:
        self._write(delete(t.sessions).where(t.sessions.c.id == session_id), "session")

    def end_sessions_of(self, user_id: str) -> None:
        self._write(delete(t.sessions).where(t.sessions.c.user_id == user_id), "session")

    def purge_sessions(self, now: datetime) -> int:
        return self._write(delete(t.sessions).where(t.sessions.c.expires_at < now), "session")

    # -- parent links (made and ended by safeguarding.store.families) -------------------------------
    def children_of(self, parent: str) -> tuple[str, ...]:
        c = t.parent_links.c
        rows = self._all(select(c.child).where(c.parent == parent, c.removed_at.is_(None)).order_by(c.child))
        return tuple(r.child for r in rows)

    # -- coordination of several worker processes (safeguarding.service.engines) -------------------------
    def bump_epoch(self, tenant: str) -> int:
        """Add one to the tenant's write epoch and return the new value (committed at once)."""
        with self.sql.reader.connect() as conn:
            return _bump(conn, tenant)

    def epoch(self, tenant: str) -> int:
        r = self._one(select(t.tenants.c.write_epoch).where(t.tenants.c.id == tenant))
        return int(r[0]) if r is not None else 0

    @contextmanager
    def writing(self, tenant: str) -> Iterator[WriteTurn]:
        """Hold the tenant's writer lock (a PostgreSQL advisory lock) and bump its epoch before and after.

        The first bump is committed before the block runs, so even a crash inside it tells the other
        workers that their cached state may be stale; the second marks the write as finished.
        """
        key = lock_key(tenant)
        with self.sql.reader.connect() as conn:  # autocommit: each bump is committed at once
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                turn = WriteTurn(_bump(conn, tenant))
                yield turn
                turn.after = _bump(conn, tenant)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


@dataclass
class WriteTurn:
    before: int
    """The epoch after the opening bump (the previous writer left ``before - 1``)."""
    after: int | None = None


def lock_key(tenant: str) -> int:
    """A stable signed 64-bit advisory-lock key for the tenant's writer lock."""
    digest = hashlib.sha256(f"safeguarding:writer:{tenant}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _bump(conn: Connection, tenant: str) -> int:
    c = t.tenants.c
    stmt = (
        update(t.tenants).where(c.id == tenant).values(write_epoch=c.write_epoch + 1).returning(c.write_epoch)
    )
    value = conn.execute(stmt).scalar_one_or_none()
    if value is None:
        raise NotFoundError(f"no tenant {tenant!r}")
    return int(value)


def _tenant(r: Any) -> TenantRecord:
    return TenantRecord(r.id, r.name, r.created_at, r.webhook_url, r.webhook_secret)


def _api_key(r: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        r.id, r.tenant, r.name, r.secret_hash, r.created_at, r.expires_at, r.revoked_at, r.last_used_at,
        r.rate_limit,
    )  # fmt: skip


def _user(r: Any) -> UserRecord:
    return UserRecord(
        r.id, r.tenant, r.email, r.display_name, r.role, r.password_hash, r.created_at, r.disabled_at
    )
