"""Planning a transaction: what each transfer is credited, what is withheld and why.

The limits here are written out by hand (a 35,000 M annual cap, once a month, a 6,000 M rule
cap) so each scenario reads as the programme rule it stands for; the programme's own limits
are built from the rule files in ``test_rule_sets.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import Counter, Limit, LimitPosting, Transfer, normal_sign, plan
from ledger.errors import BelowThreshold, InsufficientFunds
from tests.unit.books import (
    CASH,
    CLINIC,
    EXPENSE,
    PATIENT,
    PAYABLE,
    REIMBURSABLE,
    TYPES,
    Books,
)

ANNUAL = Limit("2024/annual", "annual_cap", max_amount=35_000)
MONTHLY = Limit("2024/visit/2024-03", "monthly_limit", max_count=1)
RULE_CAP = Limit("2024/control", "rule_cap", max_amount=6_000)
CLINIC_ANNUAL = Limit("2024/annual", "annual_cap", max_amount=3_000_000)


def award(amount: int, *limits: Limit, credit: int = PATIENT, **kw: Any) -> Transfer:
    return Transfer(EXPENSE, credit, amount, limits, **kw)


def spend(amount: int, *, threshold: int | None = 3_000) -> Transfer:
    return Transfer(PATIENT, REIMBURSABLE, amount, min_debit_balance=threshold, tag="spend")


def used(
    amount: int = 0, count: int = 0, *, account: int = PATIENT, limit: Limit = ANNUAL
) -> dict[tuple[int, str], Counter]:
    return {(account, limit.key): Counter(amount, count)}


# Crediting within limits --------------------------------------------------------------


def test_an_award_within_its_limits_is_credited_in_full() -> None:
    planned = Books().book([award(1_000, MONTHLY, ANNUAL, tag="patient:visit")])
    assert planned.entries == {EXPENSE: 1_000, PATIENT: -1_000}
    [outcome] = planned.outcomes
    assert (outcome.tag, outcome.requested, outcome.amount, outcome.clipped, outcome.reason) == (
        "patient:visit",
        1_000,
        1_000,
        0,
        None,
    )
    assert planned.limit_postings == [
        LimitPosting(PATIENT, MONTHLY.key, 1_000, 1),
        LimitPosting(PATIENT, ANNUAL.key, 1_000, 1),
    ]


def test_a_debit_is_a_positive_leg_and_a_credit_a_negative_one() -> None:
    planned = Books().book([award(700)])
    assert planned.entries[EXPENSE] > 0 > planned.entries[PATIENT]


def test_a_patient_account_is_credit_normal_and_a_district_expense_debit_normal() -> None:
    books = Books()
    books.book([award(700)])
    assert normal_sign(TYPES[PATIENT]) == -1
    assert normal_sign(TYPES[EXPENSE]) == 1
    assert (books.balance(PATIENT), books.balance(EXPENSE)) == (700, 700)


# Clipping by amount limits ------------------------------------------------------------


def test_an_award_that_would_cross_the_annual_cap_is_clipped_to_what_is_left() -> None:
    books = Books(counters=used(34_500, 30))
    [outcome] = books.book([award(1_000, ANNUAL)]).outcomes
    assert (outcome.amount, outcome.clipped, outcome.reason) == (500, 500, "annual_cap")
    assert books.counter(PATIENT, ANNUAL.key).amount == 35_000


def test_an_award_on_a_full_cap_books_no_leg_but_still_uses_its_turn() -> None:
    books = Books(counters=used(35_000, 31))
    planned = books.book([award(1_000, MONTHLY, ANNUAL)])
    assert planned.entries == {}
    assert (planned.outcomes[0].amount, planned.outcomes[0].clipped) == (0, 1_000)
    assert planned.outcomes[0].reason == "annual_cap"
    # The month's one award was given, at nothing: a second visit is refused by the month.
    assert books.counter(PATIENT, MONTHLY.key).count == 1


def test_a_cap_already_overrun_lets_nothing_through_and_never_gives_back() -> None:
    planned = Books(counters=used(36_000, 40)).book([award(1_000, ANNUAL)])
    assert planned.outcomes[0].amount == 0
    assert planned.entries == {}


def test_the_tightest_amount_limit_names_the_reason_whatever_their_order() -> None:
    counters = {**used(34_500), **used(5_800, limit=RULE_CAP)}  # 500 and 200 left
    for limits in [(RULE_CAP, ANNUAL), (ANNUAL, RULE_CAP)]:
        [outcome] = Books(counters=counters).book([award(2_000, *limits)]).outcomes
        assert (outcome.amount, outcome.clipped, outcome.reason) == (200, 1_800, "rule_cap")


def test_of_two_equally_tight_limits_the_first_names_the_reason() -> None:
    counters = {**used(34_500), **used(5_500, limit=RULE_CAP)}  # 500 left under each
    [first] = Books(counters=counters).book([award(2_000, RULE_CAP, ANNUAL)]).outcomes
    [second] = Books(counters=counters).book([award(2_000, ANNUAL, RULE_CAP)]).outcomes
    assert (first.amount, first.reason) == (500, "rule_cap")
    assert (second.amount, second.reason) == (500, "annual_cap")


def test_a_limit_on_another_account_does_not_limit_this_one() -> None:
    clinic_full = used(3_000_000, account=CLINIC, limit=CLINIC_ANNUAL)
    [outcome] = Books(counters=clinic_full).book([award(1_000, ANNUAL)]).outcomes
    assert (outcome.amount, outcome.reason) == (1_000, None)


# Count limits -------------------------------------------------------------------------


def test_second_visit_in_a_month_earns_nothing() -> None:
    books = Books()
    first = books.book([award(1_000, MONTHLY, ANNUAL)])
    second = books.book([award(1_000, MONTHLY, ANNUAL)])
    assert first.outcomes[0].amount == 1_000
    assert (second.outcomes[0].amount, second.outcomes[0].clipped) == (0, 1_000)
    assert second.outcomes[0].reason == "monthly_limit"
    assert second.entries == {}


def test_an_award_stopped_by_a_count_limit_moves_no_counter() -> None:
    books = Books()
    books.book([award(1_000, MONTHLY, ANNUAL)])
    refused = books.book([award(1_000, MONTHLY, ANNUAL)])
    assert refused.limit_postings == []
    assert books.counter(PATIENT, MONTHLY.key) == Counter(1_000, 1)
    assert books.counter(PATIENT, ANNUAL.key) == Counter(1_000, 1)


def test_a_used_up_count_limit_outranks_an_amount_limit_listed_before_it() -> None:
    counters = {**used(34_500), **used(1_000, 1, limit=MONTHLY)}
    [outcome] = Books(counters=counters).book([award(1_000, ANNUAL, MONTHLY)]).outcomes
    assert (outcome.amount, outcome.reason) == (0, "monthly_limit")


def test_a_count_limit_of_two_lets_two_awards_through_then_stops() -> None:
    twice = Limit("2024/visit/2024-03", "monthly_limit", max_count=2)
    books = Books()
    amounts = [books.book([award(1_000, twice)]).outcomes[0].amount for _ in range(3)]
    assert amounts == [1_000, 1_000, 0]


def test_a_limit_with_both_ceilings_clips_by_amount_until_its_count_is_used() -> None:
    both = Limit("2024/education", "education_cap", max_amount=5_000, max_count=2)
    books = Books()
    first, second, third = (books.book([award(3_000, both)]).outcomes[0] for _ in range(3))
    assert (first.amount, first.reason) == (3_000, None)
    assert (second.amount, second.clipped, second.reason) == (2_000, 1_000, "education_cap")
    assert (third.amount, third.clipped, third.reason) == (0, 3_000, "education_cap")
    assert books.counter(PATIENT, both.key) == Counter(5_000, 2)


# follows: a clinic's award shares the patient's eligibility ---------------------------


def visit_pair(*patient_limits: Limit) -> list[Transfer]:
    return [
        award(1_000, *patient_limits, tag="patient:visit"),
        award(2_000, CLINIC_ANNUAL, credit=CLINIC, follows=0, tag="clinic:visit"),
    ]


def test_a_clinic_earns_nothing_for_a_visit_the_patients_month_refuses() -> None:
    books = Books(counters=used(1_000, 1, limit=MONTHLY))
    planned = books.book(visit_pair(MONTHLY, ANNUAL))
    patient, clinic = planned.outcomes
    assert (clinic.amount, clinic.clipped, clinic.reason) == (0, 2_000, "monthly_limit")
    assert patient.reason == "monthly_limit"
    assert planned.entries == {}
    assert books.counter(CLINIC, CLINIC_ANNUAL.key) == Counter()


def test_a_clinic_still_earns_for_a_visit_the_patients_annual_cap_clipped_to_nothing() -> None:
    books = Books(counters=used(35_000, 31))
    planned = books.book(visit_pair(MONTHLY, ANNUAL))
    patient, clinic = planned.outcomes
    assert (patient.amount, patient.reason) == (0, "annual_cap")
    assert (clinic.amount, clinic.reason) == (2_000, None)
    assert planned.entries == {EXPENSE: 2_000, CLINIC: -2_000}


def test_a_clinics_award_is_clipped_by_the_clinics_own_cap() -> None:
    books = Books(counters=used(2_999_500, account=CLINIC, limit=CLINIC_ANNUAL))
    patient, clinic = books.book(visit_pair(MONTHLY, ANNUAL)).outcomes
    assert (patient.amount, patient.reason) == (1_000, None)
    assert (clinic.amount, clinic.clipped, clinic.reason) == (500, 1_500, "annual_cap")


def test_a_follower_of_a_transfer_that_follows_is_stopped_with_it() -> None:
    transfers = [*visit_pair(MONTHLY), award(500, credit=CLINIC, follows=1, tag="clinic:bonus")]
    outcomes = Books(counters=used(1_000, 1, limit=MONTHLY)).book(transfers).outcomes
    assert [o.reason for o in outcomes] == ["monthly_limit"] * 3
    assert [o.amount for o in outcomes] == [0, 0, 0]


@pytest.mark.parametrize("follows", [0, 1, -1], ids=["itself", "a_later_one", "negative"])
def test_a_transfer_follows_only_an_earlier_one(follows: int) -> None:
    transfers = [award(500, credit=CLINIC, follows=follows), award(1_000)]
    with pytest.raises(ValueError, match="follow an earlier one"):
        Books().book(transfers)


# Spending: the threshold and the balance ----------------------------------------------


def test_spending_below_the_threshold_is_refused() -> None:
    books = Books(balances={PATIENT: 2_999})
    with pytest.raises(BelowThreshold) as refused:
        books.book([spend(1_000)])
    assert (refused.value.account_id, refused.value.balance, refused.value.threshold) == (
        PATIENT,
        2_999,
        3_000,
    )


def test_a_balance_at_the_threshold_may_be_spent_to_nothing() -> None:
    books = Books(balances={PATIENT: 3_000})
    planned = books.book([spend(3_000)])
    assert planned.entries == {PATIENT: 3_000, REIMBURSABLE: -3_000}
    assert (books.balance(PATIENT), books.balance(REIMBURSABLE)) == (0, 3_000)


def test_spending_more_than_the_balance_is_refused() -> None:
    with pytest.raises(InsufficientFunds) as refused:
        Books(balances={PATIENT: 4_000}).book([spend(4_001)])
    assert (refused.value.account_id, refused.value.balance, refused.value.requested) == (
        PATIENT,
        4_000,
        4_001,
    )


def test_a_patient_may_spend_what_an_earlier_transfer_of_the_same_plan_credited() -> None:
    books = Books(balances={PATIENT: 2_500})
    planned = books.book([award(1_000, ANNUAL), spend(3_500)])
    assert planned.entries == {EXPENSE: 1_000, PATIENT: 2_500, REIMBURSABLE: -3_500}
    assert books.balance(PATIENT) == 0


def test_two_spends_in_one_plan_draw_on_one_balance() -> None:
    books = Books(balances={PATIENT: 5_000})
    with pytest.raises(InsufficientFunds) as refused:
        books.book([spend(3_000), spend(3_000, threshold=None)])
    assert (refused.value.balance, refused.value.requested) == (2_000, 3_000)


def test_a_refused_plan_books_nothing() -> None:
    books = Books(balances={PATIENT: 5_000})
    with pytest.raises(InsufficientFunds):
        books.book([award(1_000, ANNUAL), spend(7_000)])
    assert books.snapshot() == ({PATIENT: 5_000}, {})


def test_a_clinics_earnings_are_never_paid_out_beyond_what_it_holds() -> None:
    payout = Transfer(CLINIC, PAYABLE, 2_500, tag="settlement")
    with pytest.raises(InsufficientFunds):
        Books(balances={CLINIC: 2_000}).book([payout])


def test_allow_negative_lets_a_payout_take_a_clinic_below_zero() -> None:
    payout = Transfer(CLINIC, PAYABLE, 2_500, allow_negative=True, tag="settlement")
    books = Books(balances={CLINIC: 2_000})
    books.book([payout])
    assert (books.balance(CLINIC), books.balance(PAYABLE)) == (-500, 2_500)


def test_a_district_payable_may_go_below_zero_without_permission() -> None:
    books = Books()
    books.book([Transfer(PAYABLE, CASH, 1_000)])
    assert (books.balance(PAYABLE), books.balance(CASH)) == (-1_000, -1_000)


# Several transfers in one plan --------------------------------------------------------


def test_two_awards_in_one_event_share_one_annual_cap() -> None:
    books = Books(counters=used(32_500, 20))  # 2,500 left
    visit, control = books.book([award(1_000, ANNUAL), award(2_000, ANNUAL)]).outcomes
    assert (visit.amount, visit.reason) == (1_000, None)
    assert (control.amount, control.clipped, control.reason) == (1_500, 500, "annual_cap")
    assert books.counter(PATIENT, ANNUAL.key) == Counter(35_000, 22)


def test_two_credits_to_one_account_are_one_leg() -> None:
    planned = Books().book([award(1_000), award(2_000), award(500, credit=CLINIC)])
    assert planned.entries == {EXPENSE: 3_500, PATIENT: -3_000, CLINIC: -500}


def test_transfers_that_net_out_leave_no_leg() -> None:
    there = Transfer(PAYABLE, CASH, 1_000)
    back = Transfer(CASH, PAYABLE, 1_000)
    planned = Books().book([there, back])
    assert planned.entries == {}
    assert [o.amount for o in planned.outcomes] == [1_000, 1_000]


def test_an_award_of_nothing_books_no_leg_but_is_reported() -> None:
    planned = Books().book([award(0, ANNUAL, tag="patient:visit")])
    assert planned.entries == {}
    assert [(o.tag, o.amount, o.clipped) for o in planned.outcomes] == [("patient:visit", 0, 0)]


def test_planning_leaves_the_callers_balances_and_counters_as_they_were() -> None:
    balances = {PATIENT: 3_000}
    counters = used(34_500, 30)
    plan([award(1_000, ANNUAL), spend(2_000)], types=TYPES, balances=balances, counters=counters)
    assert balances == {PATIENT: 3_000}
    assert counters == used(34_500, 30)


# What a transfer or a limit may be ----------------------------------------------------


def test_a_transfer_never_has_a_negative_amount() -> None:
    with pytest.raises(ValueError, match="swap debit and credit"):
        Transfer(EXPENSE, PATIENT, -1)


def test_a_transfer_needs_two_different_accounts() -> None:
    with pytest.raises(ValueError, match="two different accounts"):
        Transfer(PATIENT, PATIENT, 1)


def test_a_limit_needs_a_ceiling() -> None:
    with pytest.raises(ValueError, match="needs max_amount or max_count"):
        Limit("2024/annual", "annual_cap")


@pytest.mark.parametrize("ceiling", [{"max_amount": -1}, {"max_count": -1}])
def test_a_limit_has_no_negative_ceiling(ceiling: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="negative ceiling"):
        Limit("2024/annual", "annual_cap", **ceiling)
