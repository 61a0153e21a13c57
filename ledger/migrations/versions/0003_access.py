"""Access: API keys, idempotent requests, the audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code")),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id")),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("revoked_at", Stamp),
        sa.CheckConstraint("role IN ('city', 'health_center', 'clinic')", name="role"),
        sa.CheckConstraint(
            "(role = 'city' AND district IS NULL AND clinic_id IS NULL)"
            " OR (role = 'health_center' AND district IS NOT NULL AND clinic_id IS NULL)"
            " OR (role = 'clinic' AND clinic_id IS NOT NULL)",
            name="scope",
        ),
    )
    op.create_table(
        "idempotent_requests",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", sa.String),
        sa.Column("content_type", sa.String(100)),
        sa.Column("claimed_until", Stamp, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", Id, primary_key=True),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("key_id", sa.String(32)),
        sa.Column("label", sa.String(120)),
        sa.Column("role", sa.String(16)),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("patient_id", sa.String(32)),
        sa.Column("client", sa.String(64)),
        sa.Column("request_id", sa.String(64)),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_patient_at", "audit_events", ["patient_id", "at"])


def downgrade() -> None:
    for table in ("audit_events", "idempotent_requests", "api_keys"):
        op.drop_table(table)
