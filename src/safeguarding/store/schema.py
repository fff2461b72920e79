"""SQLAlchemy Core tables of the engine's state (created by the Alembic migrations, never by ``create_all``).

Every table is prefixed ``sg_`` so the engine can share a database with a platform's own tables. Times
are stored in UTC and always come back timezone-aware (SQLite has no zone type).

The engine's tables come first; the service's (tenants, API keys, people, sessions, parent links, the
alert index) follow. The service keeps tenants apart in the engine's tables by namespacing every id
``<tenant>/<id>`` (:mod:`safeguarding.store.tenant`), which is why ids are 320 characters wide: a
platform's 256-character id plus the tenant prefix.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

ID = 320
"""Width of id columns: 256 characters from the platform + ``<tenant>/`` (revision 0002 widened them)."""
TENANT = 32


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime on every database: stored in UTC, read back with ``tzinfo=UTC``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

events = Table(
    "sg_events",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("processed_at", UTCDateTime(), nullable=False),
    Column("outcome", Text, nullable=False),
)

accounts = Table(
    "sg_accounts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("age_band", String(16), nullable=False),
    Column("birth_date", Date, nullable=True),
    Column("assurance", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=True),
    Column("country", String(2), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("risk_alerted", Boolean, nullable=False, default=False),
    Column("pattern_alert_until", UTCDateTime(), nullable=True),
    # revision 0006 (families)
    Column("display_name", String(100), nullable=True),
    Column("controls", Integer, nullable=False, default=0, server_default="0"),
)

edges = Table(
    "sg_edges",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("src", String(ID), primary_key=True),
    Column("dst", String(ID), primary_key=True),
    Column("since", UTCDateTime(), nullable=False),
)

counters = Table(
    "sg_counters",
    metadata,
    Column("account", String(ID), primary_key=True),
    Column("counter", String(64), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
)

counter_members = Table(
    "sg_counter_members",
    metadata,
    Column("account", String(ID), primary_key=True),
    Column("counter", String(64), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("member", String(ID), primary_key=True),
)

conversations = Table(
    "sg_conversations",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("detector_version", String(64), nullable=False),
    Column("detector_state", LargeBinary, nullable=True),
    Column("messages", Integer, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("alerted", Boolean, nullable=False),
    Column("risk", Float, nullable=False),
    Column("suspect", String(ID), nullable=True),
    Column("stages", String(256), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=True),
)

outbox = Table(
    "sg_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(ID + 16), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("failed_at", UTCDateTime(), nullable=True),
    Column("last_error", String(500), nullable=True),
)
Index("ix_sg_outbox_pending", outbox.c.delivered_at, outbox.c.id)
Index("ix_sg_counters_bucket", counters.c.bucket)
Index("ix_sg_counter_members_bucket", counter_members.c.bucket)

# -- the service (revision 0002) ------------------------------------------------------------------------

tenants = Table(
    "sg_tenants",
    metadata,
    Column("id", String(TENANT), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("webhook_url", String(2000), nullable=True),
    Column("webhook_secret", String(128), nullable=True),
    # bumped around every batch a worker writes: other workers then drop their cached engine state
    Column("write_epoch", BigInteger, nullable=False, default=0),
    Column("family_settings", Text, nullable=True),  # revision 0006: FamilySettings as JSON
)

api_keys = Table(
    "sg_api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(TENANT), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("last_used_at", UTCDateTime(), nullable=True),
    Column("rate_limit", Float, nullable=True),
)

users = Table(
    "sg_users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(TENANT), nullable=True, index=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime(), nullable=True),
)

sessions = Table(
    "sg_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

parent_links = Table(
    "sg_parent_links",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("parent", String(32), primary_key=True),
    Column("child", String(ID), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("removed_at", UTCDateTime(), nullable=True),
    # revision 0006: how the link was made ("invitation" the child accepted, or "direct" for an under-13)
    Column("via", String(16), nullable=False, default="direct"),
    Column("removed_by", String(64), nullable=True),
)

alerts = Table(
    "sg_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("key", String(ID + 16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(ID), nullable=True),
    Column("conversation", String(ID), nullable=True),
    Column("risk", Float, nullable=False),
    Column("stages", String(256), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("event_id", String(ID), nullable=False),
    Column("event_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False, default="open"),
    UniqueConstraint("tenant", "key", name="uq_sg_alerts_tenant_key"),
)
Index("ix_sg_alerts_tenant_id", alerts.c.tenant, alerts.c.id)
Index("ix_sg_alerts_tenant_conversation", alerts.c.tenant, alerts.c.conversation)
Index("ix_sg_alerts_tenant_subject", alerts.c.tenant, alerts.c.subject)
