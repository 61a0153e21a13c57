"""The books in memory: the balances and limit counters a live booking would read, and the
bookings planned against them by the same pure code (:func:`ledger.domain.plan`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from ledger.domain import SHARDS, AccountType, Counter, Plan, Transfer, normal_sign, plan

__all__ = ["Booking", "Books"]


class Books:
    """The balances and limit counters a live booking would read under lock, kept in memory.

    Each event is planned by :func:`ledger.domain.plan`, exactly as a live booking, against
    just the accounts and counters it touches; what it books then moves them here.
    """

    def __init__(self) -> None:
        self.types: dict[int, AccountType] = {}
        self.sharded: dict[int, int] = {}  # account: shards, for sharded accounts
        self.signs: dict[int, int] = {}
        self.balances: dict[int, int] = {}  # on the normal side, unsharded accounts
        self.counters: dict[tuple[int, str], Counter] = {}

    def open(self, account: int, type_: AccountType) -> None:
        self.types[account] = type_
        self.signs[account] = normal_sign(type_)
        if type_ in SHARDS:
            self.sharded[account] = SHARDS[type_]

    def balance(self, account: int) -> int:
        return self.balances.get(account, 0)

    def plan(self, transfers: Sequence[Transfer]) -> Plan:
        """Plan one transaction as a live booking would, then move balances and counters."""
        own, sharded, kept = self.balances, self.sharded, self.counters
        balances: dict[int, int] = {}
        counters: dict[tuple[int, str], Counter] = {}
        for t in transfers:
            for account in (t.debit, t.credit):
                if account not in sharded:
                    balances[account] = own.get(account, 0)
            for limit in t.limits:
                key = (t.credit, limit.key)
                if key in kept:
                    counters[key] = kept[key]
        planned = plan(transfers, types=self.types, balances=balances, counters=counters)
        for account, amount in planned.entries.items():
            if account not in sharded:
                own[account] = own.get(account, 0) + self.signs[account] * amount
        for posting in planned.limit_postings:
            counter = kept.get((posting.account, posting.key))
            if counter is None:
                counter = kept[(posting.account, posting.key)] = Counter()
            counter.amount += posting.amount
            counter.count += posting.count
        return planned

    def forget_year(self, year: int) -> None:
        """Drop the counters of a finished year: no later event reads them."""
        prefix = f"{year}/"
        self.counters = {k: c for k, c in self.counters.items() if not k[1].startswith(prefix)}


@dataclass
class Booking:
    """One transaction to write, and the registry rows that refer to it.

    ``rows`` are (table, row, the row's column that takes the transaction id).
    """

    kind: str
    day: dt.date
    district: str
    planned: Plan
    meta: dict[str, Any]
    rows: list[tuple[Table, dict[str, Any], str]] = field(default_factory=list)
