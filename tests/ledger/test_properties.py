"""Random sequences of awards, spending and reversals keep the ledger's rules.

A hypothesis state machine books against fresh accounts (one district expense account, three
patients, one clinic) and keeps its own model of what every account and limit counter must
hold. Every step runs in its own committed transaction; after each step the ledger must
balance, agree with the model, stay within every limit and verify clean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import run_in_transaction
from ledger.domain import AccountType, Limit, Transfer, TransferOutcome, normal_sign
from ledger.errors import (
    AlreadyReversed,
    InsufficientFunds,
    NotReversible,
)
from ledger.models import Balance, Entry, LimitCounter, LimitPostingRow, Transaction
from ledger.services.booking import Booked, book, reverse
from ledger.services.reading import balance
from ledger.services.verify import verify
from tests.factories import make_account

T = TypeVar("T")

DAY = dt.date(2024, 3, 5)
DISTRICT = "11740"
PATIENTS = 3

ANNUAL = Limit("2024/annual", "annual_cap", max_amount=20_000)
MONTHLY = Limit("2024/visit/2024-03", "monthly_limit", max_count=2)
EDUCATION = Limit("2024/education", "education_cap", max_amount=5_000, max_count=2)
LIMITS = {limit.key: limit for limit in (ANNUAL, MONTHLY, EDUCATION)}
LIMIT_SETS: list[tuple[Limit, ...]] = [
    (),
    (ANNUAL,),
    (MONTHLY, ANNUAL),
    (EDUCATION,),
    (EDUCATION, ANNUAL),
]

SETTINGS = settings(max_examples=30, stateful_step_count=20, deadline=None)

PATIENT = st.integers(0, PATIENTS - 1)
AMOUNTS = st.one_of(st.integers(0, 16).map(lambda n: n * 500), st.integers(0, 8_000))
AWARDS = st.lists(st.tuples(PATIENT, AMOUNTS, st.sampled_from(LIMIT_SETS)), min_size=1, max_size=3)


@dataclass(frozen=True)
class Request:
    """One call to the ledger."""

    kind: str
    transfers: tuple[Transfer, ...] = ()
    reverses: int | None = None

    def send(self, session: Session) -> Booked:
        if self.reverses is not None:
            return reverse(
                session,
                transaction_id=self.reverses,
                reason="property test",
                effective_date=DAY,
            )
        return book(
            session,
            kind=self.kind,
            effective_date=DAY,
            transfers=self.transfers,
            district=DISTRICT,
        )


@dataclass(frozen=True)
class Booking:
    """A booked transaction as the state machine saw it, for reversals."""

    transaction_id: int
    request: Request
    outcomes: tuple[TransferOutcome, ...]


@dataclass
class Expected:
    """The model's view of one booked transaction: raw signed entries and counter moves."""

    entries: dict[int, int]
    postings: list[tuple[int, str, int, int]]
    reverses: int | None = None
    reversed_by: int | None = None


@dataclass
class Awarded:
    """What the model expects a list of award transfers to book."""

    outcomes: list[tuple[int, int, str | None]] = field(default_factory=list)
    entries: dict[int, int] = field(default_factory=dict)
    postings: list[tuple[int, str, int, int]] = field(default_factory=list)


class LedgerMachine(RuleBasedStateMachine):
    sessions: ClassVar[sessionmaker[Session]]

    booked = Bundle("booked")

    def __init__(self) -> None:
        super().__init__()

        def open_accounts(session: Session) -> tuple[int, list[int], int, int]:
            expense = make_account(session, AccountType.DISTRICT_EXPENSE, DISTRICT)
            patients = [make_account(session, AccountType.PATIENT, DISTRICT) for _ in range(3)]
            clinic = make_account(session, AccountType.CLINIC_REIMBURSABLE, DISTRICT)
            return expense, patients, clinic, count_transactions(session)

        self.expense, self.patients, self.clinic, self.baseline = self.run(open_accounts)
        self.types = {
            self.expense: AccountType.DISTRICT_EXPENSE,
            self.clinic: AccountType.CLINIC_REIMBURSABLE,
            **{p: AccountType.PATIENT for p in self.patients},
        }
        self.raw = dict.fromkeys(self.types, 0)
        self.counters: dict[tuple[int, str], tuple[int, int]] = {}
        self.transactions: dict[int, Expected] = {}

    # Helpers ----------------------------------------------------------------------------

    def run(self, work: Callable[[Session], T]) -> T:
        return run_in_transaction(self.sessions, work)

    def expected_balance(self, account: int) -> int:
        return normal_sign(self.types[account]) * self.raw[account]

    def record(self, transaction_id: int, expected: Expected) -> None:
        assert transaction_id not in self.transactions
        self.transactions[transaction_id] = expected
        for account, amount in expected.entries.items():
            self.raw[account] += amount
        for account, key, amount, count in expected.postings:
            used = self.counters.get((account, key), (0, 0))
            self.counters[(account, key)] = (used[0] + amount, used[1] + count)

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a refused request must leave as it was."""
        accounts = list(self.types)

        def read(session: Session) -> tuple[Any, ...]:
            balances = session.execute(
                select(Balance.account_id, Balance.shard, Balance.balance)
                .where(Balance.account_id.in_(accounts))
                .order_by(Balance.account_id, Balance.shard)
            ).all()
            counters = session.execute(
                select(LimitCounter.account_id, LimitCounter.key, LimitCounter.amount)
                .add_columns(LimitCounter.count)
                .where(LimitCounter.account_id.in_(accounts))
                .order_by(LimitCounter.account_id, LimitCounter.key)
            ).all()
            postings = session.execute(select(func.count()).select_from(LimitPostingRow))
            entries = session.execute(select(func.count()).select_from(Entry))
            return (
                count_transactions(session),
                entries.scalar_one(),
                postings.scalar_one(),
                [tuple(row) for row in balances],
                [tuple(row) for row in counters if (row[2], row[3]) != (0, 0)],
            )

        return self.run(read)

    def refused(self, request: Request, error: type[Exception]) -> pytest.ExceptionInfo[Any]:
        before = self.snapshot()
        with pytest.raises(error) as caught:
            self.run(request.send)
        assert self.snapshot() == before, "a refused request booked something"
        event(f"refused: {error.__name__}")
        return caught

    def expect_awards(self, transfers: Sequence[Transfer]) -> Awarded:
        """The model of limits: a used-up count lets nothing through, else the tightest cap."""
        used = dict(self.counters)
        result = Awarded()
        for t in transfers:
            counters = {lim.key: used.get((t.credit, lim.key), (0, 0)) for lim in t.limits}
            exhausted = [
                lim
                for lim in t.limits
                if lim.max_count is not None and counters[lim.key][1] >= lim.max_count
            ]
            if exhausted:
                result.outcomes.append((0, t.amount, exhausted[0].reason))
                continue
            credited, reason = t.amount, None
            for lim in t.limits:
                if lim.max_amount is not None:
                    left = max(lim.max_amount - counters[lim.key][0], 0)
                    if left < credited:
                        credited, reason = left, lim.reason
            result.outcomes.append((credited, t.amount - credited, reason))
            if credited:
                result.entries[t.debit] = result.entries.get(t.debit, 0) + credited
                result.entries[t.credit] = result.entries.get(t.credit, 0) - credited
            for lim in t.limits:
                amount, count = used.get((t.credit, lim.key), (0, 0))
                used[(t.credit, lim.key)] = (amount + credited, count + 1)
                result.postings.append((t.credit, lim.key, credited, 1))
        result.entries = {a: amount for a, amount in result.entries.items() if amount}
        return result

    # Rules ------------------------------------------------------------------------------

    def _award(self, awards: list[tuple[int, int, tuple[Limit, ...]]]) -> Any:
        transfers = tuple(
            Transfer(self.expense, self.patients[p], amount, limits, tag=f"award-{i}")
            for i, (p, amount, limits) in enumerate(awards)
        )
        request = Request("visit", transfers)  # an event's award, which a reversal may undo
        expected = self.expect_awards(transfers)
        booked = self.run(request.send)
        assert [(o.amount, o.clipped, o.reason) for o in booked.outcomes] == expected.outcomes
        for _, clipped, reason in expected.outcomes:
            event(f"award: {'clipped by ' + str(reason) if clipped else 'in full'}")
        self.record(booked.transaction_id, Expected(expected.entries, expected.postings))
        return Booking(booked.transaction_id, request, booked.outcomes)

    @rule(target=booked, awards=AWARDS)
    def award(self, awards: list[tuple[int, int, tuple[Limit, ...]]]) -> Any:
        return self._award(awards)

    @rule(target=booked, patient=PATIENT, extra=st.integers(0, 3_000))
    def award_past_the_annual_cap(self, patient: int, extra: int) -> Any:
        """Ask for what the annual cap leaves plus ``extra``: exactly the rest is credited."""
        cap = ANNUAL.max_amount or 0
        left = cap - self.counters.get((self.patients[patient], ANNUAL.key), (0, 0))[0]
        booking = self._award([(patient, left + extra, (ANNUAL,))])
        outcome = booking.outcomes[0]
        assert (outcome.amount, outcome.clipped) == (left, extra)
        return booking

    @rule(target=booked, patient=PATIENT, amount=AMOUNTS)
    def spend(self, patient: int, amount: int) -> Any:
        account = self.patients[patient]
        request = Request("redemption", (Transfer(account, self.clinic, amount, tag="redemption"),))
        before = self.expected_balance(account)
        if before - amount < 0:
            caught = self.refused(request, InsufficientFunds)
            assert (caught.value.balance, caught.value.requested) == (before, amount)
            return multiple()
        booked = self.run(request.send)
        assert [(o.amount, o.clipped, o.reason) for o in booked.outcomes] == [(amount, 0, None)]
        entries = {account: amount, self.clinic: -amount} if amount else {}
        self.record(booked.transaction_id, Expected(entries, []))
        return Booking(booked.transaction_id, request, booked.outcomes)

    @rule(target=booked, original=booked)
    def reverse(self, original: Booking) -> Any:
        target = self.transactions[original.transaction_id]
        request = Request("reversal", reverses=original.transaction_id)
        if target.reverses is not None:
            self.refused(request, NotReversible)
            return multiple()
        if target.reversed_by is not None:
            caught = self.refused(request, AlreadyReversed)
            assert caught.value.reversal_id == target.reversed_by
            return multiple()
        booked = self.run(request.send)
        mirror = Expected(
            {a: -amount for a, amount in target.entries.items()},
            [(a, k, -amount, -count) for a, k, amount, count in target.postings],
            reverses=original.transaction_id,
        )
        self.record(booked.transaction_id, mirror)
        target.reversed_by = booked.transaction_id
        return Booking(booked.transaction_id, request, booked.outcomes)

    # Invariants -------------------------------------------------------------------------

    @invariant()
    def the_ledger_balances_verifies_and_matches_the_model(self) -> None:
        accounts = list(self.types)
        ours = list(self.transactions)

        def check(session: Session) -> None:
            unbalanced = session.execute(
                select(Entry.transaction_id, func.sum(Entry.amount))
                .group_by(Entry.transaction_id)
                .having(func.sum(Entry.amount) != 0)
            ).all()
            assert unbalanced == [], "a transaction's legs do not sum to zero"
            total = session.execute(select(func.coalesce(func.sum(Balance.balance), 0)))
            assert total.scalar_one() == 0, "the balances of all accounts do not sum to zero"
            assert verify(session) == []
            assert count_transactions(session) - self.baseline == len(self.transactions)

            booked: dict[int, dict[int, int]] = {tx: {} for tx in ours}
            for tx, account, amount in session.execute(
                select(Entry.transaction_id, Entry.account_id, Entry.amount).where(
                    Entry.transaction_id.in_(ours)
                )
            ):
                booked[tx][account] = amount
            assert booked == {tx: e.entries for tx, e in self.transactions.items()}

            for account in accounts:
                assert balance(session, account) == self.expected_balance(account), account

            counters = {
                (a, k): (amount, count)
                for a, k, amount, count in session.execute(
                    select(
                        LimitCounter.account_id,
                        LimitCounter.key,
                        LimitCounter.amount,
                        LimitCounter.count,
                    ).where(LimitCounter.account_id.in_(accounts))
                )
            }
            for (_, key), (amount, count) in counters.items():
                limit = LIMITS[key]
                assert 0 <= amount <= (limit.max_amount if limit.max_amount is not None else amount)
                assert 0 <= count <= (limit.max_count if limit.max_count is not None else count)
            assert {k: v for k, v in counters.items() if v != (0, 0)} == {
                k: v for k, v in self.counters.items() if v != (0, 0)
            }

        self.run(check)


def count_transactions(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Transaction)).scalar_one()


def test_random_bookings_balance_and_stay_within_limits(
    sessions: sessionmaker[Session],
) -> None:
    machine = type("LedgerMachineOnThisEngine", (LedgerMachine,), {"sessions": sessions})
    run_state_machine_as_test(machine, settings=SETTINGS)
