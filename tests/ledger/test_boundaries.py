"""Where a day, a month, a year or a cap ends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from ledger.errors import BeforeEnrolment, FutureDate, LateEntry
from ledger.programme import Readings
from ledger.services.earning import create_education_session, record_attendance, record_visit
from ledger.services.registry import summarise
from tests.factories import make_clinic, make_patient

SEOUL = ZoneInfo("Asia/Seoul")
UTC = dt.UTC


def visit(session: Session, patient_id: str, clinic_id: str, when, today: dt.date, **kw):
    return record_visit(
        session,
        patient_id=patient_id,
        clinic_id=clinic_id,
        visited_on=when,
        readings=Readings(**kw),
        recorded_by="test",
        today=today,
    )


def test_a_visit_at_2330_on_31_december_in_seoul_counts_for_that_year(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 12, 1)).patient
    moment = dt.datetime(2024, 12, 31, 14, 30, tzinfo=UTC)  # 23:30 in Seoul
    recorded = visit(session, patient.id, clinic.id, moment, today=dt.date(2025, 1, 2))
    assert recorded.awards[0].amount == 1_000
    summary_2024 = summarise(session, patient, today=dt.date(2024, 12, 31))
    summary_2025 = summarise(session, patient, today=dt.date(2025, 1, 2))
    assert summary_2024.earned_this_year == 3_000 + 1_000
    assert summary_2025.earned_this_year == 0


def test_visits_either_side_of_midnight_kst_at_a_months_end_both_earn(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 3, 1)).patient
    before = dt.datetime(2024, 3, 31, 23, 50, tzinfo=SEOUL)
    after = dt.datetime(2024, 3, 31, 15, 10, tzinfo=UTC)  # 00:10 on 1 April in Seoul
    first = visit(session, patient.id, clinic.id, before, today=dt.date(2024, 4, 1))
    second = visit(session, patient.id, clinic.id, after, today=dt.date(2024, 4, 1))
    assert [first.awards[0].amount, second.awards[0].amount] == [1_000, 1_000]


def test_a_second_visit_in_a_month_earns_nothing_and_nor_does_the_clinic(
    session: Session,
) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 3, 1)).patient
    visit(session, patient.id, clinic.id, dt.date(2024, 3, 4), today=dt.date(2024, 3, 4))
    second = visit(session, patient.id, clinic.id, dt.date(2024, 3, 28), today=dt.date(2024, 3, 28))
    assert [(a.beneficiary, a.amount, a.reason) for a in second.awards] == [
        ("patient", 0, "monthly_limit"),
        ("clinic", 0, "monthly_limit"),
    ]


def test_the_clinic_still_earns_for_a_visit_the_patients_cap_clipped(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 1, 2)).patient
    for n, condition in enumerate(["hypertension", "diabetes"] * 3):
        day = dt.date(2024, 1, 3 + n)
        edu = create_education_session(
            session, district="11740", held_on=day, condition=condition, title="교실"
        )
        record_attendance(
            session, session_id=edu.id, patient_id=patient.id, recorded_by="t", today=day
        )
    # 3,000 + 6 x 3,000 = 21,000; then visits, at target in January and July (+2,000 each)
    amounts = []
    for month in range(1, 13):
        day = dt.date(2024, month, 15)
        readings = {"systolic": 120, "diastolic": 80, "hba1c": Decimal("6.5")}
        recorded = visit(
            session, patient.id, clinic.id, day, today=day, **(readings if month in (1, 7) else {})
        )
        amounts.append([(a.beneficiary, a.rule, a.amount, a.reason) for a in recorded.awards])
    assert recorded.balance == 35_000
    assert amounts[10] == [
        ("patient", "visit", 0, "annual_cap"),
        ("clinic", "visit", 2_000, None),
    ]


def test_the_cap_reached_exactly_then_the_next_award_is_withheld_in_full(
    session: Session,
) -> None:
    clinic = make_clinic(session, district="11215")  # 2019 광진: cap 33,000
    patient = make_patient(session, clinic, enrolled_on=dt.date(2019, 1, 2)).patient
    for month in range(1, 13):
        day = dt.date(2019, month, 3)
        visit(session, patient.id, clinic.id, day, today=day)
    for condition in ("hypertension", "diabetes"):
        for n in range(3):
            day = dt.date(2019, 5 + n, 9)
            edu = create_education_session(
                session, district="11215", held_on=day, condition=condition, title="교실"
            )
            last = record_attendance(
                session, session_id=edu.id, patient_id=patient.id, recorded_by="t", today=day
            )
    assert last.balance == 33_000
    assert summarise(session, patient, today=dt.date(2019, 12, 31)).cap_remaining == 0


def test_late_entry_just_inside_the_window_is_accepted(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 1, 2)).patient
    recorded = visit(
        session, patient.id, clinic.id, dt.date(2024, 3, 1), today=dt.date(2024, 3, 31)
    )
    assert recorded.awards[0].amount == 1_000


def test_late_entry_just_outside_the_window_is_refused(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 1, 2)).patient
    with pytest.raises(LateEntry):
        visit(session, patient.id, clinic.id, dt.date(2024, 3, 1), today=dt.date(2024, 4, 1))


def test_a_december_visit_entered_in_january_counts_against_december(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 11, 2)).patient
    visit(session, patient.id, clinic.id, dt.date(2024, 12, 20), today=dt.date(2025, 1, 10))
    assert summarise(session, patient, today=dt.date(2024, 12, 31)).earned_this_year == 4_000
    assert summarise(session, patient, today=dt.date(2025, 1, 10)).earned_this_year == 0


def test_a_future_date_is_refused_before_the_other_checks(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 5, 2)).patient
    with pytest.raises(FutureDate):
        visit(session, patient.id, clinic.id, dt.date(2024, 5, 3), today=dt.date(2024, 5, 2))
    with pytest.raises(BeforeEnrolment):
        visit(session, patient.id, clinic.id, dt.date(2024, 5, 1), today=dt.date(2024, 5, 2))


def test_a_leap_day_visit_counts_in_february(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 2, 29)).patient
    leap = visit(session, patient.id, clinic.id, dt.date(2024, 2, 29), today=dt.date(2024, 2, 29))
    march = visit(session, patient.id, clinic.id, dt.date(2024, 3, 1), today=dt.date(2024, 3, 1))
    again = visit(session, patient.id, clinic.id, dt.date(2024, 2, 29), today=dt.date(2024, 3, 1))
    assert [leap.awards[0].amount, march.awards[0].amount, again.awards[0].amount] == [
        1_000,
        1_000,
        0,
    ]
