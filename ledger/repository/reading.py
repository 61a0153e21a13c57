"""The ledger's reads: balances, limit counters, an account's history, dated entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from ledger.domain import AccountType, Counter, normal_sign
from ledger.models import Account, Balance, Entry, LimitCounter, Transaction


@dataclass(frozen=True)
class AccountInfo:
    id: int
    code: str
    type: AccountType
    district: str | None
    shards: int


@dataclass(frozen=True)
class HistoryRow:
    transaction_id: int
    entry_id: int
    effective_date: dt.date
    kind: str
    amount: int
    balance: int
    details: dict[str, Any]


def account_info(row: Account) -> AccountInfo:
    return AccountInfo(
        id=row.id,
        code=row.code,
        type=AccountType(row.type),
        district=row.district,
        shards=row.shards,
    )


class Reading:
    """The read side of :class:`~ledger.repository.LedgerRepository`."""

    session: Session

    def balance(self, account: AccountInfo, *, as_of: dt.date | None = None) -> int:
        if as_of is None:
            raw = self.session.execute(
                select(func.coalesce(func.sum(Balance.balance), 0)).where(
                    Balance.account_id == account.id
                )
            ).scalar_one()
        else:
            raw = self.session.execute(
                select(func.coalesce(func.sum(Entry.amount), 0))
                .join(Transaction, Transaction.id == Entry.transaction_id)
                .where(Entry.account_id == account.id, Transaction.effective_date <= as_of)
            ).scalar_one()
        return normal_sign(account.type) * int(raw)

    def balances(self, account_ids: Iterable[int]) -> dict[int, int]:
        """The balances now of many accounts on their normal sides, in one statement."""
        rows = self.session.execute(
            select(Account.id, Account.type, func.coalesce(func.sum(Balance.balance), 0))
            .outerjoin(Balance, Balance.account_id == Account.id)
            .where(Account.id.in_(set(account_ids)))
            .group_by(Account.id, Account.type)
        )
        return {a: normal_sign(AccountType(t)) * int(raw) for a, t, raw in rows}

    def counter(self, account_id: int, key: str) -> Counter:
        row = self.session.get(LimitCounter, (account_id, key))
        return Counter(row.amount, row.count) if row else Counter()

    def history_opening(self, account: AccountInfo, *, after: tuple[dt.date, int] | None) -> int:
        """The balance on the normal side just after position ``after`` (0 at the start)."""
        if after is None:
            return 0
        raw = self.session.execute(
            select(func.coalesce(func.sum(Entry.amount), 0))
            .join(Transaction, Transaction.id == Entry.transaction_id)
            .where(
                Entry.account_id == account.id,
                tuple_(Transaction.effective_date, Transaction.id) <= tuple_(*after),
            )
        ).scalar_one()
        return normal_sign(account.type) * int(raw)

    def history(
        self,
        account: AccountInfo,
        *,
        after: tuple[dt.date, int] | None,
        limit: int,
    ) -> list[HistoryRow]:
        """Entries in (effective date, transaction) order, with the balance after each."""
        sign = normal_sign(account.type)
        page = (
            select(
                Entry.amount,
                Entry.id,
                Transaction.id,
                Transaction.effective_date,
                Transaction.kind,
                Transaction.details,
            )
            .join(Transaction, Transaction.id == Entry.transaction_id)
            .where(Entry.account_id == account.id)
            .order_by(Transaction.effective_date, Transaction.id)
            .limit(limit)
        )
        if after is not None:
            page = page.where(tuple_(Transaction.effective_date, Transaction.id) > tuple_(*after))
        running = self.history_opening(account, after=after)
        rows: list[HistoryRow] = []
        for amount, entry_id, tx_id, effective, kind, details in self.session.execute(page):
            running += sign * amount
            rows.append(
                HistoryRow(
                    transaction_id=tx_id,
                    entry_id=entry_id,
                    effective_date=effective,
                    kind=kind,
                    amount=sign * amount,
                    balance=running,
                    details=details or {},
                )
            )
        return rows


@dataclass(frozen=True)
class DatedEntry:
    account_id: int
    transaction_id: int
    effective_date: dt.date
    kind: str
    amount: int  # raw signed: debit positive
    details: dict[str, Any]
    reverses_id: int | None


def entries_between(
    session: Session, account_ids: Iterable[int], start: dt.date, end: dt.date
) -> list[DatedEntry]:
    """Entries of the accounts dated from ``start`` to ``end`` inclusive, in date order."""
    rows = session.execute(
        select(
            Entry.account_id,
            Entry.transaction_id,
            Transaction.effective_date,
            Transaction.kind,
            Entry.amount,
            Transaction.details,
            Transaction.reverses_id,
        )
        .join(Transaction, Transaction.id == Entry.transaction_id)
        .where(
            Entry.account_id.in_(list(account_ids)),
            Transaction.effective_date >= start,
            Transaction.effective_date <= end,
        )
        .order_by(Transaction.effective_date, Transaction.id, Entry.account_id)
    )
    return [DatedEntry(a, t, d, k, amt, det or {}, rev) for a, t, d, k, amt, det, rev in rows]


def reversals_of(session: Session, transaction_ids: Iterable[int]) -> dict[int, int]:
    """The reversal of each of ``transaction_ids`` that has one: {original: reversal}."""
    wanted = list(transaction_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Transaction.reverses_id, Transaction.id).where(Transaction.reverses_id.in_(wanted))
    )
    return {original: reversal for original, reversal in rows if original is not None}
