"""Idempotency claims name the process that holds them.

``idempotent_requests.claimed_by``: the holder's identity (host, boot id, pid, start time;
``ledger.processes``), so that a claim left by a killed process is taken over at once rather
than after its lease (``ledger.services.idempotency``).

Revision ID: 0010_claims
Revises: 0009_erasure
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_claims"
down_revision = "0009_erasure"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.drop_column("claimed_by")
