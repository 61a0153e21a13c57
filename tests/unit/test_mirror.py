"""A reversal is the mirror image of what it undoes: every leg and every counter move negated."""

from __future__ import annotations

from ledger.domain import Counter, Limit, LimitPosting, Transfer, mirror
from tests.unit.books import CLINIC, EXPENSE, PATIENT, Books

ANNUAL = Limit("2024/annual", "annual_cap", max_amount=35_000)
MONTHLY = Limit("2024/visit/2024-03", "monthly_limit", max_count=1)
CLINIC_ANNUAL = Limit("2024/annual", "annual_cap", max_amount=3_000_000)


def visit() -> list[Transfer]:
    return [
        Transfer(EXPENSE, PATIENT, 1_000, (MONTHLY, ANNUAL), tag="patient:visit"),
        Transfer(EXPENSE, CLINIC, 2_000, (CLINIC_ANNUAL,), follows=0, tag="clinic:visit"),
    ]


def test_a_reversal_mirrors_every_leg_and_counter() -> None:
    books = Books()
    booked = books.book(visit())
    reversal = mirror(booked.entries, booked.limit_postings)
    assert reversal.entries == {EXPENSE: -3_000, PATIENT: 1_000, CLINIC: 2_000}
    assert reversal.limit_postings == [
        LimitPosting(PATIENT, MONTHLY.key, -1_000, -1),
        LimitPosting(PATIENT, ANNUAL.key, -1_000, -1),
        LimitPosting(CLINIC, CLINIC_ANNUAL.key, -2_000, -1),
    ]
    assert sum(reversal.entries.values()) == 0


def test_a_reversal_reports_no_awards() -> None:
    booked = Books().book(visit())
    assert mirror(booked.entries, booked.limit_postings).outcomes == []


def test_a_reversed_visit_leaves_the_books_as_before_it() -> None:
    books = Books(balances={PATIENT: 4_000}, counters={(PATIENT, ANNUAL.key): Counter(9_000, 8)})
    before = books.snapshot()
    books.reverse(books.book(visit()))
    assert books.snapshot() == before


def test_a_reversal_gives_back_the_months_visit() -> None:
    books = Books()
    books.reverse(books.book(visit()))
    again = books.book(visit())
    assert [o.amount for o in again.outcomes] == [1_000, 2_000]


def test_a_reversal_of_a_clipped_award_gives_back_only_what_was_credited() -> None:
    books = Books(counters={(PATIENT, ANNUAL.key): Counter(34_600, 30)})
    booked = books.book(visit())
    assert booked.outcomes[0].amount == 400
    reversal = books.reverse(booked)
    assert LimitPosting(PATIENT, ANNUAL.key, -400, -1) in reversal.limit_postings
    assert books.counter(PATIENT, ANNUAL.key) == Counter(34_600, 30)


def test_reversing_a_reversal_books_the_original_again() -> None:
    booked = Books().book(visit())
    reversal = mirror(booked.entries, booked.limit_postings)
    again = mirror(reversal.entries, reversal.limit_postings)
    assert (again.entries, again.limit_postings) == (booked.entries, booked.limit_postings)
