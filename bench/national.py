"""A national-scale ledger on PostgreSQL, loaded in bulk by COPY, and the reads timed on it.

    python -m bench.national load --patients 100000      # resumable: run it again to go on
    python -m bench.national time --patients 100000 [--runs 5]
    python -m bench.national verify --patients 100000    # what `mileage ledger verify` checks

The cluster lives in a fixed directory outside the clone (``--data``, by default
/work/bench-data/national), initialised and started as the ``postgres`` user the way
tests/pgcluster.py does (with the default durability: fsync and synchronous commit on), and
reused when present: its port is kept in ``port`` beside ``data/``. Each size is a database
of its own (``national_<patients>``), so two sizes can be compared.

The load. 25 districts, all taking part; a chronic-disease clinic per ~190 patients
(``PER_CLINIC``, Seoul's), spread over the districts; patients enrolled over ``--years``
years up to the end of 2025, each visiting their home clinic in a month with their own
adherence (0.40-0.88) until they drop out (2.8 % a month), a follow-up booked at 70 % of
visits, spending part of a bill now and then, recalled by earlier mornings' scans when they fell
overdue (the Seoul simulation's shapes,
``ledger.simulation.model.Model``). Every event is a ledger transaction as the services book
it: its legs (the district expense account, sharded, debited), its limit postings, its
header with the transfers in ``details``, and its registry row (visit, redemption).

It is written a chunk of patients at a time (``--chunk``), each chunk one database
transaction of COPYs (psycopg's ``cursor.copy``) that also records the chunk as done, so an
interrupted load goes on from the last chunk committed; the chunk's rows come from a random
generator seeded by the chunk's number, so a chunk redone is the same chunk (a resumed load
must be given the same sizes: it refuses another plan). Before the
first chunk the secondary indexes are dropped (their definitions kept in the progress
table) and the load runs with ``session_replication_role = replica`` (no triggers, no
foreign-key checks); after the last, the indexes are created again, the running totals
(balances, limit counters) summed from the rows, the sequences moved past the ids used and
the tables vacuumed and analysed. A disk-budget check refuses to start a load whose
estimated size exceeds the free disk less a margin.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import SEOUL
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.models import Patient, Transaction
from ledger.services import recall_due as rules
from ledger.services.periods import label, quarter_of
from ledger.services.verify import rebuild_read_models
from tests.pgcluster import find_bindir

DATA = Path("/work/bench-data/national")
PER_CLINIC = 190
LAST_DAY = dt.date(2025, 12, 31)
SCAN_DAY = LAST_DAY + dt.timedelta(days=1)  # the morning the timed recall scan runs for
SHARDS = 16  # the district expense account's shards, as the services open it
DROPOUT = 0.028  # a patient's chance a month of stopping for good (Model.dropout)
ADHERENCE = (0.40, 0.88)  # chance of a visit in a month (Model.adherence)
BOOKED = 0.7  # share of visits with a follow-up booked
CONSENT = 0.95
# Bytes a ledger entry costs on disk with its share of headers, postings, visits and
# indexes, measured on this bench's own loads (docs/benchmarks.md); and the margin kept free.
BYTES_PER_ENTRY = 620
MARGIN = 8 * 2**30
STAMP = "2025-12-31 09:00:00+09"
PROGRESS = "bench_national_progress"


# --- the cluster -----------------------------------------------------------------------------


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def cluster(data: Path) -> str:
    """The URL of the bench's cluster in ``data``: initialised if absent, started if down."""
    bindir = find_bindir()
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    pgdata, port_file = data / "data", data / "port"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_as_postgres(), *args], check=check, capture_output=True, text=True, cwd=data
        )

    if not (pgdata / "PG_VERSION").exists():
        run(str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
    if not port_file.exists():
        from tests.pgcluster import free_port

        port_file.write_text(str(free_port()))
    port = int(port_file.read_text())
    if run(str(bindir / "pg_ctl"), "-D", str(pgdata), "status", check=False).returncode != 0:
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {data} -c max_connections=50"
            " -c shared_buffers=1GB -c maintenance_work_mem=512MB -c max_wal_size=8GB"
            " -c log_min_messages=warning"
        )
        run(str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(data / "server.log"),
            "-w", "-t", "120", "-o", options, "start")  # fmt: skip
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def database(server: str, name: str) -> str:
    """The URL of database ``name`` on ``server``, created (and migrated) if absent."""
    from ledger.migrate import upgrade

    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.scalar() is None:
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(False)
    engine = make_engine(url)
    with engine.connect() as conn:
        migrated = conn.execute(text("SELECT to_regclass('patients') IS NOT NULL")).scalar()
    if not migrated:
        upgrade(engine)
    engine.dispose()
    return url


# --- the plan: sizes, ids, the disk budget ---------------------------------------------------


@dataclass(frozen=True)
class Plan:
    patients: int
    chunk: int
    years: int
    seed: int = 2013

    @property
    def clinics(self) -> int:
        return max(25, math.ceil(self.patients / PER_CLINIC))

    @property
    def chunks(self) -> int:
        return math.ceil(self.patients / self.chunk)

    @property
    def first_day(self) -> dt.date:
        return dt.date(LAST_DAY.year - self.years + 1, 1, 1)

    def expected_entries(self) -> int:
        """About how many ledger entries the load writes (for the disk budget)."""
        months = 12 * self.years / 2  # enrolled, on average, half-way through the span
        active = min(months, 1 / DROPOUT)
        visits = active * statistics.mean(ADHERENCE)
        return int(self.patients * (3 + visits * 3 + visits / 6 * 2))


def disk_budget(plan: Plan, data: Path) -> tuple[int, int]:
    """(estimated bytes, bytes that may be used): free disk less the margin."""
    data.mkdir(parents=True, exist_ok=True)
    return plan.expected_entries() * BYTES_PER_ENTRY, shutil.disk_usage(data).free - MARGIN


# Ids: accounts 1-100 are the migration's and the district accounts'; clinics' from 1,000;
# patients' after every clinic's. Transactions, entries and postings are numbered in blocks
# a chunk at a time, from where the previous chunk stopped (kept in the progress table).
DISTRICT_ACCOUNTS = 1_000


def clinic_accounts(n: int) -> tuple[int, int]:
    return DISTRICT_ACCOUNTS + 2 * n, DISTRICT_ACCOUNTS + 2 * n + 1


def patient_account(plan: Plan, n: int) -> int:
    return DISTRICT_ACCOUNTS + 2 * plan.clinics + n


# --- one chunk's rows ------------------------------------------------------------------------


@dataclass
class Counters:
    tx: int
    entry: int
    posting: int


@dataclass
class Rows:
    """One chunk's rows, table by table, in COPY's column order."""

    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.tables.setdefault(table, []).append(row)


COLUMNS = {
    "accounts": ("id", "code", "type", "normal_side", "district", "shards", "created_at"),
    "patients": (
        "id", "name", "birth_date", "phone", "has_hypertension", "has_diabetes", "sms_consent",
        "consent_changed_at", "consent_wording", "consent_recorded_by", "clinic_id", "district",
        "enrolled_on", "status", "account_id", "enrolment_transaction_id", "created_at",
        "recall_due_on",
    ),
    "home_clinics": ("patient_id", "clinic_id", "from_date"),
    "entries": ("id", "transaction_id", "account_id", "amount"),
    "limit_postings": ("id", "transaction_id", "account_id", "key", "amount", "count"),
    "transactions": ("id", "kind", "effective_date", "booked_at", "district", "details", "period"),
    "visits": (
        "id", "patient_id", "clinic_id", "visited_on", "next_visit_on", "transaction_id",
        "recorded_at", "recorded_by",
    ),
    "redemptions": (
        "id", "patient_id", "clinic_id", "amount", "purpose", "spent_on", "transaction_id",
        "recorded_at", "recorded_by",
    ),
    "messages": (
        "id", "patient_id", "district", "kind", "due_date", "sequence", "clinic_id",
        "not_before", "status", "attempts", "sent_at", "created_at", "updated_at",
    ),
}  # fmt: skip
# The order a chunk is copied in (every row it refers to first; no checks run meanwhile).
ORDER = tuple(COLUMNS)


def _district_codes(conn: Any) -> list[str]:
    return [r[0] for r in conn.execute(text("SELECT code FROM districts ORDER BY code"))]


class Chunk:
    """The rows of patients ``start`` to ``stop``: their accounts, registrations, visits,
    spending, and the ledger rows each event books."""

    def __init__(
        self, plan: Plan, number: int, districts: Sequence[str], expense: dict[str, int],
        ids: Counters,
    ) -> None:  # fmt: skip
        self.plan, self.districts, self.expense, self.ids = plan, districts, expense, ids
        self.rng = random.Random(plan.seed * 1_000_003 + number)
        self.rows = Rows()

    def _transaction(
        self, kind: str, day: dt.date, district: str, patient: str,
        transfers: list[tuple[str, int, int, int]], limits: list[tuple[int, str, int]],
    ) -> int:  # fmt: skip
        """Book one event: (tag, debit account, credit account, amount) transfers."""
        tx = self.ids.tx
        self.ids.tx += 1
        legs: dict[int, int] = {}
        for _, debit, credit, amount in transfers:
            legs[debit] = legs.get(debit, 0) + amount
            legs[credit] = legs.get(credit, 0) - amount
        for account, amount in legs.items():
            self.rows.add("entries", (self.ids.entry, tx, account, amount))
            self.ids.entry += 1
        for account, key, amount in limits:
            self.rows.add("limit_postings", (self.ids.posting, tx, account, key, amount, 1))
            self.ids.posting += 1
        details = {
            "transfers": [
                {"tag": tag, "debit": d, "credit": c, "requested": a, "amount": a,
                 "clipped": 0, "reason": None}
                for tag, d, c, a in transfers
            ],
            "meta": {"event": kind, "patient": patient},
        }  # fmt: skip
        period = label(*quarter_of(day))
        self.rows.add("transactions", (tx, kind, day, STAMP, district, json.dumps(details), period))
        return tx

    def recalls(
        self, n: int, pid: str, district: str, clinic: str, base: dt.date, booked: dt.date | None
    ) -> list[dt.date]:
        """The recalls earlier mornings' scans sent since the last visit, as the rules say
        (``ledger.services.recall_due``): the first when the patient fell overdue, then 14
        days apart, three at most, none once lost; so the bench day's scan finds only what
        falls due on it. Their due dates."""
        due = booked + rules.MISSED_GRACE if booked else base + rules.UNBOOKED_GAP
        sent: list[dt.date] = []
        while len(sent) < rules.MAX_RECALLS and due < SCAN_DAY and due - base <= rules.LOST_AFTER:
            moment = dt.datetime.combine(due, dt.time(6), SEOUL)
            self.rows.add("messages", (
                f"msg_nat{n:010d}_{len(sent)}", pid, district, "recall", due, len(sent) + 1,
                clinic, moment.replace(hour=9), "sent", 1, moment.replace(hour=9), moment, moment,
            ))  # fmt: skip
            sent.append(due)
            due += rules.RECALL_INTERVAL
        return sent

    def patient(self, n: int) -> None:
        plan, rng = self.plan, self.rng
        clinic_n = n % plan.clinics
        district = self.districts[clinic_n % len(self.districts)]
        clinic = f"cln_nat{clinic_n:08d}"
        earned, reimbursable = clinic_accounts(clinic_n)
        expense = self.expense[district]
        pid, account = f"pat_nat{n:010d}", patient_account(plan, n)
        span = (LAST_DAY - plan.first_day).days
        enrolled = plan.first_day + dt.timedelta(days=rng.randrange(span - 30))
        self.rows.add("accounts", (account, f"patient:{pid}", "patient", "credit", district, 1,
                                   STAMP))  # fmt: skip
        year = f"{enrolled.year}/annual"
        enrolment = self._transaction(
            "enrolment", enrolled, district, pid,
            [("patient:enrolment", expense, account, 3000),
             ("clinic:enrolment", expense, earned, 10000)],
            [(account, "enrolment", 3000), (account, year, 3000), (earned, year, 10000)],
        )  # fmt: skip
        adherence = rng.uniform(*ADHERENCE)
        balance, last, booked = 3000, None, None
        month = dt.date(enrolled.year, enrolled.month, 1)
        visits = 0
        while True:
            month = (month + dt.timedelta(days=32)).replace(day=1)
            if month > LAST_DAY or rng.random() < DROPOUT:
                break
            if rng.random() >= adherence:
                continue
            day = month + dt.timedelta(days=rng.randrange(27))
            key = f"{day.year}/annual"
            tx = self._transaction(
                "visit", day, district, pid,
                [("patient:visit", expense, account, 1000),
                 ("clinic:visit", expense, earned, 2000)],
                [(account, f"{day.year}/visit/{day:%Y-%m}", 1000), (account, key, 1000),
                 (earned, key, 2000)],
            )  # fmt: skip
            balance += 1000
            booked = day + dt.timedelta(days=rng.randint(28, 90)) if rng.random() < BOOKED else None
            self.rows.add("visits", (f"vis_nat{n:010d}_{visits:03d}", pid, clinic, day, booked,
                                     tx, STAMP, "bench"))  # fmt: skip
            last, visits = day, visits + 1
            if balance >= 5000 and rng.random() < 0.25:  # part of a bill, at the visit
                amount = rng.choice([2000, 3000, 5000])
                tx = self._transaction(
                    "redemption", day, district, pid,
                    [("spending:treatment", account, reimbursable, amount)], [],
                )  # fmt: skip
                spent = (f"red_nat{n:010d}_{visits:03d}", pid, clinic, amount, "treatment", day,
                         tx, STAMP, "bench")  # fmt: skip
                self.rows.add("redemptions", spent)
                balance -= amount
        consent = rng.random() < CONSENT
        recalls = (
            self.recalls(n, pid, district, clinic, last or enrolled, booked) if consent else []
        )
        latest = recalls[-1] if recalls else None
        queued = dt.datetime.combine(latest, dt.time(6), SEOUL) if latest else None
        due = rules.kept_date(
            rules.Standing(last, booked, len(recalls), latest, queued), enrolled_on=enrolled,
        )  # fmt: skip
        self.rows.add("patients", (
            pid, f"전국{n}", dt.date(1940, 1, 1) + dt.timedelta(days=n % 12000),
            f"+8210{n:08d}", True, n % 3 == 0, consent, STAMP, "bench", "bench", clinic,
            district, enrolled, "active", account, enrolment, STAMP, due,
        ))  # fmt: skip
        self.rows.add("home_clinics", (pid, clinic, enrolled))


# --- the load --------------------------------------------------------------------------------


def _copy(conn: Any, rows: Rows) -> None:
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cursor:
        for table in ORDER:
            found = rows.tables.get(table)
            if not found:
                continue
            with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                for row in found:
                    copy.write_row(row)


def _setup(engine: Engine, plan: Plan) -> None:
    """The progress table, the districts, their expense accounts and the clinics; the
    secondary indexes dropped for the load (their definitions kept)."""
    with engine.begin() as conn:
        conn.execute(text(
            f"CREATE TABLE IF NOT EXISTS {PROGRESS} (chunk integer PRIMARY KEY,"
            " next_tx bigint, next_entry bigint, next_posting bigint, seconds real)"
        ))  # fmt: skip
        conn.execute(text(
            "CREATE TABLE IF NOT EXISTS bench_national_indexes (name text PRIMARY KEY, def text)"
        ))  # fmt: skip
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_national_plan (plan text)"))
        kept = conn.execute(text("SELECT plan FROM bench_national_plan")).scalar()
        if kept is not None and kept != repr(plan):
            raise SystemExit(f"refused: this database is being loaded with {kept}, not {plan!r}")
        if conn.execute(text(f"SELECT count(*) FROM {PROGRESS}")).scalar_one():
            return
        conn.execute(text("INSERT INTO bench_national_plan VALUES (:p)"), {"p": repr(plan)})
        conn.execute(text("UPDATE districts SET participating = true,"
                          " joined_year = coalesce(joined_year, 2013)"))  # fmt: skip
        codes = _district_codes(conn)
        conn.execute(
            text("INSERT INTO accounts (id, code, type, normal_side, district, shards, created_at)"
                 " VALUES (:id, :code, 'district_expense', 'debit', :d, :s, :at)"),
            [{"id": 100 + i, "code": f"district_expense:{d}", "d": d, "s": SHARDS, "at": STAMP}
             for i, d in enumerate(codes)],
        )  # fmt: skip
        accounts, clinics = [], []
        for n in range(plan.clinics):
            earned, reimbursable = clinic_accounts(n)
            district = codes[n % len(codes)]
            for account, kind in ((earned, "clinic_earned"), (reimbursable, "clinic_reimbursable")):
                accounts.append((account, f"{kind}:cln_nat{n:08d}", kind, "credit", district, 1,
                                 STAMP))  # fmt: skip
            clinics.append((f"cln_nat{n:08d}", f"전국 의원 {n}", "chronic", district,
                            dt.date(2013, 1, 1), earned, reimbursable, STAMP))  # fmt: skip
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY accounts ({', '.join(COLUMNS['accounts'])}) FROM STDIN") as c:
                for row in accounts:
                    c.write_row(row)
            columns = ("id, name, kind, district, participating_since, earned_account_id,"
                       " reimbursable_account_id, created_at")  # fmt: skip
            with cursor.copy(f"COPY clinics ({columns}) FROM STDIN") as c:
                for row in clinics:
                    c.write_row(row)
        indexes = conn.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
            " AND i.tablename = ANY(:t) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
            " WHERE c.conname = i.indexname)"
        ), {"t": list(ORDER)}).all()  # fmt: skip
        for name, definition in indexes:
            conn.execute(
                text("INSERT INTO bench_national_indexes VALUES (:n, :d) ON CONFLICT DO NOTHING"),
                {"n": name, "d": definition},
            )
            conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(text(f"INSERT INTO {PROGRESS} VALUES (-1, 1, 1, 1, 0)"))


def _finish(engine: Engine, say: Callable[[str], None]) -> None:
    """Indexes again, running totals summed from the rows, sequences moved on, the read
    models recounted (as ``mileage ledger rebuild-read-models`` does), statistics."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for name, definition in conn.execute(
            text("SELECT name, def FROM bench_national_indexes ORDER BY name")
        ).all():
            started = time.monotonic()
            conn.execute(text(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS")))
            say(f"index {name} in {time.monotonic() - started:.0f} s")
        conn.execute(text("DELETE FROM bench_national_indexes"))
        conn.execute(text("DELETE FROM balances"))
        conn.execute(text(
            "INSERT INTO balances (account_id, shard, balance)"
            " SELECT a.id, s.shard, coalesce(t.total, 0) FROM accounts a"
            " CROSS JOIN LATERAL generate_series(0, a.shards - 1) AS s(shard)"
            " LEFT JOIN (SELECT e.account_id, e.transaction_id % a2.shards AS shard,"
            "            sum(e.amount) AS total FROM entries e"
            "            JOIN accounts a2 ON a2.id = e.account_id GROUP BY 1, 2) t"
            "   ON t.account_id = a.id AND t.shard = s.shard"
        ))  # fmt: skip
        conn.execute(text("DELETE FROM limit_counters"))
        conn.execute(text(
            "INSERT INTO limit_counters (account_id, key, amount, count)"
            " SELECT account_id, key, sum(amount), sum(count) FROM limit_postings GROUP BY 1, 2"
        ))  # fmt: skip
        for table, sequence in (
            ("transactions", "transactions_id_seq"),
            ("accounts", "accounts_id_seq"),
            ("entries", "entries_id_seq"),
            ("limit_postings", "limit_postings_id_seq"),
        ):
            conn.execute(
                text(f"SELECT setval('{sequence}', (SELECT coalesce(max(id), 1) FROM {table}))")
            )
        conn.execute(text(f"INSERT INTO {PROGRESS} VALUES (1000000000, 0, 0, 0, 0)"))
    started = time.monotonic()
    with session_scope(make_session_factory(engine)) as session:
        report_rows, settlement_rows = rebuild_read_models(session)
    say(
        f"read models: {report_rows:,} report and {settlement_rows:,} settlement rows"
        f" in {time.monotonic() - started:.0f} s"
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def load(
    url: str, plan: Plan, *, say: Callable[[str], None] = print, until: float | None = None
) -> bool:
    """Load (or go on loading) ``plan`` into ``url``; True once it is complete. ``until``
    (a ``time.monotonic()`` moment) stops after the chunk that passes it."""
    engine = make_engine(url)
    try:
        _setup(engine, plan)
        with engine.connect() as conn:
            codes = _district_codes(conn)
            done = dict(conn.execute(text(f"SELECT chunk, next_tx FROM {PROGRESS}")).all())
            if 1000000000 in done:
                return True
            last = max(done)
            row = conn.execute(
                text(f"SELECT next_tx, next_entry, next_posting FROM {PROGRESS} WHERE chunk = :c"),
                {"c": last},
            ).one()
            expense = dict(conn.execute(text(
                "SELECT district, id FROM accounts WHERE type = 'district_expense'"
            )).all())  # fmt: skip
        ids = Counters(*row)
        for number in range(last + 1, plan.chunks):
            started = time.monotonic()
            chunk = Chunk(plan, number, codes, expense, ids)
            for n in range(number * plan.chunk, min((number + 1) * plan.chunk, plan.patients)):
                chunk.patient(n)
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                _copy(conn, chunk.rows)
                seconds = time.monotonic() - started
                conn.execute(
                    text(f"INSERT INTO {PROGRESS} VALUES (:c, :t, :e, :p, :s)"),
                    {"c": number, "t": ids.tx, "e": ids.entry, "p": ids.posting, "s": seconds},
                )
            say(f"chunk {number + 1}/{plan.chunks}: {len(chunk.rows.tables['entries']):,}"
                f" entries in {seconds:.1f} s")  # fmt: skip
            if until is not None and time.monotonic() > until and number + 1 < plan.chunks:
                return False
        _finish(engine, say)
        return True
    finally:
        engine.dispose()


# --- the reads, timed -------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    name: str
    seconds: list[float]

    def line(self) -> str:
        s = self.seconds
        return (
            f"{self.name:<38} {statistics.median(s) * 1000:10.1f} ms"
            f"  ({min(s) * 1000:.1f} to {max(s) * 1000:.1f}, {len(s)} runs)"
        )


def _timed(name: str, runs: int, work: Callable[[], object]) -> Timed:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return Timed(name, seconds)


def reads(sessions: sessionmaker[Session]) -> dict[str, Callable[[], object]]:
    """The reads an officer opens, each in a session of its own that writes nothing."""
    from ledger.services import reports, settlement, statements

    with sessions() as session:
        district = session.execute(
            text("SELECT district FROM patients ORDER BY id LIMIT 1")
        ).scalar_one()
        patient_id = session.execute(
            text("SELECT patient_id FROM visits ORDER BY visited_on DESC, id LIMIT 1")
        ).scalar_one()
        last = session.execute(select(func.max(Transaction.effective_date))).scalar_one()
        year = last.year if last else LAST_DAY.year

    def read(work: Callable[[Session], object]) -> Callable[[], object]:
        def run() -> object:
            with sessions() as session:
                return work(session)

        return run

    return {
        "quarter settlement draft (1 district)": read(
            lambda s: settlement.compute(s, district, year, 2)
        ),
        "district report, year + cumulative": read(lambda s: reports.district_report(s, year)),
        "annual table": read(lambda s: reports.annual_report(s, through=year)),
        "clinic report (1 district)": read(
            lambda s: reports.clinic_report(s, year, district=district)
        ),
        "patient statement": read(
            lambda s: statements.patient_statement(s, _patient(s, patient_id), year)
        ),
    }


def _patient(session: Session, patient_id: str) -> Patient:
    found = session.get(Patient, patient_id)
    assert found is not None
    return found


def booking(sessions: sessionmaker[Session]) -> Callable[[], object]:
    """A visit recorded through the service, in a transaction rolled back after (so every
    run books on the same ledger)."""
    from ledger.models import Clinic
    from ledger.programme import Readings
    from ledger.services.earning import record_visit

    with sessions() as session:  # an active patient of a clinic still taking part
        patient_id, clinic_id = session.execute(
            select(Patient.id, Patient.clinic_id)
            .join(Clinic, Clinic.id == Patient.clinic_id)
            .where(Patient.status == "active", Clinic.participating_until.is_(None))
            .order_by(Patient.id.desc())
            .limit(1)
        ).one()
    day = LAST_DAY

    def run() -> object:
        with sessions() as session:
            recorded = record_visit(
                session, patient_id=patient_id, clinic_id=clinic_id, visited_on=day,
                readings=Readings(128, 82, None, None), recorded_by="bench", today=day,
            )  # fmt: skip
            session.rollback()
            return recorded

    return run


def recall_scan(
    sessions: sessionmaker[Session], day: dt.date = SCAN_DAY
) -> tuple[Callable[[], int], int]:
    """The morning scan of ``day`` (the day after the data ends), its recalls deleted after
    each run (and those patients' dates put back); and how many it queues."""
    from bench.recall_scan import scan
    from ledger.models import Message
    from ledger.services.recall_due import refresh_recall_due

    moment = dt.datetime.combine(day, dt.time(6), SEOUL)
    queued = [0]

    def run() -> int:
        queued[0] = scan(sessions, chunk=200, moment=moment, day=day)
        with session_scope(sessions) as session:
            from sqlalchemy import delete

            recalled = session.execute(
                delete(Message).where(Message.created_at == moment).returning(Message.patient_id)
            ).scalars()
            refresh_recall_due(session, list(recalled))
        return queued[0]

    run()
    return run, queued[0]


def time_all(sessions: sessionmaker[Session], runs: int, day: dt.date = SCAN_DAY) -> list[str]:
    """Every read, the recall scan of ``day`` and a visit booking, timed ``runs`` times."""
    lines = [_timed(name, runs, work).line() for name, work in reads(sessions).items()]
    scan_run, due = recall_scan(sessions, day)
    lines.append(_timed(f"daily recall scan ({due:,} due)", runs, scan_run).line())
    lines.append(_timed("visit booking", runs, booking(sessions)).line())
    return lines


def time_reads(url: str, runs: int) -> list[str]:
    engine = make_engine(url)
    try:
        return time_all(make_session_factory(engine), runs)
    finally:
        engine.dispose()


def empty_booking(server: str, runs: int) -> str:
    """The same visit booking on a ledger holding one clinic and one patient."""
    from tests.factories import make_clinic, make_patient

    url = database(server, "national_empty")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        with session_scope(sessions) as session:
            if not session.execute(text("SELECT count(*) FROM patients")).scalar_one():
                clinic = make_clinic(session, district="11740")
                make_patient(session, clinic, enrolled_on=dt.date(2025, 1, 6))
        return _timed("visit booking, empty ledger", runs, booking(sessions)).line()
    finally:
        engine.dispose()


def sizes(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            counts = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("patients", "clinics", "transactions", "entries", "visits")
            }
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        return ", ".join(f"{t} {n:,}" for t, n in counts.items()) + f"; {size / 2**30:.2f} GiB"
    finally:
        engine.dispose()


# --- the command -----------------------------------------------------------------------------


@contextmanager
def _bench_database(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    server = args.url or cluster(Path(args.data))
    yield server, database(server, f"national_{args.patients}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("load", "time", "verify"))
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=20_000, help="patients per chunk")
    parser.add_argument("--years", type=int, default=3, help="years of history up to 2025")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", default=str(DATA), help="the cluster's directory")
    parser.add_argument("--url", help="a PostgreSQL server to use instead of the cluster")
    parser.add_argument("--minutes", type=float, help="stop loading after this long")
    args = parser.parse_args(argv)
    plan = Plan(args.patients, args.chunk, args.years)
    if args.command == "load":
        needed, free = disk_budget(plan, Path(args.data))
        if needed > free:
            print(
                f"refused: {plan.patients:,} patients need about {needed / 2**30:.1f} GiB"
                f" ({plan.expected_entries():,} entries), and {max(free, 0) / 2**30:.1f} GiB"
                f" may be used ({MARGIN / 2**30:.0f} GiB of the free disk kept free)"
            )
            return 2
    with _bench_database(args) as (server, url):
        if args.command == "load":
            until = None if args.minutes is None else time.monotonic() + args.minutes * 60
            started = time.monotonic()
            complete = load(url, plan, until=until)
            print(f"{'loaded' if complete else 'paused'} in {time.monotonic() - started:.0f} s:"
                  f" {sizes(url)}")  # fmt: skip
            return 0
        if args.command == "verify":
            from ledger.services.verify import verify

            engine = make_engine(url)
            with session_scope(make_session_factory(engine)) as session:
                found = verify(session)
            engine.dispose()
            for mismatch in found[:20]:
                print(f"MISMATCH {mismatch}")
            print(f"{len(found)} mismatch(es)")
            return 1 if found else 0
        print(f"engine    postgresql ({os.cpu_count()} cores); {sizes(url)}")
        for line in time_reads(url, args.runs):
            print(line)
        print(empty_booking(server, args.runs))
        return 0


if __name__ == "__main__":
    sys.exit(main())
