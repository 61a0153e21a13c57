"""Reading the ledger: balances now and as of a date, and an account's history."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.errors import LedgerError, UnknownTransaction
from ledger.models import Transaction
from ledger.repository import AccountInfo, HistoryRow, LedgerRepository

__all__ = [
    "HistoryPage",
    "InvalidCursor",
    "balance",
    "balances_of",
    "history",
    "transaction",
    "transaction_by_number",
    "transaction_number",
]

MAX_PAGE = 500


class InvalidCursor(LedgerError):
    """Raised when a pagination cursor was not made by this service."""


@dataclass(frozen=True)
class HistoryPage:
    opening_balance: int
    rows: list[HistoryRow]
    next_cursor: str | None


def balance(session: Session, account_id: int, *, as_of: dt.date | None = None) -> int:
    """An account's balance on its normal side: now, or at the end of day ``as_of``.

    Now is read from the running balance rows; as of a date is summed from the entries
    whose transactions are dated on or before it.
    """
    repo = LedgerRepository(session)
    return repo.balance(_account(repo, account_id), as_of=as_of)


def balances_of(session: Session, account_ids: Iterable[int]) -> dict[int, int]:
    """Many accounts' balances now, on their normal sides (unknown accounts left out)."""
    return LedgerRepository(session).balances(account_ids)


def history(
    session: Session, account_id: int, *, limit: int = 50, cursor: str | None = None
) -> HistoryPage:
    """An account's entries by effective date, each with the balance after it."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    repo = LedgerRepository(session)
    account = _account(repo, account_id)
    after = _decode(cursor) if cursor else None
    rows = repo.history(account, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        opening = rows[0].balance - rows[0].amount
    else:
        opening = repo.history_opening(account, after=after)
    next_cursor = _encode(rows[-1].effective_date, rows[-1].transaction_id) if more else None
    return HistoryPage(opening_balance=opening, rows=rows, next_cursor=next_cursor)


def _account(repo: LedgerRepository, account_id: int) -> AccountInfo:
    return repo.accounts([account_id])[account_id]


def _encode(day: dt.date, transaction_id: int) -> str:
    return base64.urlsafe_b64encode(f"{day.isoformat()}/{transaction_id}".encode()).decode()


def _decode(cursor: str) -> tuple[dt.date, int]:
    try:
        day, tx = base64.urlsafe_b64decode(cursor.encode()).decode().split("/")
        return dt.date.fromisoformat(day), int(tx)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("the cursor is not one this service gave out") from error


def transaction(session: Session, transaction_id: int) -> Transaction:
    """A booked transaction's header."""
    found = session.get(Transaction, transaction_id)
    if found is None:
        raise UnknownTransaction(f"no transaction {transaction_id}")
    return found


def transaction_number(text: str) -> int:
    """The ledger's number behind a transaction id as clients write it: ASCII decimal digits
    (``str.isdigit`` alone would pass ``²`` and full-width digits to ``int``)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise UnknownTransaction("no transaction with that id")
    return int(text)


def transaction_by_number(session: Session, text: str) -> Transaction:
    """A booked transaction's header, named by its id as clients write it."""
    return transaction(session, transaction_number(text))
