"""Limits count by the event's date in Seoul: where a year, a half-year and a month end.

A timestamp becomes its Seoul calendar day (:func:`ledger.clock.seoul_date`), and the day
names the limit keys: ``2024/annual``, ``2024/visit/2024-03``, ``2024/control/H1``,
``2024/education/diabetes``; enrolment is ``enrolment``, once ever.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ledger.clock import seoul_date
from ledger.domain import Counter, Transfer
from ledger.programme import (
    AwardAccounts,
    Readings,
    education_transfers,
    enrolment_transfers,
    visit_transfers,
)
from ledger.rules import SHIPPED, load_rule_set
from tests.unit.books import CLINIC, EXPENSE, PATIENT, Books

SEOUL = ZoneInfo("Asia/Seoul")
UTC = dt.UTC
RULES = load_rule_set(SHIPPED / "2024.toml")
ACCOUNTS = AwardAccounts(expense=EXPENSE, patient=PATIENT, clinic=CLINIC)
AT_TARGET = Readings(systolic=128, diastolic=82, hba1c=Decimal("6.4"))
BOTH = ("hypertension", "diabetes")


def visit(day: dt.date) -> list[Transfer]:
    return visit_transfers(RULES, day=day, conditions=BOTH, readings=AT_TARGET, accounts=ACCOUNTS)


def keys(transfers: list[Transfer], account: int = PATIENT) -> set[str]:
    return {limit.key for t in transfers if t.credit == account for limit in t.limits}


def visit_earns(books: Books, day: dt.date) -> int:
    return books.book(visit(day)).outcomes[0].amount


# Seoul's calendar day -----------------------------------------------------------------


def test_a_visit_at_2330_on_31_december_in_seoul_counts_for_that_year() -> None:
    moment = dt.datetime(2024, 12, 31, 14, 30, tzinfo=UTC)  # 23:30 in Seoul
    day = seoul_date(moment)
    assert day == dt.date(2024, 12, 31)
    assert keys(visit(day)) == {"2024/visit/2024-12", "2024/control/H2", "2024/annual"}
    assert keys(visit(day), CLINIC) == {"2024/annual"}


def test_a_visit_at_0010_on_1_january_in_seoul_counts_for_the_new_year() -> None:
    moment = dt.datetime(2024, 12, 31, 15, 10, tzinfo=UTC)  # 00:10 on 1 January in Seoul
    day = seoul_date(moment)
    assert day == dt.date(2025, 1, 1)
    assert keys(visit(day)) == {"2025/visit/2025-01", "2025/control/H1", "2025/annual"}


def test_a_patient_at_the_cap_on_new_years_eve_earns_again_ten_minutes_after_midnight() -> None:
    books = Books(counters={(PATIENT, "2024/annual"): Counter(RULES.patient.annual_cap, 30)})
    eve = seoul_date(dt.datetime(2024, 12, 31, 23, 50, tzinfo=SEOUL))
    new_year = seoul_date(dt.datetime(2024, 12, 31, 15, 10, tzinfo=UTC))
    assert visit_earns(books, eve) == 0
    assert visit_earns(books, new_year) == RULES.patient.visit.amount


def test_one_moment_is_one_seoul_day_in_whatever_offset_it_is_written() -> None:
    in_seoul = dt.datetime(2025, 1, 1, 0, 10, tzinfo=SEOUL)
    in_new_york = in_seoul.astimezone(ZoneInfo("America/New_York"))
    assert in_new_york.date() == dt.date(2024, 12, 31)
    assert seoul_date(in_new_york) == seoul_date(in_seoul) == dt.date(2025, 1, 1)


def test_a_timestamp_without_an_offset_has_no_seoul_date() -> None:
    with pytest.raises(ValueError, match="without an offset"):
        seoul_date(dt.datetime(2024, 12, 31, 23, 30))


def test_a_date_is_already_a_seoul_day() -> None:
    assert seoul_date(dt.date(2024, 12, 31)) == dt.date(2024, 12, 31)


# Month and half-year ends -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "month_key", "half_key"),
    [
        (dt.date(2024, 1, 31), "2024/visit/2024-01", "2024/control/H1"),
        (dt.date(2024, 2, 1), "2024/visit/2024-02", "2024/control/H1"),
        (dt.date(2024, 4, 30), "2024/visit/2024-04", "2024/control/H1"),
        (dt.date(2024, 6, 30), "2024/visit/2024-06", "2024/control/H1"),
        (dt.date(2024, 7, 1), "2024/visit/2024-07", "2024/control/H2"),
        (dt.date(2024, 12, 31), "2024/visit/2024-12", "2024/control/H2"),
        (dt.date(2025, 1, 1), "2025/visit/2025-01", "2025/control/H1"),
    ],
    ids=str,
)
def test_a_visit_counts_in_its_own_month_and_half_year(
    day: dt.date, month_key: str, half_key: str
) -> None:
    assert keys(visit(day)) == {month_key, half_key, f"{day.year}/annual"}


def test_visits_either_side_of_midnight_at_a_months_end_both_earn() -> None:
    books = Books()
    before = seoul_date(dt.datetime(2024, 3, 31, 23, 50, tzinfo=SEOUL))
    after = seoul_date(dt.datetime(2024, 3, 31, 15, 10, tzinfo=UTC))  # 00:10 on 1 April
    assert [visit_earns(books, before), visit_earns(books, after)] == [1_000, 1_000]


def test_visits_on_30_june_and_1_july_each_earn_a_control_award() -> None:
    books = Books()
    june = books.book(visit(dt.date(2024, 6, 30))).outcomes
    july = books.book(visit(dt.date(2024, 7, 1))).outcomes
    assert [o.amount for o in june + july if o.tag == "patient:control"] == [2_000, 2_000]


# Leap day ------------------------------------------------------------------------------


def test_a_visit_on_leap_day_counts_in_february() -> None:
    assert "2024/visit/2024-02" in keys(visit(dt.date(2024, 2, 29)))


def test_a_visit_on_leap_day_after_one_on_28_february_earns_nothing() -> None:
    books = Books()
    assert [visit_earns(books, dt.date(2024, 2, d)) for d in (28, 29)] == [1_000, 0]


def test_a_visit_on_1_march_after_one_on_leap_day_earns_again() -> None:
    books = Books()
    assert [visit_earns(books, dt.date(2024, m, d)) for m, d in ((2, 29), (3, 1))] == [1_000] * 2


def test_a_visit_at_0500_on_leap_day_in_seoul_counts_in_february() -> None:
    moment = dt.datetime(2024, 2, 28, 20, 0, tzinfo=UTC)  # 05:00 on 29 February in Seoul
    assert "2024/visit/2024-02" in keys(visit(seoul_date(moment)))
    assert seoul_date(moment) == dt.date(2024, 2, 29)


# Education and enrolment -----------------------------------------------------------------


def test_education_counts_per_condition_by_the_sessions_year() -> None:
    def session_keys(day: dt.date, condition: str) -> set[str]:
        transfers = education_transfers(
            RULES, day=day, condition=condition, conditions=BOTH, accounts=ACCOUNTS
        )
        return keys(transfers)

    assert session_keys(dt.date(2024, 12, 31), "diabetes") == {
        "2024/education/diabetes",
        "2024/annual",
    }
    assert session_keys(dt.date(2025, 1, 1), "hypertension") == {
        "2025/education/hypertension",
        "2025/annual",
    }


def test_enrolment_is_once_ever_but_counts_against_its_years_cap() -> None:
    transfers = enrolment_transfers(RULES, day=dt.date(2024, 12, 31), accounts=ACCOUNTS)
    assert keys(transfers) == {"enrolment", "2024/annual"}
    assert keys(transfers, CLINIC) == {"2024/annual"}
