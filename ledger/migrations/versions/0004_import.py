"""History import: which of the previous system's rows were imported, and as what.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")


def upgrade() -> None:
    op.create_table(
        "import_rows",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("legacy_id", sa.String(64), primary_key=True),
        sa.Column("record_id", sa.String(32)),
        sa.Column("transaction_id", sa.BigInteger, sa.ForeignKey("transactions.id")),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("imported_at", Stamp, nullable=False),
        sa.CheckConstraint(
            "kind IN ('clinic', 'patient', 'visit', 'education', 'session', 'balance')",
            name="kind",
        ),
    )
    op.create_index("ix_import_rows_kind_record", "import_rows", ["kind", "record_id"])


def downgrade() -> None:
    op.drop_table("import_rows")
