"""All the SQL of the ledger. Built from a session; methods take and return domain values."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Executable,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.clock import now
from ledger.domain import SHARDS, AccountType, Counter, LimitPosting, Plan, normal_sign
from ledger.errors import UnknownAccount
from ledger.models import (
    Account,
    Balance,
    Entry,
    LimitCounter,
    LimitPostingRow,
    Transaction,
)

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


@dataclass(frozen=True)
class AccountInfo:
    id: int
    code: str
    type: AccountType
    district: str | None
    shards: int


@dataclass(frozen=True)
class Locked:
    """What a booking read under lock: its accounts, the balances of its unsharded accounts
    on their normal side, and its limit counters."""

    accounts: dict[int, AccountInfo]
    balances: dict[int, int]
    counters: dict[tuple[int, str], Counter]


@dataclass(frozen=True)
class HistoryRow:
    transaction_id: int
    entry_id: int
    effective_date: dt.date
    kind: str
    amount: int
    balance: int
    details: dict[str, Any]


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # Accounts ---------------------------------------------------------------------------

    def account_by_code(self, code: str) -> AccountInfo | None:
        row = self.session.execute(select(Account).where(Account.code == code)).scalar()
        return _info(row) if row else None

    def accounts(self, ids: Iterable[int]) -> dict[int, AccountInfo]:
        wanted = set(ids)
        rows = self.session.execute(select(Account).where(Account.id.in_(wanted))).scalars()
        found = {row.id: _info(row) for row in rows}
        missing = wanted - found.keys()
        if missing:
            raise UnknownAccount(f"no account with id {sorted(missing)}")
        return found

    def insert_account(self, *, code: str, type: AccountType, district: str | None) -> int:
        shards = SHARDS.get(type, 1)
        account_id = self.session.execute(
            insert(Account)
            .values(
                code=code,
                type=type.value,
                normal_side=type.normal_side.value,
                district=district,
                shards=shards,
                created_at=now(),
            )
            .returning(Account.id)
        ).scalar_one()
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
    ) -> None:
        """Insert the legs and counter moves, then the header, then move the running totals.

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

    # Reading ----------------------------------------------------------------------------

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

    # Verification -----------------------------------------------------------------------

    def balance_mismatches(self) -> list[tuple[int, int, int, int]]:
        """(account, shard, kept, recomputed) for every balance row its entries disagree with."""
        shard = Entry.transaction_id % Account.shards
        recomputed = dict(
            ((a, s), int(total))
            for a, s, total in self.session.execute(
                select(Entry.account_id, shard, func.sum(Entry.amount))
                .join(Account, Account.id == Entry.account_id)
                .group_by(Entry.account_id, shard)
            )
        )
        out = []
        kept: dict[tuple[int, int], int] = {}
        for a, s, b in self.session.execute(
            select(Balance.account_id, Balance.shard, Balance.balance)
        ):
            kept[(a, s)] = b
        for key in sorted(kept.keys() | recomputed.keys()):
            if kept.get(key, 0) != recomputed.get(key, 0) or key not in kept:
                out.append((key[0], key[1], kept.get(key, 0), recomputed.get(key, 0)))
        return out

    def counter_mismatches(self) -> list[tuple[int, str, Counter, Counter]]:
        recomputed = {
            (a, k): Counter(int(amt), int(cnt))
            for a, k, amt, cnt in self.session.execute(
                select(
                    LimitPostingRow.account_id,
                    LimitPostingRow.key,
                    func.sum(LimitPostingRow.amount),
                    func.sum(LimitPostingRow.count),
                ).group_by(LimitPostingRow.account_id, LimitPostingRow.key)
            )
        }
        kept = {
            (a, k): Counter(amt, cnt)
            for a, k, amt, cnt in self.session.execute(
                select(
                    LimitCounter.account_id,
                    LimitCounter.key,
                    LimitCounter.amount,
                    LimitCounter.count,
                )
            )
        }
        out = []
        for key in sorted(kept.keys() | recomputed.keys()):
            have, want = kept.get(key, Counter()), recomputed.get(key, Counter())
            if have != want:
                out.append((key[0], key[1], have, want))
        return out

    def unbalanced_transactions(self) -> list[tuple[int, int]]:
        return [
            (tx, int(total))
            for tx, total in self.session.execute(
                select(Entry.transaction_id, func.sum(Entry.amount))
                .group_by(Entry.transaction_id)
                .having(func.sum(Entry.amount) != 0)
            )
        ]

    def orphan_legs(self) -> list[int]:
        return list(
            self.session.execute(
                select(Entry.transaction_id)
                .distinct()
                .outerjoin(Transaction, Transaction.id == Entry.transaction_id)
                .where(Transaction.id.is_(None))
            ).scalars()
        )


def _info(row: Account) -> AccountInfo:
    return AccountInfo(
        id=row.id,
        code=row.code,
        type=AccountType(row.type),
        district=row.district,
        shards=row.shards,
    )


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
