"""The ledger SQL of the bulk path, outside the ORM: the tables written, the statements that
move running totals and registry rows, transaction ids by the block, and multi-row INSERTs
of plain tuples (:class:`TableInsert`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.models import (
    Account,
    Attendance,
    Balance,
    Clinic,
    EducationSession,
    Entry,
    HomeClinic,
    LimitCounter,
    LimitPostingRow,
    Patient,
    Redemption,
    Transaction,
    Visit,
)

__all__ = [
    "ACCOUNTS",
    "ATTENDANCES",
    "BALANCES",
    "CLINICS",
    "CLINIC_LEAVES",
    "COUNTERS",
    "ENTRIES",
    "ENTRY_COLUMNS",
    "HEADERS",
    "HEADER_COLUMNS",
    "HOMES",
    "LEDGER_TABLES",
    "MOVE_BALANCES",
    "MOVE_PATIENTS",
    "PATIENTS",
    "POSTINGS",
    "POSTING_COLUMNS",
    "REDEMPTIONS",
    "REGISTRY_ORDER",
    "SESSIONS",
    "UPSERT_COUNTERS",
    "VISITS",
    "TableInsert",
    "given_columns",
    "reserve_transaction_ids",
]

# Parameters in one SQLite statement: at most 32,766 since SQLite 3.32, 999 before.
SQLITE_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999

ACCOUNTS = cast(Table, Account.__table__)
BALANCES = cast(Table, Balance.__table__)
COUNTERS = cast(Table, LimitCounter.__table__)
ENTRIES = cast(Table, Entry.__table__)
POSTINGS = cast(Table, LimitPostingRow.__table__)
HEADERS = cast(Table, Transaction.__table__)
CLINICS = cast(Table, Clinic.__table__)
PATIENTS = cast(Table, Patient.__table__)
HOMES = cast(Table, HomeClinic.__table__)
SESSIONS = cast(Table, EducationSession.__table__)
VISITS = cast(Table, Visit.__table__)
ATTENDANCES = cast(Table, Attendance.__table__)
REDEMPTIONS = cast(Table, Redemption.__table__)
LEDGER_TABLES = (ACCOUNTS, BALANCES, ENTRIES, POSTINGS, HEADERS, COUNTERS)
# Registry rows go in after the headers they refer to, patients before their events.
REGISTRY_ORDER = (PATIENTS, HOMES, VISITS, ATTENDANCES, REDEMPTIONS)


# Limit counters: created with the year's moves, or moved when they exist already.
UPSERT_COUNTERS = {
    name: dialect_insert(COUNTERS).on_conflict_do_update(
        index_elements=[COUNTERS.c.account_id, COUNTERS.c.key],
        set_={
            "amount": COUNTERS.c.amount + dialect_insert(COUNTERS).excluded.amount,
            "count": COUNTERS.c.count + dialect_insert(COUNTERS).excluded.count,
        },
    )
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
MOVE_PATIENTS = (
    update(PATIENTS)
    .where(PATIENTS.c.id == bindparam("p_id"))
    .values(clinic_id=bindparam("p_clinic"))
)
CLINIC_LEAVES = (
    update(CLINICS)
    .where(CLINICS.c.id == bindparam("c_id"))
    .values(participating_until=bindparam("c_until"))
)
MOVE_BALANCES = (
    update(BALANCES)
    .where(
        BALANCES.c.account_id == bindparam("b_account"), BALANCES.c.shard == bindparam("b_shard")
    )
    .values(balance=BALANCES.c.balance + bindparam("b_delta"))
)
ENTRY_COLUMNS = ("transaction_id", "account_id", "amount")
POSTING_COLUMNS = ("transaction_id", "account_id", "key", "amount", "count")
HEADER_COLUMNS = (
    "id",
    "kind",
    "effective_date",
    "booked_at",
    "idempotency_key",
    "request_hash",
    "reverses_id",
    "district",
    "details",
    "period",
)


def reserve_transaction_ids(connection: Connection, count: int) -> list[int]:
    """A block of ``count`` transaction ids, contiguous unless another writer draws at once.

    PostgreSQL draws them from the sequence the services use; SQLite takes the next ids
    after the highest, as the services do (its writer holds the database's write lock).
    """
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        drawn = connection.execute(
            text("SELECT nextval('transactions_id_seq') FROM generate_series(1, :n)"), {"n": count}
        ).scalars()
        return sorted(int(i) for i in drawn)
    first = int(
        connection.execute(select(func.coalesce(func.max(HEADERS.c.id), 0) + 1)).scalar_one()
    )
    return list(range(first, first + count))


class TableInsert:
    """An INSERT of some columns of a table, run on plain tuples, many rows a statement.

    Values go through each column type's bind processor for the dialect (dates, timestamps,
    JSON, booleans, decimals: stored as SQLAlchemy stores them), without SQLAlchemy's
    per-row parameter handling, which would cost more than the insert itself. On SQLite a
    statement inserts as many rows as ``SQLITE_PARAMETERS`` allows (multi-row VALUES), so the
    database does the work of many rows in one step, outside Python's interpreter lock;
    PostgreSQL takes them by the driver's executemany (pipelined by psycopg).
    """

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.columns = tuple(columns)
        self.head = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in self.columns)}) VALUES "
        )
        self.one = f"({', '.join(mark for _ in self.columns)})"
        self.sql = self.head + self.one
        self.per_statement = max(1, SQLITE_PARAMETERS // len(self.columns))
        self.processors = [
            table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in self.columns
        ]
        self._many: dict[int, str] = {}

    def processor(self, column: str) -> Callable[[Any], Any]:
        """The column's bind processor (the identity when the driver takes values as they are)."""
        found = self.processors[self.columns.index(column)]
        return found if found is not None else _same

    def tuples(self, rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Rows given as dicts, as tuples in column order, bound for the dialect."""
        values_of = itemgetter(*self.columns)
        bound = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        out = []
        for row in rows:
            values = list(values_of(row))
            for i, processor in bound:
                if values[i] is not None:
                    values[i] = processor(values[i])
            out.append(tuple(values))
        return out

    def run(self, connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (values in column order, already bound)."""
        if connection.dialect.name != "sqlite":
            connection.exec_driver_sql(self.sql, list(rows))
            return
        for start in range(0, len(rows), self.per_statement):
            batch = rows[start : start + self.per_statement]
            sql = self._many.get(len(batch))
            if sql is None:
                sql = self._many[len(batch)] = self.head + ", ".join([self.one] * len(batch))
            connection.exec_driver_sql(sql, tuple(chain.from_iterable(batch)))


def _same(value: Any) -> Any:
    return value


def given_columns(table: Table) -> list[str]:
    """The columns a registry row gives: all but a generated key (a home clinic row's id) and
    a patient's next recall date (worked out for every patient once the run is written)."""
    left_out = {(HOMES, "id"), (PATIENTS, "recall_due_on")}
    return [c.name for c in table.columns if (table, c.name) not in left_out]
