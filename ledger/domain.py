"""The double-entry model, in pure Python: no I/O, no framework.

A *transaction* moves mileage between *accounts* through *entries* (legs): signed integer
amounts in M, positive for a debit and negative for a credit, one entry per account per
transaction. Every transaction sums to zero. Booked transactions are never changed: a mistake
is undone by a *reversal*, a mirror transaction that points back to the one it undoes, and a
transaction is reversed at most once.

Each account has a type, and the type fixes its *normal side*: a patient's account is a
liability of the programme (credit-normal), so a patient's balance is the negated sum of its
entries. Balances are reported on the normal side throughout.

Callers describe what to book as *transfers* (one debit account, one credit account, one
amount). A transfer may carry *limits*: named counters on the credited account with a ceiling
on the amount credited under them (an annual cap) or on the number of awards (once a month).
The transfer is credited at most what every limit leaves; what a limit withholds is reported,
never silently dropped. Limit counters move with the entries, so a reversal gives back what
the reversed transaction used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ledger.errors import BelowThreshold, InsufficientFunds, UnbalancedTransaction

__all__ = [
    "SHARDS",
    "AccountType",
    "Counter",
    "Limit",
    "LimitPosting",
    "Plan",
    "Side",
    "Transfer",
    "TransferOutcome",
    "apply_limits",
    "mirror",
    "normal_sign",
    "plan",
]


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class AccountType(StrEnum):
    """The role of an account; the role fixes its normal side."""

    PATIENT = "patient"
    CLINIC_EARNED = "clinic_earned"
    CLINIC_REIMBURSABLE = "clinic_reimbursable"
    DISTRICT_EXPENSE = "district_expense"
    DISTRICT_PAYABLE = "district_payable"
    DISTRICT_CASH = "district_cash"
    CITY_GRANT = "city_grant"
    FORFEITURE = "forfeiture"

    @property
    def normal_side(self) -> Side:
        return Side.DEBIT if self in _DEBIT_NORMAL else Side.CREDIT

    @property
    def may_go_negative(self) -> bool:
        """Whether an ordinary booking may take this account below zero on its normal side."""
        return self not in _NEVER_NEGATIVE


_DEBIT_NORMAL = frozenset({AccountType.DISTRICT_EXPENSE, AccountType.DISTRICT_CASH})
_NEVER_NEGATIVE = frozenset(
    {AccountType.PATIENT, AccountType.CLINIC_EARNED, AccountType.CLINIC_REIMBURSABLE}
)

# A district's expense account takes one leg of every award in the district, so a single
# balance row would serialise every booking in the district on one row lock. Its balance is
# kept in this many rows instead; a transaction updates the row ``transaction_id % shards``
# and the balance is their sum. All other accounts are touched by few writers and keep one row.
SHARDS: Mapping[AccountType, int] = {AccountType.DISTRICT_EXPENSE: 16}


def normal_sign(account_type: AccountType) -> int:
    """+1 where a debit raises the balance, -1 where a credit does."""
    return 1 if account_type.normal_side is Side.DEBIT else -1


@dataclass(frozen=True)
class Limit:
    """A ceiling on what may be credited to an account under a key, such as ``2024/annual``.

    ``max_amount`` caps the sum credited under the key, ``max_count`` the number of awards;
    ``reason`` is what the award reports when this limit is the one that withholds.
    """

    key: str
    reason: str
    max_amount: int | None = None
    max_count: int | None = None

    def __post_init__(self) -> None:
        if self.max_amount is None and self.max_count is None:
            raise ValueError(f"limit {self.key!r} needs max_amount or max_count")
        if (self.max_amount is not None and self.max_amount < 0) or (
            self.max_count is not None and self.max_count < 0
        ):
            raise ValueError(f"limit {self.key!r} has a negative ceiling")


@dataclass
class Counter:
    """What has been credited under one limit key of one account so far."""

    amount: int = 0
    count: int = 0


@dataclass(frozen=True)
class Transfer:
    """Move ``amount`` from ``debit`` to ``credit``, within ``limits`` on the credited account.

    ``min_debit_balance`` refuses the transfer unless the debited account holds at least that
    much beforehand (a spending threshold). ``follows`` names an earlier transfer of the same
    transaction (by position) whose eligibility this one shares: when that one was stopped
    by a count limit, this one books nothing, for the same reason (a clinic's award for a
    patient's visit follows the patient's once-a-month rule). ``allow_negative`` lets the
    debit take an account below zero (a settlement paying out what a later correction took
    back). ``tag`` is the caller's label for the transfer (a rule name, a purpose) and is kept
    with the transaction.
    """

    debit: int
    credit: int
    amount: int
    limits: tuple[Limit, ...] = ()
    min_debit_balance: int | None = None
    follows: int | None = None
    allow_negative: bool = False
    tag: str = ""

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("a transfer's amount is never negative; swap debit and credit")
        if self.debit == self.credit:
            raise ValueError("a transfer needs two different accounts")


@dataclass(frozen=True)
class TransferOutcome:
    """What a transfer booked: ``amount`` credited and ``clipped`` withheld, and why."""

    tag: str
    debit: int
    credit: int
    requested: int
    amount: int
    clipped: int
    reason: str | None


@dataclass(frozen=True)
class LimitPosting:
    """A move of one limit counter, booked with the transaction that caused it."""

    account: int
    key: str
    amount: int
    count: int


@dataclass
class Plan:
    """The rows one transaction books: its entries, its limit postings, its outcomes."""

    entries: dict[int, int] = field(default_factory=dict)
    limit_postings: list[LimitPosting] = field(default_factory=list)
    outcomes: list[TransferOutcome] = field(default_factory=list)

    def check_balanced(self) -> None:
        total = sum(self.entries.values())
        if total != 0:
            raise UnbalancedTransaction(f"legs sum to {total}, not 0")


def apply_limits(
    requested: int, limits: Sequence[Limit], counters: Mapping[str, Counter]
) -> tuple[int, str | None]:
    """How much of ``requested`` the limits let through, and the reason for any shortfall.

    A count limit that is used up lets nothing through. Otherwise the award is cut to the
    smallest amount left under any amount limit; the reason is that limit's. Limits are
    checked in the order given, so the first of two equally tight limits names the reason.
    """
    for limit in limits:
        used = counters.get(limit.key, Counter())
        if limit.max_count is not None and used.count >= limit.max_count:
            return 0, limit.reason
    credited, reason = requested, None
    for limit in limits:
        if limit.max_amount is None:
            continue
        left = max(limit.max_amount - counters.get(limit.key, Counter()).amount, 0)
        if left < credited:
            credited, reason = left, limit.reason
    return credited, reason


def plan(
    transfers: Iterable[Transfer],
    *,
    types: Mapping[int, AccountType],
    balances: Mapping[int, int],
    counters: Mapping[tuple[int, str], Counter],
) -> Plan:
    """Turn transfers into the entries and counter moves of one transaction.

    ``balances`` are the accounts' current balances on their normal side and ``counters`` the
    current limit counters, both read under lock by the caller. Transfers are applied in
    order, each seeing the ones before it, so two awards in one event share one annual cap.
    """
    result = Plan()
    running = dict(balances)
    used = {key: Counter(c.amount, c.count) for key, c in counters.items()}
    stopped_by: list[str | None] = []
    for position, transfer in enumerate(transfers):
        own = {
            limit.key: used.get((transfer.credit, limit.key), Counter())
            for limit in transfer.limits
        }
        exhausted = next(
            (
                limit.reason
                for limit in transfer.limits
                if limit.max_count is not None and own[limit.key].count >= limit.max_count
            ),
            None,
        )
        if transfer.follows is not None:
            if not 0 <= transfer.follows < position:
                raise ValueError("a transfer can only follow an earlier one")
            exhausted = exhausted or stopped_by[transfer.follows]
        stopped_by.append(exhausted)
        eligible = exhausted is None
        if eligible:
            amount, reason = apply_limits(transfer.amount, transfer.limits, own)
        else:
            amount, reason = 0, exhausted
        debit_type = types[transfer.debit]
        before = running.get(transfer.debit, 0)
        if transfer.min_debit_balance is not None and before < transfer.min_debit_balance:
            raise BelowThreshold(transfer.debit, before, transfer.min_debit_balance)
        after = before + normal_sign(debit_type) * amount
        if not (debit_type.may_go_negative or transfer.allow_negative) and after < 0:
            raise InsufficientFunds(transfer.debit, before, amount)
        running[transfer.debit] = after
        credit_type = types[transfer.credit]
        running[transfer.credit] = (
            running.get(transfer.credit, 0) - normal_sign(credit_type) * amount
        )
        if amount:
            _add(result.entries, transfer.debit, amount)
            _add(result.entries, transfer.credit, -amount)
        if eligible:
            for limit in transfer.limits:
                counter = used.setdefault((transfer.credit, limit.key), Counter())
                counter.amount += amount
                counter.count += 1
                result.limit_postings.append(LimitPosting(transfer.credit, limit.key, amount, 1))
        result.outcomes.append(
            TransferOutcome(
                tag=transfer.tag,
                debit=transfer.debit,
                credit=transfer.credit,
                requested=transfer.amount,
                amount=amount,
                clipped=transfer.amount - amount,
                reason=reason,
            )
        )
    result.entries = {account: amt for account, amt in result.entries.items() if amt != 0}
    result.check_balanced()
    return result


def mirror(entries: Mapping[int, int], limit_postings: Iterable[LimitPosting]) -> Plan:
    """The reversal of a transaction: every entry and every counter move negated."""
    return Plan(
        entries={account: -amount for account, amount in entries.items()},
        limit_postings=[
            LimitPosting(p.account, p.key, -p.amount, -p.count) for p in limit_postings
        ],
    )


def _add(entries: dict[int, int], account: int, amount: int) -> None:
    entries[account] = entries.get(account, 0) + amount
