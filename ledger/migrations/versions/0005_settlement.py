"""Spending and settlement: the settlement quarter of each transaction, redemptions,
settlements and their lines.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy): the ledger's rows are never rewritten.
    op.add_column("transactions", sa.Column("period", sa.String(7)))
    op.create_index("ix_transactions_district_period", "transactions", ["district", "period"])
    op.create_table(
        "redemptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("spent_on", sa.Date, nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger, sa.ForeignKey("transactions.id"), nullable=False
        ),
        sa.Column("recorded_at", Stamp, nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.CheckConstraint("amount > 0", name="positive"),
        sa.CheckConstraint(
            "purpose IN ('treatment', 'test', 'vaccination', 'eye_exam')", name="purpose"
        ),
    )
    op.create_index("ix_redemptions_patient_id", "redemptions", ["patient_id"])
    op.create_index("ix_redemptions_clinic_id", "redemptions", ["clinic_id"])
    op.create_table(
        "settlements",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("quarter", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("computed_at", Stamp, nullable=False),
        sa.Column("closed_at", Stamp),
        sa.Column("closed_by", sa.String(120)),
        sa.Column("transaction_id", sa.BigInteger, sa.ForeignKey("transactions.id")),
        sa.UniqueConstraint("district", "year", "quarter", name="uq_settlements_quarter"),
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
        sa.CheckConstraint("status IN ('draft', 'closed')", name="status"),
    )
    op.create_table(
        "settlement_lines",
        sa.Column("id", Id, primary_key=True),
        sa.Column("settlement_id", sa.String(32), sa.ForeignKey("settlements.id"), nullable=False),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id"), nullable=False),
        sa.Column("earned", sa.BigInteger, nullable=False),
        sa.Column("reimbursed", sa.BigInteger, nullable=False),
        sa.Column("corrections", sa.BigInteger, nullable=False),
        sa.Column("payout", sa.BigInteger, nullable=False),
        sa.Column("paid_on", sa.Date),
        sa.Column("payment_reference", sa.String(100)),
        sa.Column("payment_transaction_id", sa.BigInteger, sa.ForeignKey("transactions.id")),
        sa.UniqueConstraint("settlement_id", "clinic_id"),
    )


def downgrade() -> None:
    op.drop_table("settlement_lines")
    op.drop_table("settlements")
    op.drop_table("redemptions")
    op.drop_index("ix_transactions_district_period", "transactions")
    op.drop_column("transactions", "period")
