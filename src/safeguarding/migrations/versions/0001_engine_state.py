"""Engine state: processed events, accounts, edges, signal windows, conversations, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = 256


def _ts(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sg_events",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        _ts("at", False),
        _ts("processed_at", False),
        sa.Column("outcome", sa.Text, nullable=False),
    )
    op.create_table(
        "sg_accounts",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("age_band", sa.String(16), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=True),
        sa.Column("assurance", sa.String(16), nullable=False),
        _ts("created_at", True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("risk_alerted", sa.Boolean, nullable=False),
        _ts("pattern_alert_until", True),
    )
    op.create_table(
        "sg_edges",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("src", sa.String(ID), primary_key=True),
        sa.Column("dst", sa.String(ID), primary_key=True),
        _ts("since", False),
    )
    op.create_table(
        "sg_counters",
        sa.Column("account", sa.String(ID), primary_key=True),
        sa.Column("counter", sa.String(64), primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_index("ix_sg_counters_bucket", "sg_counters", ["bucket"])
    op.create_table(
        "sg_counter_members",
        sa.Column("account", sa.String(ID), primary_key=True),
        sa.Column("counter", sa.String(64), primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True),
        sa.Column("member", sa.String(ID), primary_key=True),
    )
    op.create_index("ix_sg_counter_members_bucket", "sg_counter_members", ["bucket"])
    op.create_table(
        "sg_conversations",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("detector_version", sa.String(64), nullable=False),
        sa.Column("detector_state", sa.LargeBinary, nullable=True),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("alerted", sa.Boolean, nullable=False),
        sa.Column("risk", sa.Float, nullable=False),
        sa.Column("suspect", sa.String(ID), nullable=True),
        sa.Column("stages", sa.String(256), nullable=False),
        _ts("updated_at", True),
    )
    op.create_table(
        "sg_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(ID + 16), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        _ts("created_at", False),
        _ts("delivered_at", True),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    op.create_index("ix_sg_outbox_pending", "sg_outbox", ["delivered_at", "id"])


def downgrade() -> None:
    for name in (
        "sg_outbox",
        "sg_conversations",
        "sg_counter_members",
        "sg_counters",
        "sg_edges",
        "sg_accounts",
        "sg_events",
    ):
        op.drop_table(name)
