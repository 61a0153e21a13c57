"""`mileage demo --scale seoul`: the programme's history simulated in bulk, on both engines.

A small fraction of Seoul's scale is simulated once per engine; the tests read what it
wrote the way the city does (the ledger check, the district report) and go on booking
through the services afterwards.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.cli import main
from ledger import ids
from ledger.db import session_scope
from ledger.models import Clinic, Patient, Redemption, Transaction, Visit
from ledger.programme import Readings
from ledger.services.earning import record_visit
from ledger.services.periods import label, quarter_of
from ledger.services.reports import Row, annual_report, district_report
from ledger.services.spending import redeem
from ledger.services.verify import verify
from ledger.settings import get_settings
from ledger.simulation import (
    SEOUL_DISTRICTS,
    SimulationResult,
    bulk_id,
    default_through,
    simulate_seoul,
)
from tests.conftest import new_database

THROUGH = dt.date(2025, 12, 31)
JOINED = {d.code: d.since.year for d in SEOUL_DISTRICTS}


@pytest.fixture(scope="module")
def simulated(sessions: sessionmaker[Session]) -> SimulationResult:
    return simulate_seoul(sessions, fraction=0.02, through=THROUGH, seed=11)


@pytest.fixture(scope="module")
def table(
    simulated: SimulationResult, sessions: sessionmaker[Session]
) -> list[tuple[int, int, Row]]:
    with session_scope(sessions) as session:
        return annual_report(session, through=THROUGH.year)


def test_the_simulation_fills_every_district_from_2013(simulated: SimulationResult) -> None:
    assert simulated.districts == 15
    assert simulated.patients > 500
    assert simulated.visits > 10 * simulated.patients
    assert simulated.attendances > 0 and simulated.redemptions > 0
    assert simulated.clinics_chronic >= 15 and simulated.clinics_ophthalmology >= 14
    assert set(simulated.keys) == {"city", "health_center", "clinic"}


def test_the_ledger_check_finds_no_mismatch(
    simulated: SimulationResult, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MILEAGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["ledger", "verify"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "ledger verified" in result.output


def test_cumulative_figures_rise_year_over_year(table: list[tuple[int, int, Row]]) -> None:
    years = [year for year, _, _ in table]
    assert years == list(range(2013, THROUGH.year + 1))
    for (_, _, before), (year, _, after) in pairwise(table):
        b, a = before.cumulative, after.cumulative
        assert a.registered > b.registered, year
        assert a.visits > b.visits, year
        assert a.accrued > b.accrued, year
        assert a.used > b.used, year
        assert a.education >= b.education, year
    districts = [n for _, n, _ in table]
    assert districts[0] == 7 and districts[-1] == 15 and districts == sorted(districts)


def test_the_cumulative_usage_rate_settles_between_half_and_most(
    table: list[tuple[int, int, Row]],
) -> None:
    for year, _, row in table:
        if year >= 2021:
            assert Decimal("0.5") <= row.cumulative.usage_rate <= Decimal("0.85"), year


def test_districts_have_data_only_from_the_year_they_joined(
    simulated: SimulationResult, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        for year in range(2013, THROUGH.year + 1):
            for row in district_report(session, year):
                figures = row.cumulative
                if year < JOINED[row.key]:
                    assert row.clinics_chronic == row.clinics_ophthalmology == 0, (year, row)
                    assert (figures.registered, figures.visits, figures.accrued) == (0, 0, 0)
                else:
                    assert row.clinics_chronic > 0, (year, row.key)
        for row in district_report(session, THROUGH.year):
            assert row.cumulative.registered > 0 and row.cumulative.visits > 0, row.key


def test_ophthalmology_clinics_take_part_from_2018(
    table: list[tuple[int, int, Row]], sessions: sessionmaker[Session]
) -> None:
    for year, _, row in table:
        assert (row.clinics_ophthalmology > 0) == (year >= 2018), year
    with session_scope(sessions) as session:
        eye_exams = session.execute(
            select(func.min(Redemption.spent_on), func.count(), func.min(Clinic.kind))
            .join(Clinic, Clinic.id == Redemption.clinic_id)
            .where(Redemption.purpose == "eye_exam")
        ).one()
        first = session.execute(
            select(func.min(Clinic.participating_since)).where(Clinic.kind == "ophthalmology")
        ).scalar_one()
    assert first >= dt.date(2018, 1, 1)
    assert eye_exams[1] > 0 and eye_exams[0] >= first and eye_exams[2] == "ophthalmology"


def test_rows_are_the_ones_the_services_write(
    simulated: SimulationResult, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        first, last, count = session.execute(
            select(func.min(Transaction.id), func.max(Transaction.id), func.count())
        ).one()
        assert last - first + 1 == count == simulated.transactions  # contiguous blocks
        periods = session.execute(
            select(Transaction.effective_date, Transaction.period).limit(500)
        ).all()
        assert all(period == label(*quarter_of(day)) for day, period in periods)
        visit = session.execute(select(Visit).limit(1)).scalar_one()
        booked = session.get(Transaction, visit.transaction_id)
        assert booked is not None and booked.kind == "visit"
        assert booked.details["meta"]["event_id"] == visit.id
        assert {t["tag"] for t in booked.details["transfers"]} >= {"patient:visit"}
        unbooked = session.execute(
            select(func.count()).where(Patient.enrolment_transaction_id.is_(None))
        ).scalar_one()
        assert unbooked == 0


def test_the_services_carry_on_from_the_simulated_history(
    simulated: SimulationResult, sessions: sessionmaker[Session]
) -> None:
    day = dt.date(THROUGH.year + 1, 1, 5)
    with session_scope(sessions) as session:
        patient = session.get(Patient, simulated.sample_patient)
        assert patient is not None
        recorded = record_visit(
            session,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            visited_on=day,
            readings=Readings(systolic=128, diastolic=80),
            recorded_by="test",
            today=day,
        )
        assert recorded.awards[0].amount == 1_000
        if recorded.balance >= 3_000:
            spent = redeem(
                session,
                patient_id=patient.id,
                clinic_id=patient.clinic_id,
                amount=3_000,
                purpose="treatment",
                spent_on=day,
                recorded_by="test",
                today=day,
            )
            assert spent.balance == recorded.balance - 3_000
    with session_scope(sessions) as session:
        assert verify(session) == []


def test_bulk_ids_have_the_shape_of_the_services_ids() -> None:
    made = {bulk_id("vis") for _ in range(1000)}
    assert len(made) == 1000
    now_ms = time.time_ns() // 1_000_000
    for one in [*made, ids.new_id("vis")]:
        assert len(one) == 30 and one[:4] == "vis_"
        value = 0
        for char in one[4:]:
            value = value * 32 + ids._ALPHABET.index(char)
        assert abs((value >> 80) - now_ms) < 60_000  # milliseconds first, then random bits


def test_the_demo_command_simulates_seoul_and_prints_the_annual_table(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MILEAGE_DATABASE_URL", new_database("sqlite", request, tmp_path))
    get_settings.cache_clear()
    keys = tmp_path / "keys.env"
    try:
        runner = CliRunner()
        refused = runner.invoke(main, ["demo", "--fraction", "0.5"])
        result = runner.invoke(
            main, ["demo", "--scale", "seoul", "--fraction", "0.01", "--keys-file", str(keys)]
        )
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 2 and "--fraction goes with --scale seoul" in refused.output
    assert result.exit_code == 0, result.output
    last = default_through().year
    assert f"Seoul 2013 to {last}-12-31: 15 districts" in result.output
    for year in range(2021, last + 1):
        assert f"\n{year}  " in result.output
    assert "CITY_KEY=" in keys.read_text() and "PATIENT_ID=pat_" in keys.read_text()
