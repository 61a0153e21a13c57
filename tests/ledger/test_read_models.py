"""The reports' and settlements' read models equal what the entries and events add up to.

A random history is played through the services (registrations, visits, classes, spending,
reversals, moves to another home clinic, balances migrated by an import, quarters closed,
late events landing in a later quarter); afterwards every kept row must equal its recount
from the entries, which ``ledger verify`` also checks. A row corrupted by hand is named by
``ledger verify``; ``ledger rebuild-read-models`` puts it right; the migration's fill from the
history gives the rows the bookings kept.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from actions.context import Context, system_context
from actions.migration import migrate_balance
from actions.spending import reverse_transaction
from api.cli import main
from ledger.clock import SEOUL
from ledger.db import make_engine, make_session_factory, run_in_transaction, session_scope
from ledger.errors import LedgerError
from ledger.migrate import downgrade, upgrade
from ledger.models import Clinic, Settlement, Transaction
from ledger.programme import Readings
from ledger.repository import figures
from ledger.services import reports
from ledger.services.earning import create_education_session, record_attendance, record_visit
from ledger.services.events import late_entry_window
from ledger.services.registry import change_home_clinic, get_patient
from ledger.services.settlement import (
    close_settlement,
    compute,
    open_settlement,
    view_settlement,
)
from ledger.services.spending import redeem
from ledger.services.verify import read_model_mismatches
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar
from tests.conftest import ENGINES, new_database
from tests.factories import make_clinic, make_patient

T = TypeVar("T")
LINE_FIGURES = ("earned", "reimbursed", "corrections_earned", "corrections_reimbursed")

DISTRICT = "11740"
OTHER = "11590"  # a district whose quarters the property test does not close
TODAY = dt.date(2025, 2, 10)
YEAR_DAYS = st.integers(0, 365 + 30).map(lambda n: dt.date(2024, 1, 2) + dt.timedelta(days=n))
AT_TARGET = Readings(systolic=128, diastolic=82, hba1c=Decimal("6.6"))
OFF_TARGET = Readings(systolic=150, diastolic=95)

INDEX = st.integers(0, 50)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("register"), INDEX, YEAR_DAYS),
        st.tuples(st.just("visit"), INDEX, INDEX, YEAR_DAYS, st.booleans()),
        st.tuples(st.just("attend"), INDEX, INDEX),
        st.tuples(st.just("spend"), INDEX, INDEX, st.sampled_from([3_000, 5_000])),
        st.tuples(st.just("reverse"), INDEX),
        st.tuples(st.just("move"), INDEX, INDEX, YEAR_DAYS),
        st.tuples(st.just("migrate"), INDEX, st.integers(0, 40_000)),
        st.tuples(st.just("close"), st.integers(1, 4)),
    ),
    min_size=3,
    max_size=30,
)

KINDS = {"register", "visit", "attend", "spend", "reverse", "move", "migrate", "close"}
# A history in which every kind of step books: the property test always plays it too.
HISTORY: list[tuple[Any, ...]] = [
    ("register", 0, dt.date(2024, 1, 8)),
    ("register", 1, dt.date(2024, 2, 1)),
    ("visit", 0, 0, dt.date(2024, 2, 5), True),
    ("visit", 1, 2, dt.date(2024, 4, 5), True),
    ("attend", 0, 1),
    ("close", 1),
    ("visit", 0, 0, dt.date(2024, 3, 5), True),  # late: lands in Q2 as a correction
    ("spend", 0, 1, 3_000),
    ("reverse", 2),
    ("move", 0, 2, dt.date(2024, 6, 1)),
    ("migrate", 1, 25_000),
]


def context() -> Context:
    moment = dt.datetime.combine(TODAY, dt.time(12), tzinfo=SEOUL)
    return system_context("property test", SendingCalendar(), now=moment)


class History:
    """A district's clinics and classes, and the patients and transactions booked so far."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

        def world(session: Session) -> tuple[list[str], list[str]]:
            clinics = [make_clinic(session, district=DISTRICT).id for _ in range(3)]
            classes = [
                create_education_session(
                    session,
                    district=DISTRICT,
                    held_on=dt.date(2024, month, 15),
                    condition="hypertension",
                    title=f"혈압 교실 {month}월",
                ).id
                for month in (2, 5, 9, 12)
            ]
            return clinics, classes

        self.clinics, self.classes = self.run(world)
        self.patients: list[str] = []
        self.transactions: list[int] = []
        self.done: Counter[str] = Counter()

    def run(self, work: Callable[[Session], T]) -> T:
        return run_in_transaction(self.sessions, work)

    def pick(self, items: list[Any], index: int) -> Any:
        return items[index % len(items)] if items else None

    def step(self, name: str, *args: Any) -> None:
        try:
            with late_entry_window(800):
                self.run(lambda session: getattr(self, name)(session, *args))
        except LedgerError as error:
            # Refused (a closed quarter, a date before enrolment, too little to spend): it
            # books nothing, and the read models must show that too.
            event(f"refused: {type(error).__name__}")
        else:
            self.done[name] += 1

    def register(self, session: Session, clinic: int, day: dt.date) -> None:
        found = make_patient(
            session,
            session.get_one(Clinic, self.pick(self.clinics, clinic)),
            enrolled_on=day,
            today=TODAY,
        )
        self.patients.append(found.patient.id)
        self.transactions.append(found.transaction_id)

    def visit(self, session: Session, patient: int, clinic: int, day: dt.date, ok: bool) -> None:
        if not self.patients:
            return
        recorded = record_visit(
            session,
            patient_id=self.pick(self.patients, patient),
            clinic_id=self.pick(self.clinics, clinic),
            visited_on=day,
            readings=AT_TARGET if ok else OFF_TARGET,
            recorded_by="test",
            today=TODAY,
        )
        self.transactions.append(recorded.transaction_id)

    def attend(self, session: Session, patient: int, held: int) -> None:
        if not self.patients:
            return
        recorded = record_attendance(
            session,
            session_id=self.pick(self.classes, held),
            patient_id=self.pick(self.patients, patient),
            recorded_by="test",
            today=TODAY,
        )
        self.transactions.append(recorded.transaction_id)

    def spend(self, session: Session, patient: int, clinic: int, amount: int) -> None:
        if not self.patients:
            return
        found = get_patient(session, self.pick(self.patients, patient))
        spent = redeem(
            session,
            patient_id=found.id,
            clinic_id=found.clinic_id if clinic % 2 else self.pick(self.clinics, clinic),
            amount=amount,
            purpose="test",
            spent_on=TODAY,
            recorded_by="test",
            today=TODAY,
        )
        self.transactions.append(spent.redemption.transaction_id)

    def reverse(self, session: Session, which: int) -> None:
        original = session.get(Transaction, self.pick(self.transactions, which) or 0)
        if original is not None:
            reverse_transaction(session, context(), original, reason="property test")

    def move(self, session: Session, patient: int, clinic: int, day: dt.date) -> None:
        if self.patients:
            change_home_clinic(
                session,
                patient_id=self.pick(self.patients, patient),
                clinic_id=self.pick(self.clinics, clinic),
                on=day,
                today=TODAY,
            )

    def migrate(self, session: Session, patient: int, recorded: int) -> None:
        if self.patients:
            found = get_patient(session, self.pick(self.patients, patient))
            migrate_balance(
                session,
                context(),
                found,
                as_of=min(TODAY, found.enrolled_on + dt.timedelta(days=40)),
                recorded=recorded,
                legacy_id=uuid.uuid4().hex,
            )

    def close(self, session: Session, quarter: int) -> None:
        draft = open_settlement(session, district=DISTRICT, year=2024, quarter=quarter)
        close_settlement(session, draft.id, closed_by="test", today=TODAY)


def test_the_read_models_equal_what_the_entries_give(sessions: sessionmaker[Session]) -> None:
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(steps=STEPS)
    @example(steps=HISTORY)
    def play(steps: list[tuple[Any, ...]]) -> None:
        history = History(sessions)
        for name, *args in steps:
            history.step(name, *args)
        played.update(history.done)
        with session_scope(sessions) as session:
            assert read_model_mismatches(session) == []
            # The annual table, read in one query, says what each year's district report does.
            for year, active, total in reports.annual_report(session, through=2025):
                rows = reports.district_report(session, year)
                assert total == reports.total_row(rows)
                assert active == sum(1 for r in rows if r.clinics_chronic + r.clinics_ophthalmology)
            recount = figures.recounted(session)[1]
            for quarter in (1, 2, 3, 4):
                # A settlement's lines are what the entries give for its quarter...
                computed = compute(session, DISTRICT, 2024, quarter)
                for clinic_id, line in computed.items():
                    for name in LINE_FIGURES:
                        key = (DISTRICT, f"2024-Q{quarter}", clinic_id, name)
                        assert getattr(line, name) == recount.get(key, 0)
                # ... and a closed quarter's, as it was closed: nothing booked since moved it.
                closed = session.execute(
                    select(Settlement).where(
                        Settlement.district == DISTRICT,
                        Settlement.year == 2024,
                        Settlement.quarter == quarter,
                        Settlement.status == "closed",
                    )
                ).scalar()
                if closed is not None:
                    stored = {
                        line.clinic_id: line for line in view_settlement(session, closed).lines
                    }
                    assert {c: f.payout for c, f in computed.items() if c in stored} == {
                        c: line.payout for c, line in stored.items()
                    }

    played: Counter[str] = Counter()
    play()
    # The histories did book: each kind of step went through (in ``HISTORY`` at least).
    assert set(played) == KINDS, played
    with session_scope(sessions) as session:
        kept = figures.kept(session)[1]
    # Late events and reversals after a close landed in a later quarter, as corrections.
    assert any(key[3].startswith("corrections_") and value for key, value in kept.items())


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MILEAGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def book_a_visit(sessions: sessionmaker[Session]) -> tuple[str, int]:
    """A clinic of the district, a patient registered there and one visit in March 2024."""

    def work(session: Session) -> tuple[str, int]:
        clinic = make_clinic(session, district=OTHER)
        with late_entry_window(800):
            patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 3, 4), today=TODAY)
            visit = record_visit(
                session,
                patient_id=patient.patient.id,
                clinic_id=clinic.id,
                visited_on=dt.date(2024, 3, 11),
                readings=AT_TARGET,
                recorded_by="test",
                today=TODAY,
            )
        return clinic.id, visit.transaction_id

    return run_in_transaction(sessions, work)


def test_verify_names_a_corrupted_row_and_the_rebuild_restores_it(
    cli: CliRunner, sessions: sessionmaker[Session], engine: Engine
) -> None:
    clinic, _ = book_a_visit(sessions)
    clean = cli.invoke(main, ["ledger", "verify"])
    assert clean.exit_code == 0, clean.output
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE report_figures SET value = value + 5"
                " WHERE clinic = :c AND figure = 'visits' AND month = 202403"
            ),
            {"c": clinic},
        )
        connection.execute(
            text("DELETE FROM settlement_figures WHERE clinic = :c AND figure = 'earned'"),
            {"c": clinic},
        )
    found = cli.invoke(main, ["ledger", "verify"])
    assert found.exit_code == 1
    assert (
        f"report figure visits district {OTHER} clinic {clinic} month 2024-03:"
        " kept 6, entries give 1" in found.output
    )
    assert (
        f"settlement figure earned district {OTHER} clinic {clinic} quarter 2024-Q1:"
        " kept 0, entries give " in found.output
    )
    assert "2 mismatch(es)" in found.output
    rebuilt = cli.invoke(main, ["ledger", "rebuild-read-models"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "read models rebuilt" in rebuilt.output
    again = cli.invoke(main, ["ledger", "verify"])
    assert again.exit_code == 0, again.output
    with session_scope(sessions) as session:
        row = next(
            r for r in reports.clinic_report(session, 2024, district=OTHER) if r.key == clinic
        )
        assert row.year.visits == 1


def test_a_reversal_nets_out_in_the_month_it_reverses(sessions: sessionmaker[Session]) -> None:
    clinic, visit = book_a_visit(sessions)

    def report(session: Session) -> tuple[int, int]:
        row = next(
            r for r in reports.clinic_report(session, 2024, district=OTHER) if r.key == clinic
        )
        return row.year.visits, row.year.clinic_earned

    visits, earned = run_in_transaction(sessions, report)
    assert visits == 1 and earned > 0

    def undo(session: Session) -> None:
        reverse_transaction(session, context(), session.get_one(Transaction, visit), reason="typo")

    run_in_transaction(sessions, undo)
    # The visit is still a recorded visit; what it earned drops out of March, not February.
    visits_after, earned_after = run_in_transaction(sessions, report)
    assert visits_after == 1
    assert earned_after < earned
    with session_scope(sessions) as session:
        assert read_model_mismatches(session) == []


@pytest.fixture(params=ENGINES)
def own_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of this test's own (it is migrated down and up again)."""
    url = new_database(request.param, request, tmp_path)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        admin = make_engine(request.getfixturevalue("pg_server"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = make_url(url).database
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    elif os.path.exists(str(make_url(url).database)):
        os.remove(str(make_url(url).database))


def test_the_migration_fills_the_read_models_from_the_history(own_database: Engine) -> None:
    sessions = make_session_factory(own_database)
    history = History(sessions)
    for step in HISTORY:
        history.step(*step)
    assert set(history.done) == KINDS, history.done
    with session_scope(sessions) as session:
        kept = nonzero(figures.kept(session))
    assert any(key[3] == "corrections_earned" for key in kept[1])
    downgrade(own_database, "0012_staff")
    upgrade(own_database)
    with session_scope(sessions) as session:
        # Rows the bookings moved back to zero (a patient's old home clinic) are not made.
        assert nonzero(figures.kept(session)) == kept
        assert read_model_mismatches(session) == []


def nonzero(tables: tuple[dict[Any, int], ...]) -> tuple[dict[Any, int], ...]:
    return tuple({key: value for key, value in table.items() if value} for table in tables)
