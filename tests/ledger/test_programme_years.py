"""Each shipped rule set, played through a patient's full year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from ledger.programme import Award, Readings
from ledger.services.earning import create_education_session, record_attendance, record_visit
from ledger.services.reading import balance
from tests.factories import make_clinic, make_patient

AT_TARGET = Readings(systolic=128, diastolic=82, hba1c=Decimal("6.6"))


def play_year(
    session: Session,
    *,
    year: int,
    district: str,
    visits: int = 12,
    education_per_condition: int = 3,
    controls: tuple[int, ...] = (),
) -> tuple[int, list[Award]]:
    """A patient with both conditions, enrolled on 2 January: their awards and balance."""
    clinic = make_clinic(session, district=district)
    registered = make_patient(session, clinic, enrolled_on=dt.date(year, 1, 2))
    patient = registered.patient
    awards = [a for a in registered.awards if a.beneficiary == "patient"]
    for month in range(1, visits + 1):
        day = dt.date(year, month, 10)
        readings = AT_TARGET if month in controls else Readings(systolic=150, diastolic=95)
        recorded = record_visit(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            visited_on=day,
            readings=readings,
            recorded_by="test",
            today=day,
        )
        awards += [a for a in recorded.awards if a.beneficiary == "patient"]
    for condition in ("hypertension", "diabetes"):
        for n in range(education_per_condition):
            day = dt.date(year, 3 + n, 20)
            edu = create_education_session(
                session, district=district, held_on=day, condition=condition, title="교육"
            )
            recorded = record_attendance(
                session, session_id=edu.id, patient_id=patient.id, recorded_by="t", today=day
            )
            awards += [a for a in recorded.awards if a.beneficiary == "patient"]
    return balance(session, patient.account_id), awards


def totals(awards: list[Award]) -> dict[str, int]:
    out: dict[str, int] = {}
    for award in awards:
        out[award.rule] = out.get(award.rule, 0) + award.amount
    return out


def test_2019_gwangjin_year_earns_exactly_the_33000_cap(session: Session) -> None:
    # 3,000 + 12 x 1,000 + 6 x 3,000 = 33,000
    total, awards = play_year(session, year=2019, district="11215", controls=(3, 9))
    assert totals(awards) == {"enrolment": 3_000, "visit": 12_000, "education": 18_000}
    assert total == 33_000
    assert all(a.clipped == 0 for a in awards)


def test_2020_geumcheon_year_has_no_disease_control_award(session: Session) -> None:
    total, awards = play_year(session, year=2020, district="11545", controls=(2, 8))
    assert "control" not in totals(awards)
    assert total == 33_000


def test_2020_geumcheon_fourth_session_for_one_condition_earns_nothing(session: Session) -> None:
    _, awards = play_year(session, year=2020, district="11545", visits=0, education_per_condition=4)
    education = [a for a in awards if a.rule == "education"]
    assert [a.amount for a in education] == [3_000] * 3 + [0] + [3_000] * 3 + [0]
    assert {a.reason for a in education if a.amount == 0} == {"condition_limit"}


def test_2016_gangdong_year_hits_every_rule_cap_and_the_30000_annual_cap(
    session: Session,
) -> None:
    # visits 12 x 1,000 = 12,000 (rule cap 12,000); education 2,000 each up to 9,000;
    # control 3,000 each up to 6,000; enrolment 3,000: 3,000 + 12,000 + 9,000 + 6,000 = 30,000.
    total, awards = play_year(session, year=2016, district="11740", controls=(2, 5, 8))
    assert totals(awards) == {
        "enrolment": 3_000,
        "visit": 12_000,
        "education": 9_000,
        "control": 6_000,
    }
    assert total == 30_000
    education = [a for a in awards if a.rule == "education"]
    assert [a.amount for a in education] == [2_000, 2_000, 2_000, 2_000, 1_000, 0]
    assert (education[4].clipped, education[4].reason) == (1_000, "rule_cap")
    control = [a for a in awards if a.rule == "control" and a.reason != "not_eligible"]
    assert [(a.amount, a.reason) for a in control] == [
        (3_000, None),
        (3_000, None),
        (0, "rule_cap"),
    ]


def test_2023_jungnang_year_is_clipped_at_35000(session: Session) -> None:
    # 3,000 + 12,000 + 18,000 + 2 x 2,000 = 37,000 asked; the cap keeps 35,000.
    total, awards = play_year(session, year=2023, district="11260", controls=(2, 8))
    assert total == 35_000
    clipped = [a for a in awards if a.clipped and a.reason != "not_eligible"]
    assert sum(a.clipped for a in clipped) == 2_000
    assert {a.reason for a in clipped} == {"annual_cap"}


def test_2024_city_year_is_clipped_at_35000_with_one_control_per_half_year(
    session: Session,
) -> None:
    total, awards = play_year(session, year=2024, district="11170", controls=(2, 3, 8))
    control = [a for a in awards if a.rule == "control" and a.reason != "not_eligible"]
    assert [a.reason for a in control if a.amount == 0] == ["half_year_limit"]
    assert total == 35_000
    assert sum(a.amount for a in awards) == 35_000
    assert sum(a.clipped for a in awards if a.reason == "annual_cap") == 2_000


def test_a_year_without_its_own_rule_set_uses_the_latest_earlier_one(session: Session) -> None:
    # 2021 in 광진: its own 2019 set (cap 33,000, no control); 2025: the city's 2024 set.
    total, awards = play_year(session, year=2021, district="11215", controls=(2,))
    assert total == 33_000 and "control" not in totals(awards)
