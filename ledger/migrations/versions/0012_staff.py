"""Staff accounts and the console's sessions; the audit trail names the account.

- ``staff_accounts``: one person each, with a role and its scope (as ``api_keys``), an
  argon2id password hash, ``must_change_password`` and ``disabled_at``. ``login`` is kept
  case-folded (a CHECK), so its unique constraint is case-insensitive.
- ``web_sessions``: server-side sessions keyed by the SHA-256 of the cookie's token.
- ``audit_events.account_id``: the staff account that acted (``key_id`` is an API key's).
  Added with a plain ``ALTER TABLE ... ADD COLUMN`` (no table rebuild), so the audit
  trail's append-only triggers stay as they are.

Revision ID: 0012_staff
Revises: 0011_recall_index
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_staff"
down_revision = "0011_recall_index"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")
SCOPE = (
    "(role = 'city' AND district IS NULL AND clinic_id IS NULL)"
    " OR (role = 'health_center' AND district IS NOT NULL AND clinic_id IS NULL)"
    " OR (role = 'clinic' AND district IS NOT NULL AND clinic_id IS NOT NULL)"
)


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("login", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code")),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id")),
        sa.Column("clinic_lead", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", Stamp),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.CheckConstraint("role IN ('city', 'health_center', 'clinic')", name="role"),
        sa.CheckConstraint(SCOPE, name="scope"),
        sa.CheckConstraint("login = lower(login)", name="login_folded"),
        sa.CheckConstraint("role = 'clinic' OR NOT clinic_lead", name="lead_is_clinic"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("staff_accounts.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_seen_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])
    op.add_column("audit_events", sa.Column("account_id", sa.String(32)))


def downgrade() -> None:
    op.drop_column("audit_events", "account_id")
    op.drop_index("ix_web_sessions_account_id", "web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("staff_accounts")
