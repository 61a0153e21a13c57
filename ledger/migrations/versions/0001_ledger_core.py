"""Ledger core: accounts, transactions, entries, limit counters; append-only triggers.

The database, not only the code, keeps the ledger honest on both engines:
- a transaction's legs are inserted first and its header last; the header's insert trigger
  refuses it unless its legs sum to zero, and the legs' insert trigger refuses any leg (or
  limit posting) for a transaction whose header exists, so a balanced transaction cannot be
  changed by adding a leg;
- a leg without a header fails the deferred foreign key at commit;
- updates and deletes of ledger rows are refused, and on PostgreSQL TRUNCATE too.
SQLite has no deferred constraint triggers, which is why the header comes last.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True).with_variant(sa.String(40), "sqlite")

ACCOUNT_TYPES = (
    "patient",
    "clinic_earned",
    "clinic_reimbursable",
    "district_expense",
    "district_payable",
    "district_cash",
    "city_grant",
    "forfeiture",
)
APPEND_ONLY = ("transactions", "entries", "limit_postings")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("code", sa.String(120), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("normal_side", sa.String(6), nullable=False),
        sa.Column("district", sa.String(5)),
        sa.Column("shards", sa.SmallInteger, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.CheckConstraint(f"type IN {ACCOUNT_TYPES!r}", name="type"),
        sa.CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
        sa.CheckConstraint("shards >= 1", name="shards"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "balances",
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("shard", sa.SmallInteger, primary_key=True),
        sa.Column("balance", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("booked_at", Stamp, nullable=False),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("request_hash", sa.String(64)),
        sa.Column("reverses_id", sa.BigInteger, sa.ForeignKey("transactions.id")),
        sa.Column("district", sa.String(5)),
        sa.Column("details", Json, nullable=False),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("reverses_id"),
    )
    op.create_index("ix_transactions_district", "transactions", ["district"])
    op.create_table(
        "entries",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "transaction_id",
            sa.BigInteger,
            sa.ForeignKey("transactions.id", deferrable=True, initially="DEFERRED"),
            nullable=False,
        ),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount <> 0", name="nonzero"),
        sa.UniqueConstraint("transaction_id", "account_id"),
    )
    op.create_index("ix_entries_account_transaction", "entries", ["account_id", "transaction_id"])
    op.create_table(
        "limit_counters",
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "limit_postings",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "transaction_id",
            sa.BigInteger,
            sa.ForeignKey("transactions.id", deferrable=True, initially="DEFERRED"),
            nullable=False,
        ),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index("ix_limit_postings_transaction_id", "limit_postings", ["transaction_id"])
    op.create_index("ix_limit_postings_account_key", "limit_postings", ["account_id", "key"])

    if op.get_bind().dialect.name == "postgresql":
        _postgresql_guards()
    else:
        _sqlite_guards()


def _postgresql_guards() -> None:
    op.execute("CREATE SEQUENCE transactions_id_seq AS BIGINT OWNED BY transactions.id")
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ledger rows are append-only: % on % refused; book a reversal',
                TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE total BIGINT;
        BEGIN
            SELECT COALESCE(SUM(amount), 0) INTO total FROM entries
             WHERE transaction_id = NEW.id;
            IF total <> 0 THEN
                RAISE EXCEPTION 'transaction % does not balance: its legs sum to %',
                    NEW.id, total USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_late_leg() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM transactions WHERE id = NEW.transaction_id) THEN
                RAISE EXCEPTION 'transaction % is already booked: no leg may be added',
                    NEW.transaction_id USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER transactions_balanced BEFORE INSERT ON transactions "
        "FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()"
    )
    for table in ("entries", "limit_postings"):
        op.execute(
            f"CREATE TRIGGER {table}_header_last BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_late_leg()"
        )


def _sqlite_guards() -> None:
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: {action} on "
                f"{table} refused; book a reversal'); END"
            )
    op.execute(
        "CREATE TRIGGER transactions_balanced BEFORE INSERT ON transactions "
        "WHEN (SELECT COALESCE(SUM(amount), 0) FROM entries WHERE transaction_id = NEW.id) <> 0 "
        "BEGIN SELECT RAISE(ABORT, 'transaction does not balance: its legs do not sum to 0'); "
        "END"
    )
    for table in ("entries", "limit_postings"):
        op.execute(
            f"CREATE TRIGGER {table}_header_last BEFORE INSERT ON {table} "
            "WHEN EXISTS (SELECT 1 FROM transactions WHERE id = NEW.transaction_id) "
            "BEGIN SELECT RAISE(ABORT, 'transaction is already booked: no leg may be added'); "
            "END"
        )


def downgrade() -> None:
    raise RuntimeError("the ledger is append-only and is never migrated down; restore a backup")
