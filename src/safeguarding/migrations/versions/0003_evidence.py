"""Evidence: the hash-chained evidence log and legal holds (docs/evidence.md).

``sg_evidence`` rows are only inserted, except that a retention purge clears ``payload`` and the lookup
keys; the primary key ``(chain, seq)`` is what keeps concurrent appenders from forking a chain.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-19
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = 320
CHAIN = 64


def _ts(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sg_evidence",
        sa.Column("chain", sa.String(CHAIN), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        _ts("at", False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=True),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("conversation", sa.String(ID), nullable=True),
        sa.Column("subject", sa.String(ID), nullable=True),
        sa.Column("ref", sa.String(ID + 16), nullable=True),
        _ts("purged_at", True),
    )
    op.create_index("ix_sg_evidence_conversation", "sg_evidence", ["chain", "conversation"])
    op.create_index("ix_sg_evidence_subject", "sg_evidence", ["chain", "subject"])
    op.create_index("ix_sg_evidence_ref", "sg_evidence", ["chain", "ref"])
    op.create_table(
        "sg_legal_holds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain", sa.String(CHAIN), nullable=False),
        sa.Column("case_key", sa.String(ID), nullable=False),
        sa.Column("case_kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        _ts("placed_at", False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        _ts("released_at", True),
        sa.Column("released_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_sg_legal_holds_case", "sg_legal_holds", ["chain", "case_key"])


def downgrade() -> None:
    op.drop_table("sg_legal_holds")
    op.drop_table("sg_evidence")
