"""Erasure (PIPA): patients' personal data may be cleared; erasure records; the service's own
secrets; stored idempotent answers remember when they lost their personal fields.

- ``patients.name``, ``birth_date`` and ``phone`` become nullable: an erased patient keeps
  the row (ids, account, events) without them. Two CHECKs: the three are cleared together,
  and only for a patient who has left. The unique constraint on the three stays (NULLs are
  distinct on both engines, so erased patients collide with nobody).
- ``erasures``: who erased whom, when, why, and the keyed hash of who they were.
- ``service_secrets``: the identity key, when ``MILEAGE_IDENTITY_KEY`` is unset.
- ``idempotent_requests.scrubbed_at``: when a stored answer lost its personal fields.

On SQLite the patients table is rebuilt (Alembic's batch mode); ``ledger.migrate`` turns
foreign-key enforcement off around the migration and checks every key before committing.

Revision ID: 0009_erasure
Revises: 0008_audit
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_erasure"
down_revision = "0008_audit"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")

PERSONAL = (("name", sa.String(100)), ("birth_date", sa.Date()), ("phone", sa.String(20)))
WHOLE = (
    "(name IS NULL AND birth_date IS NULL AND phone IS NULL)"
    " OR (name IS NOT NULL AND birth_date IS NOT NULL AND phone IS NOT NULL)"
)
LEFT = "name IS NOT NULL OR status <> 'active'"


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        for column, type_ in PERSONAL:
            batch.alter_column(column, existing_type=type_, nullable=True)
        batch.create_check_constraint("personal_data_whole", WHOLE)
        batch.create_check_constraint("erased_has_left", LEFT)
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("identity_hash", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("erased_by", sa.String(120), nullable=False),
        sa.Column("key_id", sa.String(32)),
        sa.Column("erased_at", Stamp, nullable=False),
        sa.UniqueConstraint("patient_id"),
    )
    op.create_index("ix_erasures_identity_hash", "erasures", ["identity_hash"])
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.add_column("idempotent_requests", sa.Column("scrubbed_at", Stamp))
    op.create_index(
        "ix_idempotent_requests_scrub", "idempotent_requests", ["scrubbed_at", "created_at"]
    )


def downgrade() -> None:
    erased = op.get_bind().execute(sa.text("SELECT count(*) FROM patients WHERE name IS NULL"))
    count = erased.scalar()
    if count:
        raise RuntimeError(
            f"{count} patient(s) were erased: their name, birth date and phone are gone, so "
            "the columns cannot be NOT NULL again; restore a backup taken before 0009 instead"
        )
    op.drop_index("ix_idempotent_requests_scrub", table_name="idempotent_requests")
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.drop_column("scrubbed_at")
    op.drop_table("service_secrets")
    op.drop_index("ix_erasures_identity_hash", table_name="erasures")
    op.drop_table("erasures")
    with op.batch_alter_table("patients") as batch:
        batch.drop_constraint("erased_has_left", type_="check")
        batch.drop_constraint("personal_data_whole", type_="check")
        for column, type_ in PERSONAL:
            batch.alter_column(column, existing_type=type_, nullable=False)
