"""SQLAlchemy Core tables of the engine's state (created by the Alembic migrations, never by ``create_all``).

Every table is prefixed ``sg_`` so the engine can share a database with a platform's own tables. Times
are stored in UTC and always come back timezone-aware (SQLite has no zone type).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
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
)

ID = 256


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
)
Index("ix_sg_outbox_pending", outbox.c.delivered_at, outbox.c.id)
Index("ix_sg_counters_bucket", counters.c.bucket)
Index("ix_sg_counter_members_bucket", counter_members.c.bucket)
