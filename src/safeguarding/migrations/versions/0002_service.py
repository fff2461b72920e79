"""The service: tenants, API keys, people and sessions, parent links, the alert index, webhook retries.

Also widens the engine's id columns from 256 to 320 characters on PostgreSQL (SQLite does not enforce
lengths), because the service namespaces every id as ``<tenant>/<id>`` and a platform may send ids of
up to 256 characters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_ID = 256
ID = 320
TENANT = 32

_WIDEN: tuple[tuple[str, str, int, bool], ...] = (
    # table, column, old width, nullable
    ("sg_events", "id", OLD_ID, False),
    ("sg_accounts", "id", OLD_ID, False),
    ("sg_edges", "src", OLD_ID, False),
    ("sg_edges", "dst", OLD_ID, False),
    ("sg_counters", "account", OLD_ID, False),
    ("sg_counter_members", "account", OLD_ID, False),
    ("sg_counter_members", "member", OLD_ID, False),
    ("sg_conversations", "id", OLD_ID, False),
    ("sg_conversations", "suspect", OLD_ID, True),
    ("sg_outbox", "key", OLD_ID + 16, False),
)


def _ts(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, old, nullable in _WIDEN:
            new = ID + 16 if table == "sg_outbox" else ID
            op.alter_column(
                table, column, type_=sa.String(new), existing_type=sa.String(old), existing_nullable=nullable
            )
    with op.batch_alter_table("sg_outbox") as batch:
        batch.add_column(_ts("next_attempt_at", True))
        batch.add_column(_ts("failed_at", True))
        batch.add_column(sa.Column("last_error", sa.String(500), nullable=True))

    op.create_table(
        "sg_tenants",
        sa.Column("id", sa.String(TENANT), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at", False),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
        sa.Column("webhook_secret", sa.String(128), nullable=True),
        sa.Column("write_epoch", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "sg_api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        _ts("created_at", False),
        _ts("expires_at", True),
        _ts("revoked_at", True),
        _ts("last_used_at", True),
        sa.Column("rate_limit", sa.Float, nullable=True),
    )
    op.create_index("ix_sg_api_keys_tenant", "sg_api_keys", ["tenant"])
    op.create_table(
        "sg_users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(TENANT), nullable=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        _ts("created_at", False),
        _ts("disabled_at", True),
    )
    op.create_index("ix_sg_users_tenant", "sg_users", ["tenant"])
    op.create_table(
        "sg_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        _ts("created_at", False),
        _ts("expires_at", False),
    )
    op.create_index("ix_sg_sessions_user_id", "sg_sessions", ["user_id"])
    op.create_table(
        "sg_parent_links",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("parent", sa.String(32), primary_key=True),
        sa.Column("child", sa.String(ID), primary_key=True),
        _ts("created_at", False),
        _ts("removed_at", True),
    )
    op.create_table(
        "sg_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("key", sa.String(ID + 16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(ID), nullable=True),
        sa.Column("conversation", sa.String(ID), nullable=True),
        sa.Column("risk", sa.Float, nullable=False),
        sa.Column("stages", sa.String(256), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(ID), nullable=False),
        _ts("event_at", False),
        _ts("created_at", False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.UniqueConstraint("tenant", "key", name="uq_sg_alerts_tenant_key"),
    )
    op.create_index("ix_sg_alerts_tenant_id", "sg_alerts", ["tenant", "id"])
    op.create_index("ix_sg_alerts_tenant_conversation", "sg_alerts", ["tenant", "conversation"])
    op.create_index("ix_sg_alerts_tenant_subject", "sg_alerts", ["tenant", "subject"])


def downgrade() -> None:
    for name in ("sg_alerts", "sg_parent_links", "sg_sessions", "sg_users", "sg_api_keys", "sg_tenants"):
        op.drop_table(name)
    with op.batch_alter_table("sg_outbox") as batch:
        batch.drop_column("last_error")
        batch.drop_column("failed_at")
        batch.drop_column("next_attempt_at")
    if op.get_bind().dialect.name == "postgresql":
        for table, column, old, nullable in _WIDEN:
            new = ID + 16 if table == "sg_outbox" else ID
            op.alter_column(
                table, column, type_=sa.String(old), existing_type=sa.String(new), existing_nullable=nullable
            )
