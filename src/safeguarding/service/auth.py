"""Who is asking: platform API keys, people's sign-in sessions, passwords and CSRF tokens.

- **API keys** (``sgk_<id>_<secret>``) are stored as the sha256 of the secret: the secret is 256 random
  bits, so a fast hash is as safe as a slow one and keeps the hot path fast. Rotating a key issues a new
  one and lets the old one lapse after a grace period.
- **Passwords** are hashed with argon2id (argon2-cffi's maintained defaults); a sign-in for an unknown
  email still spends one verification, so timing does not tell which emails exist.
- **Sessions** are random tokens (``sgs_...``) stored as their sha256 and sent either as
  ``Authorization: Bearer`` (scripts) or as an HttpOnly, SameSite=Lax cookie (browsers). A cookie-borne
  session must send the CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``) on every unsafe
  method; it is derived from the session token, so nothing more is stored.

Looked-up credentials are cached per worker for ``auth_cache_seconds``; a revocation in this worker takes
effect at once, in other workers within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from safeguarding.engine.clock import Clock
from safeguarding.errors import AuthenticationRequired
from safeguarding.service.permissions import Actor, Role
from safeguarding.store.tenancy import ApiKeyRecord, SessionRecord, TenancyStore, UserRecord

API_KEY_PREFIX = "sgk_"
SESSION_PREFIX = "sgs_"
CHILD_PREFIX = "sgc_"
"""A child's page token (:func:`safeguarding.service.family.issue_child_token`)."""
SESSION_COOKIE = "sg_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: str
    """The whole key, shown once."""
    id: str
    secret_hash: str


def new_api_key() -> NewApiKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(f"{API_KEY_PREFIX}{key_id}_{secret}", key_id, sha256_hex(secret))


def split_api_key(token: str) -> tuple[str, str] | None:
    if not token.startswith(API_KEY_PREFIX):
        return None
    key_id, sep, secret = token[len(API_KEY_PREFIX) :].partition("_")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def csrf_for(session_token: str) -> str:
    """The CSRF token that goes with a session (derived, so nothing more is stored)."""
    return hmac.new(session_token.encode(), b"safeguarding-csrf-v1", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_for(session_token), given)


class Passwords:
    """argon2id hashing with the library's current defaults (memory-hard, salted)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


class Authenticator:
    """Turns a bearer token or a session cookie into an :class:`Actor` (or refuses with 401)."""

    def __init__(
        self, tenancy: TenancyStore, clock: Clock, *, cache_seconds: float, session_hours: float
    ) -> None:
        self.tenancy = tenancy
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.session_hours = session_hours
        self._cache: dict[str, tuple[float, Actor]] = {}
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- lookup ------------------------------------------------------------------------------------------
    def cached(self, token: str, *, via_cookie: bool = False) -> Actor | None:
        """The actor for ``token`` if this worker looked it up recently (no I/O), else None."""
        with self._lock:
            hit = self._cache.get(sha256_hex(token))
        if hit is None or hit[0] <= time.monotonic():
            return None
        return replace(hit[1], via_cookie=True) if via_cookie else hit[1]

    def actor(self, token: str, *, via_cookie: bool = False) -> Actor:
        """The actor behind ``token`` (API key or session token); :class:`AuthenticationRequired` if none."""
        digest = sha256_hex(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            actor = hit[1]
        elif token.startswith(CHILD_PREFIX):
            actor = self._child_actor(token)  # never cached: short-lived, and checked to the second
        else:
            actor = self._lookup(token)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = (now + self.cache_seconds, actor)
        if via_cookie:
            actor = replace(actor, via_cookie=True)
        return actor

    def _lookup(self, token: str) -> Actor:
        parts = split_api_key(token)
        if parts is not None:
            return self._api_key_actor(*parts)
        if token.startswith(SESSION_PREFIX):
            return self._session_actor(sha256_hex(token))
        raise AuthenticationRequired("unrecognised credentials: send 'Authorization: Bearer <API key>'")

    def _api_key_actor(self, key_id: str, secret: str) -> Actor:
        rec = self.tenancy.api_key(key_id)
        now = self.clock.now()
        if rec is None or not hmac.compare_digest(rec.secret_hash, sha256_hex(secret)):
            raise AuthenticationRequired("unknown API key")
        if not rec.usable(now):
            raise AuthenticationRequired("this API key was revoked or has expired")
        self._touch(rec, now)
        return Actor(
            Role.PLATFORM, tenant=rec.tenant, key_id=rec.id, name=rec.name, rate_limit=rec.rate_limit
        )

    def _child_actor(self, token: str) -> Actor:
        from safeguarding.store.families import FamilyStore

        owner = FamilyStore(self.tenancy.sql).token_owner(token, self.clock.now())
        if owner is None:
            raise AuthenticationRequired(
                "this link to the child's page has expired; open it again from the app"
            )
        return Actor(Role.CHILD, tenant=owner[0], account=owner[1], name="child")

    def _touch(self, rec: ApiKeyRecord, now: datetime) -> None:
        """Record use at most once a minute per key and worker (so rotations can see old keys idle)."""
        mono = time.monotonic()
        if mono - self._touched.get(rec.id, -1e9) >= 60:
            self._touched[rec.id] = mono
            self.tenancy.touch_api_key(rec.id, now)

    def _session_actor(self, session_id: str) -> Actor:
        sess = self.tenancy.session(session_id)
        if sess is None or sess.expires_at <= self.clock.now():
            raise AuthenticationRequired("not signed in, or the session has ended")
        user = self.tenancy.user(sess.user_id)
        if user is None or user.disabled_at is not None:
            raise AuthenticationRequired("this account cannot sign in")
        return self.person(user, session_id)

    def person(self, user: UserRecord, session_id: str | None = None) -> Actor:
        role = Role(user.role)
        children = frozenset(self.tenancy.children_of(user.id)) if role is Role.PARENT else frozenset()
        return Actor(
            role, tenant=user.tenant, user_id=user.id, name=user.display_name, children=children,
            session_id=session_id,
        )  # fmt: skip

    def forget_user(self, user_id: str) -> None:
        """Drop this worker's cached sessions of one person (their linked children changed)."""
        with self._lock:
            for k in [k for k, (_, a) in self._cache.items() if a.user_id == user_id]:
                del self._cache[k]

    def forget(self, token: str | None = None) -> None:
        """Drop cached credentials (one token, or all after a revocation)."""
        with self._lock:
            if token is None:
                self._cache.clear()
            else:
                self._cache.pop(sha256_hex(token), None)

    # -- sessions --------------------------------------------------------------------------------------
    def start_session(self, user: UserRecord) -> tuple[str, SessionRecord]:
        token = new_session_token()
        now = self.clock.now()
        rec = SessionRecord(sha256_hex(token), user.id, now, now + timedelta(hours=self.session_hours))
        self.tenancy.add_session(rec)
        return token, rec

    def end_session(self, token: str) -> None:
        self.tenancy.end_session(sha256_hex(token))
        self.forget(token)
