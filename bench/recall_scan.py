"""The daily recall scan against a population of N patients, on SQLite or PostgreSQL.

    python -m bench.recall_scan --patients 200000 [--runs 3] [--chunk 200]

The database is ``MILEAGE_DATABASE_URL`` when set (PostgreSQL: it should be empty or
already filled by this bench at the same size), else a SQLite file in a temporary directory.
It is migrated, then filled in bulk (multi-row inserts of accounts, patients, visits and
earlier recalls; no services, for speed; then each patient's next recall date worked out as the
migration does): patients enrolled over three years in the
participating districts, most with visits, some with a follow-up booked, some overdue with
one to three earlier recalls, some lost, some without consent, some who left.

The scan is timed as the scheduler runs it (``jobs.tasks.recall_overdue``): chunks of
``--chunk`` patients owed a recall, each chunk in a transaction of its own. After each run
the recalls it queued are deleted (and those patients' next recall dates put back), so
every run does the same work; the median of
``--runs`` is printed with the lowest and highest, and how many patients were due.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import SEOUL
from ledger.db import make_engine, make_session_factory, run_in_transaction, session_scope
from ledger.domain import AccountType
from ledger.models import Account, Balance, Clinic, District, Message, Patient, Visit
from ledger.programme import Readings
from ledger.services.clinics import register_clinic
from ledger.services.earning import record_visit
from ledger.services.recall_due import fill_recall_due, refresh_recall_due
from ledger.services.registry import register_patient
from ledger.vocabulary import MessageKind, MessageStatus, PatientStatus
from notifications.calendar import SendingCalendar
from notifications.recalls import RecallScan, scan_recalls

BENCH_DAY = dt.date(2025, 9, 1)  # the morning the scan runs for
BATCH = 5_000


@dataclass(frozen=True)
class Timing:
    patients: int
    due: int
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(6), SEOUL)


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _seed(sessions: sessionmaker[Session]) -> tuple[dict[str, str], int]:
    """A clinic in each participating district and one real visit, through the services:
    the clinics the bulk patients belong to, and a transaction their visits may point at."""
    with session_scope(sessions) as session:
        codes = session.execute(
            select(District.code).where(District.participating.is_(True)).order_by(District.code)
        ).scalars()
        clinics = {}
        for code in codes:
            found = session.execute(
                select(Clinic.id).where(Clinic.district == code, Clinic.name == "bench")
            ).scalar()
            clinics[code] = (
                found
                or register_clinic(
                    session,
                    name="bench",
                    kind="chronic",
                    district=code,
                    participating_since=dt.date(2013, 1, 1),
                ).id
            )
        first = next(iter(clinics.values()))
        patient = register_patient(
            session,
            clinic_id=first,
            conditions=("hypertension",),
            enrolled_on=BENCH_DAY - dt.timedelta(days=10),
            today=BENCH_DAY - dt.timedelta(days=10),
            name=f"벤치 {time.time_ns()}",
            birth_date=dt.date(1950, 1, 1),
            phone=f"010-{random.randint(2000, 5899)}-{random.randint(0, 9999):04d}",
            sms_consent=True,
            recorded_by="bench",
        ).patient
        visit = record_visit(
            session,
            patient_id=patient.id,
            clinic_id=first,
            visited_on=BENCH_DAY - dt.timedelta(days=5),
            readings=Readings(None, None, None, None),
            recorded_by="bench",
            today=BENCH_DAY - dt.timedelta(days=5),
        )
        return clinics, visit.transaction_id


def fill(engine: Engine, sessions: sessionmaker[Session], patients: int, seed: int = 1) -> int:
    """Add ``patients`` bench patients (in bulk) unless they are there; how many there are."""
    with engine.connect() as conn:
        present = conn.execute(
            select(func.count()).where(Patient.id.like("pat_bench%"))
        ).scalar_one()
    if present >= patients:
        return present
    clinics, transaction_id = _seed(sessions)
    districts = sorted(clinics)
    rng = random.Random(seed)
    now = _morning(BENCH_DAY - dt.timedelta(days=1))
    for numbers in _batches({"n": n} for n in range(present, patients)):
        people = [_person(rng, row["n"], districts, clinics) for row in numbers]
        with engine.begin() as conn:
            ids = conn.execute(
                insert(Account).returning(Account.id, sort_by_parameter_order=True),
                [
                    {
                        "code": f"patient:bench{p['n']}",
                        "type": AccountType.PATIENT.value,
                        "normal_side": AccountType.PATIENT.normal_side.value,
                        "district": p["district"],
                        "shards": 1,
                        "created_at": now,
                    }
                    for p in people
                ],
            ).scalars()
            accounts = list(ids)
            conn.execute(
                insert(Balance), [{"account_id": a, "shard": 0, "balance": 0} for a in accounts]
            )
            conn.execute(
                insert(Patient),
                [
                    _patient_row(p, account, now)
                    for p, account in zip(people, accounts, strict=True)
                ],
            )
            visits = [v for p in people for v in _visit_rows(p, transaction_id, now)]
            if visits:
                conn.execute(insert(Visit), visits)
            recalls = [m for p in people for m in _recall_rows(p)]
            if recalls:
                conn.execute(insert(Message), recalls)
    with engine.begin() as conn:  # the patients' next recall dates, as the migration fills them
        fill_recall_due(conn)
    return patients


def _person(
    rng: random.Random, n: int, districts: Sequence[str], clinics: dict[str, str]
) -> dict[str, Any]:
    district = rng.choice(districts)
    enrolled = BENCH_DAY - dt.timedelta(days=rng.randint(20, 3 * 365))
    span = (BENCH_DAY - enrolled).days
    # visits every few months, the last of them mostly recent
    visit_days = sorted(
        {
            BENCH_DAY - dt.timedelta(days=min(span, int(rng.expovariate(1 / 90)) + 1))
            for _ in range(rng.choice([0, 1, 2, 3, 4, 6, 8]))
        }
    )
    last = visit_days[-1] if visit_days else None
    booked = None
    if last is not None and rng.random() < 0.7:
        booked = last + dt.timedelta(days=rng.randint(28, 90))
    fate = rng.random()
    return {
        "n": n,
        "district": district,
        "clinic": clinics[district],
        "enrolled": enrolled,
        "visit_days": visit_days,
        "booked": booked,
        "consent": fate >= 0.05,
        "status": "moved" if fate > 0.97 else PatientStatus.ACTIVE.value,
    }


def _patient_row(person: dict[str, Any], account: int, now: dt.datetime) -> dict[str, Any]:
    n = person["n"]
    return {
        "id": f"pat_bench{n:010d}",
        "name": f"벤치{n}",
        "birth_date": dt.date(1950, 1, 1) + dt.timedelta(days=n % 9000),
        "phone": f"+8210{n:08d}",
        "has_hypertension": True,
        "has_diabetes": n % 3 == 0,
        "sms_consent": person["consent"],
        "consent_changed_at": now,
        "consent_wording": "bench",
        "consent_recorded_by": "bench",
        "clinic_id": person["clinic"],
        "district": person["district"],
        "enrolled_on": person["enrolled"],
        "status": person["status"],
        "left_on": BENCH_DAY - dt.timedelta(days=1) if person["status"] != "active" else None,
        "account_id": account,
        "created_at": now,
    }


def _visit_rows(
    person: dict[str, Any], transaction_id: int, now: dt.datetime
) -> Iterator[dict[str, Any]]:
    days = person["visit_days"]
    for j, day in enumerate(days):
        yield {
            "id": f"vis_bench{person['n']:010d}_{j}",
            "patient_id": f"pat_bench{person['n']:010d}",
            "clinic_id": person["clinic"],
            "visited_on": day,
            "next_visit_on": person["booked"] if j == len(days) - 1 else None,
            "transaction_id": transaction_id,
            "recorded_at": now,
            "recorded_by": "bench",
        }


def _recall_rows(person: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The recalls earlier mornings' scans queued: the first when the patient fell overdue,
    then 14 days apart, three at most, none once lost (so the bench day finds only what falls
    due on it)."""
    base = person["visit_days"][-1] if person["visit_days"] else person["enrolled"]
    booked = person["booked"]
    due = booked + dt.timedelta(days=3) if booked else base + dt.timedelta(days=35)
    for j in range(3):
        if due >= BENCH_DAY or due - base > dt.timedelta(days=365):
            return  # none on the bench day or later, nor once lost
        moment = _morning(due)
        yield {
            "id": f"msg_bench{person['n']:010d}_{j}",
            "patient_id": f"pat_bench{person['n']:010d}",
            "district": person["district"],
            "kind": MessageKind.RECALL.value,
            "due_date": due,
            "sequence": j + 1,
            "clinic_id": person["clinic"],
            "not_before": moment.replace(hour=9),
            "status": MessageStatus.SENT.value,
            "body": None,
            "attempts": 1,
            "sent_at": moment.replace(hour=9),
            "created_at": moment,
            "updated_at": moment,
        }
        due += dt.timedelta(days=14)


def scan(
    sessions: sessionmaker[Session], *, chunk: int, moment: dt.datetime, day: dt.date = BENCH_DAY
) -> int:
    """The scheduler's morning scan, chunk by chunk: how many recalls it queued."""
    calendar = SendingCalendar()
    queued, after = 0, None
    while True:

        def one_chunk(session: Session, after: str | None = after) -> RecallScan:
            return scan_recalls(
                session, today=day, now=moment, calendar=calendar, after=after, limit=chunk
            )

        result = run_in_transaction(sessions, one_chunk)
        queued += result.queued
        if result.last is None:
            return queued
        after = result.last


def time_scan(
    engine: Engine, sessions: sessionmaker[Session], *, patients: int, runs: int, chunk: int
) -> Timing:
    fill(engine, sessions, patients)
    moment = _morning(BENCH_DAY)
    seconds, due = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        due = scan(sessions, chunk=chunk, moment=moment)
        seconds.append(time.perf_counter() - started)
        with session_scope(sessions) as session:  # so that the next run has the same work
            recalled = session.execute(
                delete(Message).where(Message.created_at == moment).returning(Message.patient_id)
            ).scalars()
            refresh_recall_due(session, list(recalled))
    return Timing(patients, due, seconds)


def settle(engine: Engine) -> None:
    """What a database that has lived a while has: statistics, and on PostgreSQL a
    visibility map, so that index-only scans read no table pages."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


@contextmanager
def database(url: str | None) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    from ledger.migrate import upgrade

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(url or f"sqlite:///{Path(folder) / 'recalls.db'}")
        try:
            upgrade(engine)
            yield engine, make_session_factory(engine)
        finally:
            engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=200)
    args = parser.parse_args(argv)
    url = os.environ.get("MILEAGE_DATABASE_URL")
    with database(url) as (engine, sessions):
        started = time.perf_counter()
        fill(engine, sessions, args.patients)
        filled = time.perf_counter() - started
        settle(engine)
        timing = time_scan(
            engine, sessions, patients=args.patients, runs=args.runs, chunk=args.chunk
        )
    print(f"engine    {engine.dialect.name} ({platform.node()}, {os.cpu_count()} cores)")
    print(f"patients  {timing.patients:,} (filled in {filled:.1f} s)")
    print(f"due       {timing.due:,} recalls queued on {BENCH_DAY}")
    print(
        f"scan      {timing.median:.2f} s median of {len(timing.seconds)}"
        f" ({min(timing.seconds):.2f} to {max(timing.seconds):.2f})"
    )


if __name__ == "__main__":
    main()
