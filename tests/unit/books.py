"""An in-memory stand-in for the repository: balances and limit counters moved by plans.

It does what a booking does around :func:`ledger.domain.plan`, without a database: hand the
planner the current balances (on their normal side) and counters, then move them by the
entries and limit postings it returns. A reversal is the :func:`ledger.domain.mirror` of a
booked plan, applied the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ledger.domain import AccountType, Counter, Plan, Transfer, mirror, normal_sign, plan

# The accounts of one event: a district's expense account, a patient, the patient's clinic;
# then the accounts spending and settlement touch.
EXPENSE, PATIENT, CLINIC, REIMBURSABLE, PAYABLE, CASH = 1, 2, 3, 4, 5, 6
TYPES: Mapping[int, AccountType] = {
    EXPENSE: AccountType.DISTRICT_EXPENSE,
    PATIENT: AccountType.PATIENT,
    CLINIC: AccountType.CLINIC_EARNED,
    REIMBURSABLE: AccountType.CLINIC_REIMBURSABLE,
    PAYABLE: AccountType.DISTRICT_PAYABLE,
    CASH: AccountType.DISTRICT_CASH,
}


class Books:
    """Balances and limit counters kept in memory, booked through the pure planner."""

    def __init__(
        self,
        balances: Mapping[int, int] | None = None,
        counters: Mapping[tuple[int, str], Counter] | None = None,
    ) -> None:
        self.balances: dict[int, int] = dict(balances or {})
        self.counters: dict[tuple[int, str], Counter] = {
            key: Counter(c.amount, c.count) for key, c in (counters or {}).items()
        }

    def book(self, transfers: Iterable[Transfer]) -> Plan:
        planned = plan(transfers, types=TYPES, balances=self.balances, counters=self.counters)
        self.apply(planned)
        return planned

    def reverse(self, booked: Plan) -> Plan:
        reversal = mirror(booked.entries, booked.limit_postings)
        self.apply(reversal)
        return reversal

    def apply(self, planned: Plan) -> None:
        for account, amount in planned.entries.items():
            self.balances[account] = (
                self.balances.get(account, 0) + normal_sign(TYPES[account]) * amount
            )
        for posting in planned.limit_postings:
            counter = self.counters.setdefault((posting.account, posting.key), Counter())
            counter.amount += posting.amount
            counter.count += posting.count

    def balance(self, account: int) -> int:
        return self.balances.get(account, 0)

    def counter(self, account: int, key: str) -> Counter:
        return self.counters.get((account, key), Counter())

    def snapshot(self) -> tuple[dict[int, int], dict[tuple[int, str], tuple[int, int]]]:
        """Balances and counters as plain values, zeros dropped, for comparing two states."""
        balances = {a: b for a, b in self.balances.items() if b}
        counters = {k: (c.amount, c.count) for k, c in self.counters.items() if c.amount or c.count}
        return balances, counters
