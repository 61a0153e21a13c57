"""Each patient's next recall date on the patient row, so the daily scan reads by index.

- ``patients.recall_due_on``: the day the patient's next recall falls due, empty when none
  can (three recalls sent, lost to follow-up first). Added with a plain ``ALTER TABLE ...
  ADD COLUMN`` (no table rebuild).
- ``ix_patients_recall_due (recall_due_on, id)``, partial: only patients who may be sent a
  recall (consent given, still in the programme). The scan reads the range of dates due
  today, in that order, a chunk at a time.

The column is filled here from the visits and recalls, a batch of patients per statement, by
the same rules the services keep it with (``ledger.services.recall_due``), and checked by
``mileage ledger verify`` from then on.

Revision ID: 0014_recall_due
Revises: 0013_read_models
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_recall_due"
down_revision = "0013_read_models"
branch_labels = None
depends_on = None

RECALLABLE = "sms_consent AND status = 'active'"


def upgrade() -> None:
    from ledger.services.recall_due import fill_recall_due

    op.add_column("patients", sa.Column("recall_due_on", sa.Date(), nullable=True))
    recallable = sa.text(RECALLABLE)
    op.create_index(
        "ix_patients_recall_due",
        "patients",
        ["recall_due_on", "id"],
        postgresql_where=recallable,
        sqlite_where=recallable,
    )
    fill_recall_due(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_patients_recall_due", table_name="patients")
    op.drop_column("patients", "recall_due_on")
