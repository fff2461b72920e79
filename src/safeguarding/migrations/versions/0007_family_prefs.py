"""Families: a parent's own preferences (the weekly summary by email on or off).

Revision ID: 0007_family_prefs
Revises: 0006_families
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_family_prefs"
down_revision = "0006_families"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sg_family_prefs",
        sa.Column("tenant", sa.String(32), primary_key=True),
        sa.Column("parent", sa.String(32), primary_key=True),
        sa.Column("weekly_email", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sg_family_prefs")
