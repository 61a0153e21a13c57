"""Messages: the outbox of reminders and recalls, districts' pause and no-send days, job runs
and the scheduler's lease.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("sequence", sa.SmallInteger, nullable=False),
        sa.Column("clinic_id", sa.String(32), sa.ForeignKey("clinics.id")),
        sa.Column("not_before", Stamp, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("body", sa.String(400)),
        sa.Column("attempts", sa.SmallInteger, nullable=False),
        sa.Column("last_error", sa.String(200)),
        sa.Column("error_code", sa.Integer),
        sa.Column("provider_sid", sa.String(64)),
        sa.Column("sender", sa.String(64)),
        sa.Column("sending_since", Stamp),
        sa.Column("sent_at", Stamp),
        sa.Column("delivered_at", Stamp),
        sa.Column("closed_reason", sa.String(120)),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.UniqueConstraint("patient_id", "kind", "due_date", name="uq_messages_once"),
        sa.CheckConstraint("kind IN ('reminder', 'recall')", name="kind"),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'cancelled', "
            "'suppressed')",
            name="status",
        ),
    )
    op.create_index("ix_messages_due", "messages", ["status", "not_before", "id"])
    op.create_index("ix_messages_patient", "messages", ["patient_id", "kind", "due_date"])
    op.create_index("ix_messages_provider_sid", "messages", ["provider_sid"])
    op.create_table(
        "district_messaging",
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code"), primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("changed_at", Stamp, nullable=False),
        sa.Column("changed_by", sa.String(120), nullable=False),
    )
    op.create_table(
        "no_send_days",
        sa.Column("district", sa.String(5), sa.ForeignKey("districts.code"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("reason", sa.String(200), nullable=False),
    )
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(40), primary_key=True),
        sa.Column("run_date", sa.Date, primary_key=True),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp),
        sa.Column("outcome", sa.String(400)),
    )
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    for table in ("scheduler_lease", "job_runs", "no_send_days", "district_messaging", "messages"):
        op.drop_table(table)
