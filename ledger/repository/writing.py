"""Booking's SQL: opening accounts, then locking and writing a transaction.

The order matters and is the database's to enforce: legs and limit postings first, the
header last (its insert trigger checks the sum), then the running totals.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.clock import now
from ledger.domain import SHARDS, AccountType, Counter, LimitPosting, Plan, normal_sign
from ledger.errors import UnknownAccount
from ledger.models import Account, Balance, Entry, LimitPostingRow, Transaction
from ledger.repository import figures
from ledger.repository.figures import Count
from ledger.repository.missing import ignoring_existing
from ledger.repository.reading import AccountInfo, account_info
from ledger.repository.statements import (
    INSERT_ENTRIES,
    INSERT_HEADER,
    INSERT_LIMIT_POSTINGS,
    LOCK_BALANCES,
    LOCK_COUNTERS,
    MOVE_BALANCES,
    MOVE_COUNTERS,
    NEXT_TRANSACTION_ID,
)


@dataclass(frozen=True)
class Locked:
    """What a booking read under lock: its accounts, the balances of its unsharded accounts
    on their normal side, and its limit counters."""

    accounts: dict[int, AccountInfo]
    balances: dict[int, int]
    counters: dict[tuple[int, str], Counter]


class Writing:
    """The write side of :class:`~ledger.repository.LedgerRepository`: accounts and booking."""

    session: Session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # Accounts ---------------------------------------------------------------------------

    def account_by_code(self, code: str) -> AccountInfo | None:
        row = self.session.execute(select(Account).where(Account.code == code)).scalar()
        return account_info(row) if row else None

    def accounts(self, ids: Iterable[int]) -> dict[int, AccountInfo]:
        wanted = set(ids)
        rows = self.session.execute(select(Account).where(Account.id.in_(wanted))).scalars()
        found = {row.id: account_info(row) for row in rows}
        missing = wanted - found.keys()
        if missing:
            raise UnknownAccount(f"no account with id {sorted(missing)}")
        return found

    def insert_account(self, *, code: str, type: AccountType, district: str | None) -> int:
        """The id of the account ``code``, opened with its balance rows unless it exists.

        Two transactions opening the same account at once (a district's first bookings)
        both get its id: the second's insert waits for the first and inserts nothing.
        """
        shards = SHARDS.get(type, 1)
        account_id = self.session.execute(
            ignoring_existing(self.session, Account)
            .values(
                code=code,
                type=type.value,
                normal_side=type.normal_side.value,
                district=district,
                shards=shards,
                created_at=now(),
            )
            .returning(Account.id)
        ).scalar()
        if account_id is None:
            existing = self.account_by_code(code)
            if existing is None:  # pragma: no cover - the conflict was on this very code
                raise UnknownAccount(f"account {code!r} neither inserted nor found")
            return existing.id
        self.session.execute(
            insert(Balance),
            [{"account_id": account_id, "shard": s, "balance": 0} for s in range(shards)],
        )
        return account_id

    # Booking ----------------------------------------------------------------------------

    def transaction(self, transaction_id: int) -> Transaction | None:
        return self.session.get(Transaction, transaction_id)

    def reversal_of(self, transaction_id: int) -> int | None:
        return self.session.execute(
            select(Transaction.id).where(Transaction.reverses_id == transaction_id)
        ).scalar()

    def allocate_transaction_id(self) -> int:
        return int(self.session.execute(NEXT_TRANSACTION_ID[self.dialect]).scalar_one())

    def lock(
        self,
        *,
        transaction_id: int,
        account_ids: Iterable[int],
        counter_keys: Iterable[tuple[int, str]],
    ) -> Locked:
        """Lock the balance rows and limit counters a booking touches, in one fixed order.

        Every booking locks balance rows first, then counters, each sorted by key, so two
        bookings never wait on each other in a cycle. A sharded account's row is the one
        ``transaction_id`` maps to. The accounts are read with their balance rows; an unknown
        one raises :class:`UnknownAccount`. SQLite ignores ``FOR UPDATE``: its writers are
        serialised.
        """
        wanted = set(account_ids)
        accounts: dict[int, AccountInfo] = {}
        balances: dict[int, int] = {}
        for account_id, code, type_, district, shards, raw in self.session.execute(
            LOCK_BALANCES, {"account_ids": sorted(wanted), "transaction_id": transaction_id}
        ):
            info = AccountInfo(account_id, code, AccountType(type_), district, shards)
            accounts[account_id] = info
            if shards == 1:
                balances[account_id] = normal_sign(info.type) * raw
        missing = wanted - accounts.keys()
        if missing:
            raise UnknownAccount(f"no account with id {sorted(missing)}")
        keys = sorted(set(counter_keys))
        counters: dict[tuple[int, str], Counter] = {}
        if keys:
            for account_id, key, amount, count in self.session.execute(
                LOCK_COUNTERS[self.dialect],
                [{"account_id": a, "key": k, "amount": 0, "count": 0} for a, k in keys],
            ):
                counters[(account_id, key)] = Counter(amount, count)
        return Locked(accounts=accounts, balances=balances, counters=counters)

    def write(
        self,
        *,
        transaction_id: int,
        plan: Plan,
        accounts: Mapping[int, AccountInfo],
        header: Mapping[str, Any],
        reported_as: tuple[str, dt.date] | None = None,
        counts: Iterable[Count] = (),
    ) -> None:
        """Insert the legs and counter moves, then the header, then move the running totals
        and the read models (``figures``: the events in ``counts`` and what the legs move,
        counted as ``reported_as``'s kind and date when given).

        The header goes last: its insert trigger refuses it unless the legs sum to zero, and
        the legs' insert trigger refuses any leg once the header exists.
        """
        entries = sorted(plan.entries.items())
        if entries:
            self.session.execute(
                INSERT_ENTRIES,
                [
                    {"transaction_id": transaction_id, "account_id": a, "amount": amount}
                    for a, amount in entries
                ],
            )
        if plan.limit_postings:
            self.session.execute(
                INSERT_LIMIT_POSTINGS,
                [
                    {
                        "transaction_id": transaction_id,
                        "account_id": p.account,
                        "key": p.key,
                        "amount": p.amount,
                        "count": p.count,
                    }
                    for p in plan.limit_postings
                ],
            )
        self.session.execute(INSERT_HEADER, {"id": transaction_id, "booked_at": now(), **header})
        if entries:
            self.session.execute(
                MOVE_BALANCES,
                [
                    {
                        "b_account": a,
                        "b_shard": transaction_id % accounts[a].shards,
                        "b_delta": amount,
                    }
                    for a, amount in entries
                ],
            )
        moves: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        for p in plan.limit_postings:
            moves[(p.account, p.key)][0] += p.amount
            moves[(p.account, p.key)][1] += p.count
        if moves:
            self.session.execute(
                MOVE_COUNTERS,
                [
                    {"c_account": a, "c_key": k, "c_amount": amt, "c_count": cnt}
                    for (a, k), (amt, cnt) in sorted(moves.items())
                ],
            )
        figures.apply(
            self.session,
            figures.moves_of(
                transaction_id=transaction_id,
                entries=entries,
                accounts=accounts,
                header=header,
                reported_as=reported_as,
                counts=counts,
            ),
        )

    def entries_of(self, transaction_id: int) -> dict[int, int]:
        return {
            account_id: amount
            for account_id, amount in self.session.execute(
                select(Entry.account_id, Entry.amount).where(Entry.transaction_id == transaction_id)
            )
        }

    def limit_postings_of(self, transaction_id: int) -> list[LimitPosting]:
        return [
            LimitPosting(row.account_id, row.key, row.amount, row.count)
            for row in self.session.execute(
                select(LimitPostingRow)
                .where(LimitPostingRow.transaction_id == transaction_id)
                .order_by(LimitPostingRow.id)
            ).scalars()
        ]
