"""The ledger's own tables: accounts, transactions, their entries, and the running totals.

The ledger rows (``transactions``, ``entries``, ``limit_postings``) are append-only and hold
no personal data: accounts are opaque ids, so a patient's personal data can be erased
without touching the ledger. The database itself refuses to update or delete them, and
refuses a transaction header whose legs do not sum to zero (see the first migration).
``balances`` and ``limit_counters`` are running totals kept in the same database
transaction as the entries; ``mileage ledger verify`` recomputes them from the entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import now
from ledger.domain import AccountType
from ledger.models.base import Base, Id, Json, TZDateTime
from ledger.vocabulary import values

ACCOUNT_TYPES = values(AccountType)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(f"type IN {ACCOUNT_TYPES!r}", name="type"),
        CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
        CheckConstraint("shards >= 1", name="shards"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    normal_side: Mapped[str] = mapped_column(String(6))
    district: Mapped[str | None] = mapped_column(String(5))
    shards: Mapped[int] = mapped_column(SmallInteger, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


class Balance(Base):
    """An account's running balance: the raw signed sum of its entries (debit positive).

    Sharded accounts keep several rows; their balance is the sum.
    """

    __tablename__ = "balances"

    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class Transaction(Base):
    """A transaction header, inserted after its legs; its insert trigger checks the sum."""

    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    booked_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"), unique=True)
    district: Mapped[str | None] = mapped_column(String(5), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # The settlement quarter ("2024-Q2") the transaction is paid out in: its own date's
    # quarter, or the district's first open quarter when that one is already closed.
    period: Mapped[str | None] = mapped_column(String(7))

    __table_args__ = (Index("ix_transactions_district_period", "district", "period"),)


class Entry(Base):
    """One leg: a signed amount on one account (debit positive, credit negative)."""

    __tablename__ = "entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero"),
        UniqueConstraint("transaction_id", "account_id"),
        Index("ix_entries_account_transaction", "account_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", deferrable=True, initially="DEFERRED")
    )
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)


class LimitCounter(Base):
    """What an account has been credited under one limit key, in amount and in awards."""

    __tablename__ = "limit_counters"

    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    count: Mapped[int] = mapped_column(Integer, default=0)


class LimitPostingRow(Base):
    """A move of a limit counter, booked (append-only) with the transaction that made it."""

    __tablename__ = "limit_postings"
    __table_args__ = (Index("ix_limit_postings_account_key", "account_id", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", deferrable=True, initially="DEFERRED"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    key: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
