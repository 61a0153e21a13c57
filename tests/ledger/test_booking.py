"""Booking transfers: balances, limits, idempotency, reversal."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from ledger.domain import AccountType, Limit, Transfer
from ledger.errors import (
    AlreadyReversed,
    BelowThreshold,
    InsufficientFunds,
    NotCorrectable,
    NotReversible,
)
from ledger.services.booking import book, reverse
from ledger.services.reading import balance, history
from ledger.services.verify import verify
from tests.factories import make_account, make_award_accounts

DAY = dt.date(2024, 3, 5)
ANNUAL = Limit("2024/annual", "annual_cap", max_amount=35_000)


def award(session: Session, expense: int, patient: int, amount: int, *limits: Limit, **kw):
    # Booked as a visit's award: a reversal undoes only the programme's events.
    return book(
        session,
        kind="visit",
        effective_date=kw.pop("day", DAY),
        transfers=[Transfer(debit=expense, credit=patient, amount=amount, limits=limits)],
        **kw,
    )


def test_an_award_moves_mileage_from_the_district_to_the_patient(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    booked = award(session, expense, patient, 3_000)
    assert balance(session, patient) == 3_000
    assert balance(session, expense) == 3_000
    assert booked.outcomes[0].amount == 3_000
    assert booked.outcomes[0].clipped == 0


def test_an_award_that_would_cross_the_cap_is_clipped_and_the_rest_reported(
    session: Session,
) -> None:
    expense, patient = make_award_accounts(session)
    award(session, expense, patient, 34_500, ANNUAL)
    booked = award(session, expense, patient, 1_000, ANNUAL)
    outcome = booked.outcomes[0]
    assert (outcome.amount, outcome.clipped, outcome.reason) == (500, 500, "annual_cap")
    assert balance(session, patient) == 35_000
    assert award(session, expense, patient, 1_000, ANNUAL).outcomes[0].amount == 0


def test_a_count_limit_allows_one_award_a_month(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    monthly = Limit("2024/visit/2024-03", "monthly_limit", max_count=1)
    assert award(session, expense, patient, 1_000, monthly, ANNUAL).outcomes[0].amount == 1_000
    second = award(session, expense, patient, 1_000, monthly, ANNUAL).outcomes[0]
    assert (second.amount, second.clipped, second.reason) == (0, 1_000, "monthly_limit")
    assert balance(session, patient) == 1_000


def test_two_transfers_in_one_transaction_share_the_cap(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    award(session, expense, patient, 34_000, ANNUAL)
    booked = book(
        session,
        kind="visit",
        effective_date=DAY,
        transfers=[
            Transfer(expense, patient, 1_000, (ANNUAL,), tag="visit"),
            Transfer(expense, patient, 2_000, (ANNUAL,), tag="control"),
        ],
    )
    assert [(o.tag, o.amount, o.clipped) for o in booked.outcomes] == [
        ("visit", 1_000, 0),
        ("control", 0, 2_000),
    ]


def test_spending_more_than_the_balance_is_refused_and_books_nothing(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    clinic = make_account(session, AccountType.CLINIC_REIMBURSABLE)
    award(session, expense, patient, 3_000)
    with pytest.raises(InsufficientFunds):
        book(
            session,
            kind="redemption",
            effective_date=DAY,
            transfers=[Transfer(patient, clinic, 3_001)],
        )
    assert balance(session, patient) == 3_000


def test_spending_below_the_threshold_is_refused(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    clinic = make_account(session, AccountType.CLINIC_REIMBURSABLE)
    award(session, expense, patient, 2_000)
    with pytest.raises(BelowThreshold):
        book(
            session,
            kind="redemption",
            effective_date=DAY,
            transfers=[Transfer(patient, clinic, 1_000, min_debit_balance=3_000)],
        )


def test_a_reversal_gives_back_the_balance_and_the_limit(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    monthly = Limit("2024/visit/2024-03", "monthly_limit", max_count=1)
    first = award(session, expense, patient, 1_000, monthly, ANNUAL)
    reversal = reverse(session, transaction_id=first.transaction_id, reason="wrong patient")
    assert balance(session, patient) == 0
    assert reversal.transaction_id != first.transaction_id
    assert award(session, expense, patient, 1_000, monthly, ANNUAL).outcomes[0].amount == 1_000


def test_a_transaction_is_reversed_at_most_once(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    first = award(session, expense, patient, 1_000)
    reversal = reverse(session, transaction_id=first.transaction_id, reason="typo")
    with pytest.raises(AlreadyReversed):
        reverse(session, transaction_id=first.transaction_id, reason="typo")
    with pytest.raises(NotReversible):
        reverse(session, transaction_id=reversal.transaction_id, reason="undo the undo")


@pytest.mark.parametrize("kind", ["settlement", "payment", "forfeiture", "migration"])
def test_only_the_programmes_events_are_reversed(session: Session, kind: str) -> None:
    """A payout, a payment, a forfeiture or a migration is never undone by a reversal."""
    expense, patient = make_award_accounts(session)
    booked = book(
        session, kind=kind, effective_date=DAY, transfers=[Transfer(expense, patient, 1_000)]
    )
    with pytest.raises(NotCorrectable):
        reverse(session, transaction_id=booked.transaction_id, reason="by mistake")
    assert balance(session, patient) == 1_000


def test_balance_as_of_a_date_counts_only_what_was_dated_by_then(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    award(session, expense, patient, 1_000, day=dt.date(2024, 1, 10))
    award(session, expense, patient, 2_000, day=dt.date(2024, 2, 10))
    assert balance(session, patient, as_of=dt.date(2024, 1, 31)) == 1_000
    assert balance(session, patient, as_of=dt.date(2024, 2, 10)) == 3_000
    assert balance(session, patient, as_of=dt.date(2023, 12, 31)) == 0


def test_history_pages_carry_the_running_balance(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    for month in range(1, 6):
        award(session, expense, patient, 1_000 * month, day=dt.date(2024, month, 1))
    first = history(session, patient, limit=2)
    assert [r.balance for r in first.rows] == [1_000, 3_000]
    second = history(session, patient, limit=2, cursor=first.next_cursor)
    assert second.opening_balance == 3_000
    assert [r.balance for r in second.rows] == [6_000, 10_000]
    third = history(session, patient, limit=2, cursor=second.next_cursor)
    assert [r.balance for r in third.rows] == [15_000]
    assert third.next_cursor is None


def test_a_late_entry_sorts_by_its_date_in_history(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    award(session, expense, patient, 1_000, day=dt.date(2024, 1, 20))
    award(session, expense, patient, 3_000, day=dt.date(2023, 12, 28))
    rows = history(session, patient).rows
    assert [(r.effective_date, r.balance) for r in rows] == [
        (dt.date(2023, 12, 28), 3_000),
        (dt.date(2024, 1, 20), 4_000),
    ]


def test_the_ledger_verifies_after_bookings(session: Session) -> None:
    expense, patient = make_award_accounts(session)
    award(session, expense, patient, 1_000, ANNUAL)
    session.flush()
    assert verify(session) == []


def test_a_following_transfer_shares_the_eligibility_of_the_one_it_follows(
    session: Session,
) -> None:
    expense, patient = make_award_accounts(session)
    clinic = make_account(session, AccountType.CLINIC_EARNED)
    monthly = Limit("2024/visit/2024-03", "monthly_limit", max_count=1)

    def visit() -> list[tuple[int, str | None]]:
        booked = book(
            session,
            kind="visit",
            effective_date=DAY,
            transfers=[
                Transfer(expense, patient, 1_000, (monthly,)),
                Transfer(expense, clinic, 2_000, follows=0),
            ],
        )
        return [(o.amount, o.reason) for o in booked.outcomes]

    assert visit() == [(1_000, None), (2_000, None)]
    assert visit() == [(0, "monthly_limit"), (0, "monthly_limit")]
    assert balance(session, clinic) == 2_000
