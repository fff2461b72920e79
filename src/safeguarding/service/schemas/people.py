"""Bodies for people (sign-in) and for admins managing platforms, keys, webhooks, people and links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Email = Annotated[
    str, StringConstraints(min_length=3, max_length=320, strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+$")
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- signing in ------------------------------------------------------------------------------------------


class LoginIn(_In):
    email: Email
    password: Password


class MeOut(_Out):
    id: str
    role: str
    tenant: str | None
    display_name: str
    children: list[str] = Field(default=[], description="for a parent: the linked children's accounts")
    csrf_token: str | None = Field(default=None, description="send as X-CSRF-Token with the session cookie")


class SessionOut(_Out):
    token: str = Field(description="a bearer token for scripts; browsers get the same as an HttpOnly cookie")
    csrf_token: str
    expires_at: datetime
    user: MeOut


# -- platforms (tenants) ---------------------------------------------------------------------------------


class TenantIn(_In):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")]
    name: Name


class TenantOut(_Out):
    id: str
    name: str
    created_at: datetime
    webhook_url: str | None


# -- API keys --------------------------------------------------------------------------------------------


class ApiKeyIn(_In):
    name: Name
    rate_limit: float | None = Field(
        default=None, gt=0, le=1_000_000, description="requests/s; default: the service's"
    )


class ApiKeyOut(_Out):
    id: str
    tenant: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    rate_limit: float | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="the whole key: shown this once, stored only as a hash")


class RotateIn(_In):
    grace_hours: float = Field(
        default=24.0, ge=0, le=24 * 90, description="how long the old key keeps working"
    )


# -- webhook ----------------------------------------------------------------------------------------------


class WebhookIn(_In):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] | None


class WebhookOut(_Out):
    url: str | None
    secret: str | None = Field(description="the signing secret: shown this once")


# -- people and parent links ------------------------------------------------------------


class UserIn(_In):
    email: Email
    password: Password
    role: Literal["admin", "moderator", "parent"]
    display_name: Name


class UserOut(_Out):
    id: str
    tenant: str | None
    email: str
    role: str
    display_name: str
    created_at: datetime


class LinkIn(_In):
    parent: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="a parent's user id"
    )
    child: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="the child's account id on the platform"
    )
