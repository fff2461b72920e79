"""Families: parental controls and display names on accounts, invitations, child notices and reports,
approvals, child view tokens, weekly summaries; an index to find a child's messages by sender.

See :mod:`safeguarding.store.families` and docs/families.md.

Revision ID: 0006_families
Revises: 0005_moderation
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_families"
down_revision = "0005_moderation"
branch_labels = None
depends_on = None

ID = 320
TENANT = 32


def _ts(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("sg_accounts", sa.Column("display_name", sa.String(100), nullable=True))
    op.add_column("sg_accounts", sa.Column("controls", sa.Integer, nullable=False, server_default="0"))
    op.add_column("sg_parent_links", sa.Column("via", sa.String(16), nullable=False, server_default="direct"))
    op.add_column("sg_parent_links", sa.Column("removed_by", sa.String(64), nullable=True))
    op.add_column("sg_tenants", sa.Column("family_settings", sa.Text, nullable=True))
    op.create_index("ix_sg_messages_sender", "sg_messages", ["tenant", "sender", "at"])
    op.create_table(
        "sg_link_invitations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("parent", sa.String(32), nullable=False),
        sa.Column("child", sa.String(ID), nullable=False),
        _ts("created_at", False),
        _ts("expires_at", False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("answered_at", True),
        sa.Column("answer", sa.String(16), nullable=True),
    )
    op.create_index("ix_sg_link_invitations_child", "sg_link_invitations", ["tenant", "child"])
    op.create_table(
        "sg_child_notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("child", sa.String(ID), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("about", sa.String(ID), nullable=False),
        sa.Column("conversation", sa.String(ID), nullable=True),
        sa.Column("event_id", sa.String(ID), nullable=False),
        _ts("at", False),
        sa.Column("count", sa.Integer, nullable=False, server_default="1"),
        _ts("last_at", False),
        _ts("closed_at", True),
        sa.Column("closed_by", sa.String(16), nullable=True),
        sa.UniqueConstraint("tenant", "child", "about", "kind", name="uq_sg_child_notices_once"),
    )
    op.create_table(
        "sg_contact_approvals",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("child", sa.String(ID), primary_key=True),
        sa.Column("adult", sa.String(ID), primary_key=True),
        sa.Column("conversation", sa.String(ID), nullable=True),
        _ts("requested_at", False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        _ts("decided_at", True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.String(32), nullable=True),
    )
    op.create_table(
        "sg_child_reports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("child", sa.String(ID), nullable=False),
        sa.Column("about", sa.String(ID), nullable=False),
        sa.Column("conversation", sa.String(ID), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("tell_parent", sa.Boolean, nullable=False),
        sa.Column("event_id", sa.String(ID), nullable=False),
        _ts("at", False),
    )
    op.create_index("ix_sg_child_reports_child", "sg_child_reports", ["tenant", "child", "at"])
    op.create_table(
        "sg_child_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(TENANT), nullable=False),
        sa.Column("account", sa.String(ID), nullable=False),
        _ts("created_at", False),
        _ts("expires_at", False),
    )
    op.create_table(
        "sg_family_summaries",
        sa.Column("tenant", sa.String(TENANT), primary_key=True),
        sa.Column("parent", sa.String(32), primary_key=True),
        sa.Column("week", sa.Date, primary_key=True),
        _ts("sent_at", False),
        sa.Column("channel", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sg_family_summaries")
    op.drop_table("sg_child_tokens")
    op.drop_index("ix_sg_child_reports_child", table_name="sg_child_reports")
    op.drop_table("sg_child_reports")
    op.drop_table("sg_contact_approvals")
    op.drop_table("sg_child_notices")
    op.drop_index("ix_sg_link_invitations_child", table_name="sg_link_invitations")
    op.drop_table("sg_link_invitations")
    op.drop_index("ix_sg_messages_sender", table_name="sg_messages")
    with op.batch_alter_table("sg_tenants") as b:
        b.drop_column("family_settings")
    with op.batch_alter_table("sg_parent_links") as b:
        b.drop_column("removed_by")
        b.drop_column("via")
    with op.batch_alter_table("sg_accounts") as b:
        b.drop_column("controls")
        b.drop_column("display_name")
