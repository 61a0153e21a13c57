"""The bulk writer: chunks of bookings written as rows, legs before headers, by a writer
thread that overlaps with the evaluation; then the year's moves of the running totals.

Per chunk go the legs (entries), the limit postings, then the headers, whose insert trigger
still checks that each transaction's legs sum to 0, then the registry rows that refer to
them. Each programme year is one database transaction, ending with the year's moves of the
balance rows (a district's expense account on shard ``transaction_id % 16``, as the services
book it) and of the limit counters, so every commit leaves a ledger that
``mileage ledger verify`` finds sound. Each transaction's ``period`` is the quarter of its
date (no quarter is closed).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Executable, Table, insert

from ledger.domain import SHARDS, AccountType
from ledger.services.periods import label, quarter_of
from ledger.simulation.books import Booking, Books
from ledger.simulation.sql import (
    ACCOUNTS,
    BALANCES,
    ENTRIES,
    ENTRY_COLUMNS,
    HEADER_COLUMNS,
    HEADERS,
    MOVE_BALANCES,
    POSTING_COLUMNS,
    POSTINGS,
    REGISTRY_ORDER,
    UPSERT_COUNTERS,
    TableInsert,
    given_columns,
    reserve_transaction_ids,
)

__all__ = ["BulkWriter", "Step"]

SQLITE_CACHE_KIB = -262_144  # a 256 MiB page cache while the simulation writes


# One step of a chunk: an INSERT with its tuples, or a Core statement with its rows.
Step = tuple[TableInsert | Executable, list[Any]]


class BulkWriter:
    """Writes chunks of bookings and registry rows; moves the running totals at the end.

    A chunk's rows are built here, then inserted by a writer thread while the next chunk is
    evaluated: the database does its part (SQLite's C code, PostgreSQL's server) without
    holding Python's interpreter lock, so it overlaps with the evaluation. Only one of the
    two threads uses the connection at a time: every method waits for the previous chunk
    first.
    """

    def __init__(self, connection: Connection, books: Books, now: dt.datetime) -> None:
        self.connection, self.books, self.now = connection, books, now
        dialect = connection.dialect
        self.entries = TableInsert(ENTRIES, ENTRY_COLUMNS, dialect)
        self.postings = TableInsert(POSTINGS, POSTING_COLUMNS, dialect)
        self.headers = TableInsert(HEADERS, HEADER_COLUMNS, dialect)
        self.registry = {
            table: TableInsert(table, given_columns(table), dialect) for table in REGISTRY_ORDER
        }
        self.balance_moves: dict[tuple[int, int], int] = defaultdict(int)
        self.counter_moves: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulation-writer")
        self._pending: Future[None] | None = None
        self._periods: dict[dt.date, str] = {}
        self._cache_size: int | None = None
        if connection.dialect.name == "sqlite":
            # A larger page cache for the duration: the ledger's indexes take rows in account
            # order, all over the file.
            self._cache_size = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
            connection.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")

    def wait(self) -> None:
        """Wait for the chunk being written; raise what went wrong there."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        """Wait for the last chunk, stop the writer thread, give SQLite its cache size back."""
        try:
            self.wait()
        finally:
            self._pool.shutdown()
            if self._cache_size is not None:
                self.connection.exec_driver_sql(f"PRAGMA cache_size = {int(self._cache_size)}")

    def _run(self, steps: list[Step]) -> None:
        for statement, rows in steps:
            if not rows:
                continue
            if isinstance(statement, TableInsert):
                statement.run(self.connection, rows)
            else:
                self.connection.execute(statement, rows)

    def open_accounts(self, specs: Sequence[tuple[str, AccountType, str]]) -> list[int]:
        """Accounts (code, type, district) with their balance rows; their ids, in order."""
        self.wait()
        if not specs:
            return []
        rows = [
            {
                "code": code,
                "type": type_.value,
                "normal_side": type_.normal_side.value,
                "district": district,
                "shards": SHARDS.get(type_, 1),
                "created_at": self.now,
            }
            for code, type_, district in specs
        ]
        ids = [
            int(row[0])
            for row in self.connection.execute(
                insert(ACCOUNTS).returning(ACCOUNTS.c.id, sort_by_parameter_order=True), rows
            )
        ]
        self.connection.execute(
            insert(BALANCES),
            [
                {"account_id": account, "shard": shard, "balance": 0}
                for account, (_, type_, _) in zip(ids, specs, strict=True)
                for shard in range(SHARDS.get(type_, 1))
            ],
        )
        for account, (_, type_, _) in zip(ids, specs, strict=True):
            self.books.open(account, type_)
        return ids

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Registry rows that refer to no transaction (clinics, classes), written at once."""
        self.wait()
        if rows:
            self.connection.execute(insert(table), rows)

    def write(self, bookings: Sequence[Booking], later: Sequence[Step] = ()) -> None:
        """One chunk: legs, limit postings, headers, then the registry rows that refer to
        them, then ``later`` (registry changes); handed to the writer thread."""
        self.wait()
        ids = reserve_transaction_ids(self.connection, len(bookings))
        entries: list[tuple[int, int, int]] = []
        postings: list[tuple[int, int, str, int, int]] = []
        headers: list[tuple[Any, ...]] = []
        registry: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        sharded = self.books.sharded
        balance_moves, counter_moves = self.balance_moves, self.counter_moves
        day_of = self.headers.processor("effective_date")
        details_of = self.headers.processor("details")
        booked_at = self.headers.processor("booked_at")(self.now)
        for tx, booking in zip(ids, bookings, strict=True):
            for account, amount in sorted(booking.planned.entries.items()):
                entries.append((tx, account, amount))
                balance_moves[(account, tx % sharded.get(account, 1))] += amount
            for p in booking.planned.limit_postings:
                postings.append((tx, p.account, p.key, p.amount, p.count))
                move = counter_moves[(p.account, p.key)]
                move[0] += p.amount
                move[1] += p.count
            details = {
                "transfers": [dict(vars(o)) for o in booking.planned.outcomes],
                "meta": booking.meta,
            }
            headers.append(
                (
                    tx,
                    booking.kind,
                    day_of(booking.day),
                    booked_at,
                    None,
                    None,
                    None,
                    booking.district,
                    details_of(details),
                    self._period(booking.day),
                )
            )
            for table, row, column in booking.rows:
                if column:
                    row[column] = tx
                registry[table].append(row)
        steps: list[Step] = [
            (self.entries, entries),
            (self.postings, postings),
            (self.headers, headers),
        ]
        steps += [
            (self.registry[table], self.registry[table].tuples(registry[table]))
            for table in REGISTRY_ORDER
        ]
        self._pending = self._pool.submit(self._run, [*steps, *later])

    def _period(self, day: dt.date) -> str:
        """The settlement quarter of a day ("2024-Q2"): the simulation closes none."""
        period = self._periods.get(day)
        if period is None:
            period = self._periods[day] = label(*quarter_of(day))
        return period

    def settle(self) -> None:
        """Move the balance rows and limit counters by what this database transaction booked."""
        self.wait()
        moves = [
            {"b_account": a, "b_shard": s, "b_delta": delta}
            for (a, s), delta in sorted(self.balance_moves.items())
            if delta
        ]
        counters = [
            {"account_id": a, "key": k, "amount": amount, "count": count}
            for (a, k), (amount, count) in sorted(self.counter_moves.items())
        ]
        self._run(
            [(MOVE_BALANCES, moves), (UPSERT_COUNTERS[self.connection.dialect.name], counters)]
        )
        self.balance_moves.clear()
        self.counter_moves.clear()
