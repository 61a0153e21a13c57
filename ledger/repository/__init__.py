"""All the SQL of the ledger. Built from a session; methods take and return domain values.

``statements`` holds the booking's prepared statements and the Core tables they run on;
``writing`` opens accounts and locks and writes a transaction; ``reading`` reads balances,
counters and history; ``verifying`` recomputes the running totals from the entries;
``ledger`` puts the three sides together as :class:`LedgerRepository`; ``missing`` creates a
row on first use without a race (``INSERT ... ON CONFLICT DO NOTHING``, then read).
"""

from ledger.repository.ledger import LedgerRepository
from ledger.repository.reading import (
    AccountInfo,
    DatedEntry,
    HistoryRow,
    entries_between,
    reversals_of,
)
from ledger.repository.statements import (
    ACCOUNTS,
    BALANCES,
    COUNTERS,
    ENTRIES,
    INSERT_ENTRIES,
    INSERT_HEADER,
    INSERT_LIMIT_POSTINGS,
    LIMIT_POSTINGS,
    LOCK_BALANCES,
    LOCK_COUNTERS,
    MOVE_BALANCES,
    MOVE_COUNTERS,
    NEXT_TRANSACTION_ID,
    TRANSACTIONS,
)
from ledger.repository.writing import Locked

__all__ = [
    "ACCOUNTS",
    "BALANCES",
    "COUNTERS",
    "ENTRIES",
    "INSERT_ENTRIES",
    "INSERT_HEADER",
    "INSERT_LIMIT_POSTINGS",
    "LIMIT_POSTINGS",
    "LOCK_BALANCES",
    "LOCK_COUNTERS",
    "MOVE_BALANCES",
    "MOVE_COUNTERS",
    "NEXT_TRANSACTION_ID",
    "TRANSACTIONS",
    "AccountInfo",
    "DatedEntry",
    "HistoryRow",
    "LedgerRepository",
    "Locked",
    "entries_between",
    "reversals_of",
]
