"""Encrypted mode: device directory, stamp ledger, delivery inbox, device alerts, verified reports.

See :mod:`safeguarding.store.e2ee` (docs/e2ee.md, "What the service wires"). No table here holds message
text except ``sg_e2ee_reports``, whose messages the reporter chose to reveal.

Revision ID: 0004_e2ee
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_e2ee"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = 320
TENANT = 32
NAME = 256


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sg_e2ee_devices",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("account", sa.String(NAME), primary_key=True),
        sa.Column("device", sa.String(NAME), primary_key=True),
        sa.Column("identity", sa.Text, nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "sg_e2ee_stamps",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("message_id", sa.String(NAME), primary_key=True),
        sa.Column("conversation", sa.String(NAME), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(NAME), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        _ts("received_at"),
        sa.UniqueConstraint("tenant", "conversation", "nonce", name="uq_sg_e2ee_stamps_nonce"),
    )
    op.create_index("ix_sg_e2ee_stamps_conversation", "sg_e2ee_stamps", ["tenant", "conversation"])
    op.create_table(
        "sg_e2ee_inbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("account", sa.String(NAME), nullable=False),
        sa.Column("device", sa.String(NAME), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(ID), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("tenant", "account", "device", "kind", "ref", name="uq_sg_e2ee_inbox_item"),
    )
    op.create_index("ix_sg_e2ee_inbox_device", "sg_e2ee_inbox", ["tenant", "account", "device", "id"])
    op.create_table(
        "sg_e2ee_device_alerts",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("alert_id", sa.String(NAME), primary_key=True),
        sa.Column("account", sa.String(NAME), nullable=False),
        sa.Column("device", sa.String(NAME), nullable=False),
        sa.Column("conversation", sa.String(NAME), nullable=False),
        _ts("received_at"),
    )
    op.create_index("ix_sg_e2ee_device_alerts_device", "sg_e2ee_device_alerts", ["tenant", "device"])
    op.create_table(
        "sg_e2ee_reports",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("report_id", sa.String(NAME), primary_key=True),
        sa.Column("reporter", sa.String(NAME), nullable=False),
        sa.Column("conversation", sa.String(NAME), nullable=False),
        sa.Column("verified", sa.Text, nullable=False),
        _ts("received_at"),
    )


def downgrade() -> None:
    op.drop_table("sg_e2ee_reports")
    op.drop_table("sg_e2ee_device_alerts")
    op.drop_table("sg_e2ee_inbox")
    op.drop_table("sg_e2ee_stamps")
    op.drop_table("sg_e2ee_devices")
