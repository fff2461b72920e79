"""Moderation: preserved message text, case reviews (claims), moderator actions, referral packages.

See :mod:`safeguarding.store.moderation` and docs/console.md.

Revision ID: 0005_moderation
Revises: 0004_e2ee
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_moderation"
down_revision = "0004_e2ee"
branch_labels = None
depends_on = None

ID = 320
TENANT = 32


def _ts(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sg_messages",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("conversation", sa.String(ID), nullable=False),
        sa.Column("sender", sa.String(ID), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("grp", sa.String(ID), nullable=True),
        _ts("at", False),
        sa.Column("text", sa.Text, nullable=True),
    )
    op.create_index("ix_sg_messages_conversation", "sg_messages", ["tenant", "conversation", "at"])
    op.create_table(
        "sg_reviews",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("alert_key", sa.String(ID + 16), primary_key=True),
        sa.Column("assignee", sa.String(32), nullable=True),
        sa.Column("assignee_name", sa.String(200), nullable=True),
        _ts("claimed_at", True),
        _ts("first_review_at", True),
    )
    op.create_table(
        "sg_mod_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("alert_key", sa.String(ID + 16), nullable=True),
        sa.Column("conversation", sa.String(ID), nullable=True),
        sa.Column("subject", sa.String(ID), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        _ts("at", False),
        sa.Column("evidence_seq", sa.BigInteger, nullable=False),
        sa.Column("appeal_of", sa.Integer, nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
    )
    op.create_index("ix_sg_mod_actions_tenant", "sg_mod_actions", ["tenant", "id"])
    op.create_table(
        "sg_referral_packages",
        sa.Column("package_id", sa.String(80), primary_key=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("case_key", sa.String(ID + 16), nullable=False),
        _ts("created_at", False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_sg_referral_packages_tenant", "sg_referral_packages", ["tenant", "case_key"])


def downgrade() -> None:
    op.drop_index("ix_sg_referral_packages_tenant", table_name="sg_referral_packages")
    op.drop_table("sg_referral_packages")
    op.drop_index("ix_sg_mod_actions_tenant", table_name="sg_mod_actions")
    op.drop_table("sg_mod_actions")
    op.drop_table("sg_reviews")
    op.drop_index("ix_sg_messages_conversation", table_name="sg_messages")
    op.drop_table("sg_messages")
