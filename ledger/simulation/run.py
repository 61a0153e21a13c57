"""The run: build the world, then year by year make its events, evaluate them and write
them in chunks, one database transaction a year; then the demo's API keys."""

from __future__ import annotations

import datetime as dt
import gc
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from ledger import clock
from ledger.db import session_scope
from ledger.domain import AccountType
from ledger.errors import InvalidInput
from ledger.models import Clinic
from ledger.repository import figures
from ledger.services.access import create_key
from ledger.services.clinics import district_account
from ledger.services.events import rule_book
from ledger.services.recall_due import fill_recall_due
from ledger.simulation.books import Booking, Books
from ledger.simulation.days import Calendar, month_index
from ledger.simulation.evaluate import RECORDED_BY, Evaluator
from ledger.simulation.events import LEAVE, MOVE, Event, EventMaker
from ledger.simulation.model import FIRST_YEAR, Model
from ledger.simulation.report import SimulationResult
from ledger.simulation.sql import (
    CLINIC_LEAVES,
    CLINICS,
    HOMES,
    LEDGER_TABLES,
    MOVE_PATIENTS,
    REGISTRY_ORDER,
    SESSIONS,
)
from ledger.simulation.world import SimClinic, World, build_world
from ledger.simulation.writer import BulkWriter, Step

__all__ = ["database_is_empty", "days_to_simulate", "default_through", "simulate_seoul"]

CHUNK = 5_000  # events evaluated and written per chunk


def database_is_empty(session: Session) -> bool:
    """No clinic yet: both demos fill only an empty database."""
    return session.execute(select(func.count()).select_from(Clinic)).scalar_one() == 0


def simulate_seoul(
    sessions: sessionmaker[Session],
    *,
    fraction: float = 1.0,
    through: dt.date | None = None,
    seed: int = 2013,
    model: Model | None = None,
    progress: Callable[[int], None] = lambda _days: None,
) -> SimulationResult:
    """Fill an empty database with the programme's history from 2013 to ``through``.

    ``through`` is the end of last year by default (Asia/Seoul); ``fraction`` scales the
    clinics and patients down (at least one clinic of each kind per district); ``progress``
    is called with the number of simulated days done since its last call.
    """
    if not 0 < fraction <= 1:
        raise InvalidInput("fraction is more than 0 and at most 1", field="fraction")
    started = time.monotonic()
    through = through or default_through()
    model = model or Model()
    days = Calendar()
    world = build_world(random.Random(seed), model, fraction=fraction, through=through, days=days)
    books = Books()
    now = clock.now()
    with session_scope(sessions) as session:
        if not database_is_empty(session):
            raise InvalidInput("the simulation fills an empty database")
        expense = {
            d.code: district_account(session, d.code, AccountType.DISTRICT_EXPENSE)
            for d in world.districts
        }
    for account in expense.values():
        books.open(account, AccountType.DISTRICT_EXPENSE)
    evaluator = Evaluator(random.Random(seed + 1), books, rule_book(), expense, now, through)
    maker = EventMaker(random.Random(seed + 2), model, days, through)
    result = SimulationResult(through=through)
    with _collector_paused():
        for year in range(FIRST_YEAR, through.year + 1):
            with session_scope(sessions) as session:
                writer = BulkWriter(session.connection(), books, now)
                try:
                    _open_year(writer, world, evaluator, year, result)
                    _run_year(writer, evaluator, maker.year(world, year), result, progress, year)
                    writer.settle()
                finally:
                    writer.close()
            books.forget_year(year)
    with session_scope(sessions) as session:
        fill_recall_due(session)  # the visits and patients were written in bulk
        _demo_keys(session, world, books, result)
        # Written in bulk below the booking, the history's read models are counted once,
        # set-based, at the end (as ``mileage ledger rebuild-read-models`` does).
        figures.rebuild(session)
        _analyze(session)
    result.districts = len({c.district for c in world.clinics})
    result.seconds = time.monotonic() - started
    return result


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: the run makes millions of small objects that
    form no cycles worth collecting, and the collector's passes over them cost a quarter of
    the run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _open_year(
    writer: BulkWriter, world: World, evaluator: Evaluator, year: int, result: SimulationResult
) -> None:
    """The year's new clinics (with their accounts), classes and patients' accounts."""
    clinics = [c for c in world.clinics if c.since.year == year]
    ids = writer.open_accounts(
        [
            (f"{type_.value}:{c.id}", type_, c.district)
            for c in clinics
            for type_ in (AccountType.CLINIC_EARNED, AccountType.CLINIC_REIMBURSABLE)
        ]
    )
    for n, clinic in enumerate(clinics):
        clinic.earned, clinic.reimbursable = ids[2 * n], ids[2 * n + 1]
        if clinic.kind == "ophthalmology":
            evaluator.eyes[clinic.district].append(clinic)
            result.clinics_ophthalmology += 1
        else:
            result.clinics_chronic += 1
    writer.insert(CLINICS, [_clinic_row(c, writer.now) for c in clinics])
    writer.insert(
        SESSIONS,
        [
            {
                "id": s.id,
                "district": s.district,
                "clinic_id": None,
                "held_on": s.held_on,
                "condition": s.condition,
                "title": s.title,
                "created_at": writer.now,
            }
            for s in world.sessions
            if s.held_on.year == year
        ],
    )
    patients = [p for p in world.patients if p.enrolled_on.year == year]
    ids = writer.open_accounts(
        [(f"patient:{p.id}", AccountType.PATIENT, p.district) for p in patients]
    )
    for patient, account in zip(patients, ids, strict=True):
        patient.account = account


def _clinic_row(clinic: SimClinic, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": clinic.id,
        "name": clinic.name,
        "kind": clinic.kind,
        "district": clinic.district,
        "participating_since": clinic.since,
        "participating_until": None,
        "earned_account_id": clinic.earned,
        "reimbursable_account_id": clinic.reimbursable,
        "created_at": now,
    }


def _run_year(
    writer: BulkWriter,
    evaluator: Evaluator,
    events: list[Event],
    result: SimulationResult,
    progress: Callable[[int], None],
    year: int,
) -> None:
    """Evaluate the year's events in order and write them chunk by chunk."""
    done = dt.date(year, 1, 1)
    for start in range(0, len(events), CHUNK):
        chunk = events[start : start + CHUNK]
        bookings: list[Booking] = []
        for event in chunk:
            bookings += evaluator.evaluate(event, result)
        writer.write(bookings, _registry_changes(writer, chunk))
        result.transactions += len(bookings)
        result.redemptions += sum(1 for b in bookings if b.kind == "redemption")
        progress((chunk[-1].day - done).days)
        done = chunk[-1].day
    writer.wait()
    progress((min(dt.date(year, 12, 31), evaluator.through) - done).days + 1)


def _registry_changes(writer: BulkWriter, events: Iterable[Event]) -> list[Step]:
    """Clinics leaving and patients moving to another home clinic, after the chunk's rows."""
    leaves, moves, homes = [], [], []
    for event in events:
        if event.kind == LEAVE and event.clinic is not None:
            leaves.append({"c_id": event.clinic.id, "c_until": event.day})
        elif event.kind == MOVE and event.patient is not None and event.clinic is not None:
            moves.append({"p_id": event.patient.id, "p_clinic": event.clinic.id})
            homes.append(
                {
                    "patient_id": event.patient.id,
                    "clinic_id": event.clinic.id,
                    "from_date": event.day,
                }
            )
    return [
        (writer.registry[HOMES], writer.registry[HOMES].tuples(homes)),
        (MOVE_PATIENTS, moves),
        (CLINIC_LEAVES, leaves),
    ]


def _analyze(session: Session) -> None:
    """Refresh PostgreSQL's planner statistics of the tables just filled: until autovacuum
    gets to them, the reports would be planned for empty tables (minutes instead of seconds).
    """
    if session.get_bind().dialect.name == "postgresql":
        read_models = (figures.REPORT, figures.SETTLEMENT)
        tables = (*LEDGER_TABLES, CLINICS, *REGISTRY_ORDER, SESSIONS, *read_models)
        session.execute(text(f"ANALYZE {', '.join(t.name for t in tables)}"))


def _demo_keys(session: Session, world: World, books: Books, result: SimulationResult) -> None:
    """API keys for the city, 강동구보건소 and a 강동구 clinic, and a sample patient of it: one
    still coming at the end, with enough mileage to spend (any of the district if none)."""
    district = "11740"
    ours = [p for p in world.patients if p.district == district and p.account]
    patient = next(
        (
            p
            for p in ours
            if p.last_month >= month_index(result.through) and books.balance(p.account) >= 3_000
        ),
        ours[0] if ours else None,
    )
    clinic = (
        patient.home_on(result.through)
        if patient is not None
        else next(c for c in world.clinics if c.district == district and c.kind == "chronic")
    )
    for label_, role, scope in (
        ("서울시 보건의료정책과 (demo)", "city", {}),
        ("강동구보건소 담당자 (demo)", "health_center", {"district": district}),
        (f"{clinic.name} 접수 (demo)", "clinic", {"clinic_id": clinic.id}),
    ):
        issued = create_key(session, role=role, label=label_, created_by=RECORDED_BY, **scope)
        result.keys[role] = issued.token
    result.sample_clinic = clinic.id
    result.sample_patient = patient.id if patient is not None else ""


def default_through(today: dt.date | None = None) -> dt.date:
    """The end of last year (Asia/Seoul): the simulation covers complete years."""
    return dt.date((today or clock.today()).year - 1, 12, 31)


def days_to_simulate(through: dt.date) -> int:
    """How many days the progress reports add up to, from 1 January 2013 to ``through``."""
    return (through - dt.date(FIRST_YEAR, 1, 1)).days + 1
