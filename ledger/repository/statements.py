"""The booking's statements, built once, and the Core tables they run on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from sqlalchemy import BigInteger, Executable, Table, bindparam, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.models import Account, Balance, Entry, LimitCounter, LimitPostingRow, Transaction

# Core tables for the hot path: plain executemany, no ORM unit-of-work bookkeeping.
ACCOUNTS = cast(Table, Account.__table__)
BALANCES = cast(Table, Balance.__table__)
COUNTERS = cast(Table, LimitCounter.__table__)
ENTRIES = cast(Table, Entry.__table__)
LIMIT_POSTINGS = cast(Table, LimitPostingRow.__table__)
TRANSACTIONS = cast(Table, Transaction.__table__)

# The booking's statements, built once: values travel as bound parameters, so SQLAlchemy
# compiles each statement once per engine and finds it in its cache from then on.

NEXT_TRANSACTION_ID: Mapping[str, Executable] = {
    "postgresql": text("SELECT nextval('transactions_id_seq')"),
    # SQLite runs one writer at a time (BEGIN IMMEDIATE), so the next id is free to take.
    "sqlite": select(func.coalesce(func.max(TRANSACTIONS.c.id), 0) + 1),
}

# The balance rows a booking updates, locked in key order, with their accounts' type and
# shards (so a booking reads no account rows of its own): the row of a sharded account is
# the one the transaction id maps to. Only the balance rows are locked.
LOCK_BALANCES = (
    select(
        ACCOUNTS.c.id,
        ACCOUNTS.c.code,
        ACCOUNTS.c.type,
        ACCOUNTS.c.district,
        ACCOUNTS.c.shards,
        BALANCES.c.balance,
    )
    .join_from(BALANCES, ACCOUNTS, ACCOUNTS.c.id == BALANCES.c.account_id)
    .where(
        ACCOUNTS.c.id.in_(bindparam("account_ids", expanding=True)),
        BALANCES.c.shard == bindparam("transaction_id", type_=BigInteger) % ACCOUNTS.c.shards,
    )
    .order_by(BALANCES.c.account_id, BALANCES.c.shard)
    .with_for_update(of=BALANCES)
)

# Creates a booking's counters that do not exist yet and locks them all, in one statement of
# many rows, processed in the order given (the caller sorts them), returning what each holds.
# On PostgreSQL the no-op DO UPDATE locks an existing row as the UPDATE in ``write`` will: a
# second booking of the same counter waits here until the first commits, then reads the row
# as the first left it. SQLite has no row locks; BEGIN IMMEDIATE serialises its writers.
LOCK_COUNTERS = {
    name: dialect_insert(COUNTERS)
    .on_conflict_do_update(
        index_elements=[COUNTERS.c.account_id, COUNTERS.c.key],
        set_={"amount": COUNTERS.c.amount},
    )
    .returning(COUNTERS.c.account_id, COUNTERS.c.key, COUNTERS.c.amount, COUNTERS.c.count)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}

INSERT_ENTRIES = insert(ENTRIES)
INSERT_LIMIT_POSTINGS = insert(LIMIT_POSTINGS)
INSERT_HEADER = insert(TRANSACTIONS)
MOVE_BALANCES = (
    update(BALANCES)
    .where(
        BALANCES.c.account_id == bindparam("b_account"),
        BALANCES.c.shard == bindparam("b_shard"),
    )
    .values(balance=BALANCES.c.balance + bindparam("b_delta"))
)
MOVE_COUNTERS = (
    update(COUNTERS)
    .where(
        COUNTERS.c.account_id == bindparam("c_account"),
        COUNTERS.c.key == bindparam("c_key"),
    )
    .values(
        amount=COUNTERS.c.amount + bindparam("c_amount"),
        count=COUNTERS.c.count + bindparam("c_count"),
    )
)
