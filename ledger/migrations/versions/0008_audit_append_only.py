"""The audit trail becomes append-only; look-ups record their outcome and a keyed hash; rate
counters.

- ``audit_events``: UPDATE and DELETE are refused by triggers on both engines, and TRUNCATE
  on PostgreSQL, as for the ledger (0001). What was read or refused stays read or refused.
- ``audit_events.outcome`` and ``audit_events.subject_hash``: a look-up by name, birth date
  and phone records whether it found someone (or was refused for its rate) and an
  HMAC-SHA256 of what it searched for, never the name, birth date or phone themselves;
  indexed, so that repeated probes of one person are found together.
- ``rate_counters``: one row per (principal, rate-limited action), counting the current
  window.

Revision ID: 0008_audit
Revises: 0007_identity
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_audit"
down_revision = "0007_identity"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")
REFUSAL = "the audit trail is append-only"


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("outcome", sa.String(20)))
        batch.add_column(sa.Column("subject_hash", sa.String(64)))
    op.create_index("ix_audit_events_subject_hash", "audit_events", ["subject_hash"])
    op.create_table(
        "rate_counters",
        sa.Column("principal", sa.String(32), primary_key=True),
        sa.Column("action", sa.String(40), primary_key=True),
        sa.Column("window_start", Stamp, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    # After the columns: on SQLite a batch operation may copy the table, and a copy would
    # not keep the triggers.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} "
                f"ON audit_events BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {action} on "
                "audit_events refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_refuse_change()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER audit_events_no_{action}")
    op.drop_table("rate_counters")
    op.drop_index("ix_audit_events_subject_hash", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("subject_hash")
        batch.drop_column("outcome")
