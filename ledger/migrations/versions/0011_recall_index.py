"""Indexes the daily recall scan reads by: it finds who is due set-based, in SQL.

``ix_visits_patient_day`` gains the follow-up booked at a visit, so that a patient's last
visit and the follow-up booked at it are read from the index alone. ``ix_messages_patient``
(its columns were already the unique ``uq_messages_once``) gains the status and the moment
a recall was queued, so that a patient's recalls since their last visit (how many, and when
the latest went out) are read from the index alone too.

Revision ID: 0011_recall_index
Revises: 0010_claims
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0011_recall_index"
down_revision = "0010_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_visits_patient_day", table_name="visits")
    op.create_index(
        "ix_visits_patient_day", "visits", ["patient_id", "visited_on", "next_visit_on"]
    )
    op.drop_index("ix_messages_patient", table_name="messages")
    op.create_index(
        "ix_messages_patient",
        "messages",
        ["patient_id", "kind", "due_date", "status", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_messages_patient", table_name="messages")
    op.create_index("ix_messages_patient", "messages", ["patient_id", "kind", "due_date"])
    op.drop_index("ix_visits_patient_day", table_name="visits")
    op.create_index("ix_visits_patient_day", "visits", ["patient_id", "visited_on"])
