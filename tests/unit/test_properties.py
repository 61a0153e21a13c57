"""Properties of any plan and any reversal, over random transfers, balances and counters.

Each limit key has one ceiling (as in the programme, where a key names one rule), so a
counter's ceiling is known whichever transfer moved it.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ledger.domain import Counter, Limit, LimitPosting, Plan, Transfer, mirror
from ledger.errors import BelowThreshold, InsufficientFunds
from tests.unit.books import PATIENT, TYPES, Books

ANNUAL = Limit("2024/annual", "annual_cap", max_amount=20_000)
MONTHLY = Limit("2024/visit/2024-03", "monthly_limit", max_count=1)
EDUCATION = Limit("2024/education/diabetes", "condition_limit", max_amount=5_000, max_count=2)
RULE_CAP = Limit("2024/control", "rule_cap", max_amount=6_000)
CATALOGUE = (ANNUAL, MONTHLY, EDUCATION, RULE_CAP)
ACCOUNTS = sorted(TYPES)
NEVER_NEGATIVE = [a for a in ACCOUNTS if not TYPES[a].may_go_negative]

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def transfer_lists(draw: st.DrawFn) -> list[Transfer]:
    transfers = []
    for position in range(draw(st.integers(1, 5))):
        debit = draw(st.sampled_from(ACCOUNTS))
        credit = draw(st.sampled_from([a for a in ACCOUNTS if a != debit]))
        # A threshold only where spending starts: on a patient's account, now and then.
        threshold = st.none() | st.integers(0, 5_000) if debit == PATIENT else st.none()
        follows = st.none() if position == 0 else st.none() | st.integers(0, position - 1)
        transfers.append(
            Transfer(
                debit,
                credit,
                draw(st.integers(0, 8_000)),
                tuple(draw(st.lists(st.sampled_from(CATALOGUE), unique=True, max_size=3))),
                min_debit_balance=draw(threshold),
                follows=draw(follows),
                allow_negative=draw(st.booleans()),
                tag=f"t{position}",
            )
        )
    return transfers


@st.composite
def counters_within_ceilings(draw: st.DrawFn) -> dict[tuple[int, str], Counter]:
    counters = {}
    for account in draw(st.lists(st.sampled_from(ACCOUNTS), unique=True)):
        for limit in draw(st.lists(st.sampled_from(CATALOGUE), unique=True)):
            counters[(account, limit.key)] = Counter(
                draw(st.integers(0, limit.max_amount if limit.max_amount is not None else 30_000)),
                draw(st.integers(0, limit.max_count if limit.max_count is not None else 40)),
            )
    return counters


BALANCES = st.fixed_dictionaries({a: st.integers(0, 20_000) for a in ACCOUNTS})


def booked(
    transfers: list[Transfer],
    balances: Mapping[int, int],
    counters: Mapping[tuple[int, str], Counter],
) -> tuple[Books, Plan] | None:
    books = Books(balances, counters)
    try:
        planned = books.book(transfers)
    except (InsufficientFunds, BelowThreshold) as refusal:
        event(f"refused: {type(refusal).__name__}")
        return None
    return books, planned


@SETTINGS
@given(transfer_lists(), BALANCES, counters_within_ceilings())
def test_a_plan_is_refused_only_for_a_debit_its_account_cannot_make(
    transfers, balances, counters
) -> None:
    try:
        Books(balances, counters).book(transfers)
    except InsufficientFunds as refusal:
        assert not TYPES[refusal.account_id].may_go_negative
        assert refusal.balance - refusal.requested < 0
        debits = [t for t in transfers if t.debit == refusal.account_id]
        assert not all(t.allow_negative for t in debits)
    except BelowThreshold as refusal:
        assert refusal.balance < refusal.threshold


@SETTINGS
@given(transfer_lists(), BALANCES, counters_within_ceilings())
def test_any_plan_has_legs_summing_to_zero(transfers, balances, counters) -> None:
    found = booked(transfers, balances, counters)
    if found is None:
        return
    _, planned = found
    assert sum(planned.entries.values()) == 0
    assert all(planned.entries.values())


@SETTINGS
@given(transfer_lists(), BALANCES, counters_within_ceilings())
def test_any_plans_legs_are_the_net_of_what_its_transfers_credited(
    transfers, balances, counters
) -> None:
    found = booked(transfers, balances, counters)
    if found is None:
        return
    _, planned = found
    net: dict[int, int] = {}
    for outcome in planned.outcomes:
        net[outcome.debit] = net.get(outcome.debit, 0) + outcome.amount
        net[outcome.credit] = net.get(outcome.credit, 0) - outcome.amount
    assert planned.entries == {a: n for a, n in net.items() if n}


@SETTINGS
@given(transfer_lists(), BALANCES, counters_within_ceilings())
def test_every_transfer_is_credited_part_of_what_it_asked_and_the_rest_explained(
    transfers, balances, counters
) -> None:
    found = booked(transfers, balances, counters)
    if found is None:
        return
    _, planned = found
    assert [o.tag for o in planned.outcomes] == [t.tag for t in transfers]
    for transfer, outcome in zip(transfers, planned.outcomes, strict=True):
        assert outcome.requested == transfer.amount
        assert 0 <= outcome.amount <= transfer.amount
        assert outcome.amount + outcome.clipped == transfer.amount
        if outcome.clipped:
            assert outcome.reason is not None


@SETTINGS
@given(transfer_lists(), BALANCES, counters_within_ceilings())
def test_no_plan_takes_a_counter_past_its_ceiling(transfers, balances, counters) -> None:
    found = booked(transfers, balances, counters)
    if found is None:
        return
    books, _ = found
    for (account, key), counter in books.counters.items():
        [limit] = [limit for limit in CATALOGUE if limit.key == key]
        if limit.max_amount is not None:
            assert counter.amount <= limit.max_amount, (account, key)
        if limit.max_count is not None:
            assert counter.count <= limit.max_count, (account, key)


@SETTINGS
@given(transfer_lists(), BALANCES, counters_within_ceilings())
def test_no_plan_takes_a_patient_or_clinic_below_zero_unless_allowed(
    transfers, balances, counters
) -> None:
    found = booked(transfers, balances, counters)
    if found is None:
        return
    books, _ = found
    allowed = {t.debit for t in transfers if t.allow_negative}
    for account in NEVER_NEGATIVE:
        if account not in allowed:
            assert books.balance(account) >= 0, TYPES[account]


@SETTINGS
@given(transfer_lists(), BALANCES, counters_within_ceilings())
def test_any_reversal_has_legs_summing_to_zero_and_restores_the_books(
    transfers, balances, counters
) -> None:
    found = booked(transfers, balances, counters)
    if found is None:
        return
    books, planned = found
    before = Books(balances, counters).snapshot()
    reversal = books.reverse(planned)
    assert sum(reversal.entries.values()) == 0
    assert books.snapshot() == before


@SETTINGS
@given(transfer_lists(), BALANCES, counters_within_ceilings())
def test_reversing_a_reversal_returns_the_counters_to_where_the_booking_left_them(
    transfers, balances, counters
) -> None:
    found = booked(transfers, balances, counters)
    if found is None:
        return
    books, planned = found
    after_booking = books.snapshot()
    twice = mirror(*_legs(mirror(*_legs(planned))))
    assert (twice.entries, twice.limit_postings) == (planned.entries, planned.limit_postings)
    books.reverse(books.reverse(planned))
    assert books.snapshot() == after_booking


def _legs(planned: Plan) -> tuple[dict[int, int], list[LimitPosting]]:
    return planned.entries, planned.limit_postings
