"""Bookings per second of the ledger's award path on SQLite and PostgreSQL, beside pgbench.

    python -m bench.ledger [--runs 5] [--seconds 5] [--sqlite-only]   (or: make bench)

An award is one transfer from the district's expense account to one of 1000 patients, under
an annual cap and a monthly count limit, booked by ``ledger.services.booking.book`` inside
``ledger.db.run_in_transaction``: the service path, without HTTP. It is measured with 1
and with 8 client threads on SQLite (a file in a temporary directory) and on PostgreSQL (a
throwaway cluster with the default durability settings: fsync and synchronous commit on).

Beside the service, pgbench runs the SQL the service itself sent for one award, captured
from the server's statement log (see ``bench.capture``), against the same server in the same
run; a copy of that script is kept in ``bench/award.pgbench.sql``. The ratio service/pgbench
is how much of the database's own speed the Python path keeps.

Every configuration is measured ``--runs`` times, the runs of all configurations
interleaved so that drift (table growth, caches) falls on each alike; the table gives the
median and, in brackets, the lowest and highest run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import logging
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psycopg
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bench.capture import (
    Captured,
    Logged,
    capture,
    logging_engine,
    pgbench_script,
    script_round_trips,
)
from ledger.db import make_engine, make_session_factory, run_in_transaction, session_scope
from ledger.domain import SHARDS, AccountType, Limit, Transfer
from ledger.migrate import upgrade
from ledger.services.booking import Booked, book, open_account
from tests.pgcluster import find_bindir, running_cluster

PATIENTS = 1000
DISTRICT = "11740"
AMOUNT = 5_000
DAY = dt.date(2024, 3, 5)
ANNUAL = Limit("2024/annual", "annual_cap", max_amount=10**12)
EXPENSE_SHARDS = SHARDS[AccountType.DISTRICT_EXPENSE]
CLIENTS = (1, 8)
WARMUP_S = 1.0
WARM_AWARDS = 8
DATABASE = "ledger_bench"
SCRIPT_COPY = Path(__file__).with_name("award.pgbench.sql")
# Positions in /proc/<pid>/stat after the command name, and in /proc/stat's "cpu" line (proc(5)).
STAT_PPID, STAT_UTIME, STAT_STIME, STAT_CSTIME = 1, 11, 12, 14
CPU_IDLE, CPU_IOWAIT = 3, 4

# Service and pgbench awards draw their monthly keys from different spaces, so neither ever
# finds a key the other used up and every award books the same rows.
SERVICE_VISIT_KEY = "2024/visit/s"
PGBENCH_VISIT_KEY = "2024/visit/p"


@dataclass(frozen=True)
class Accounts:
    """The accounts of one database that awards move mileage between."""

    expense: int
    patients: range
    award_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))


@dataclass(frozen=True)
class Work:
    """What one run did: bookings (or pgbench transactions) in ``seconds``."""

    bookings: int
    seconds: float
    retries: int | None = None


@dataclass(frozen=True)
class Sample:
    """One run: its rate, and the CPU time it cost per booking on each side.

    The client side is this process and its children: the service's threads, or pgbench.
    The server side is every process of the PostgreSQL cluster, background ones included.
    ``other_cores`` is what the rest of the machine kept busy meanwhile, in cores.
    """

    rate: float
    client_cpu_ms: float
    server_cpu_ms: float | None
    other_cores: float
    retries: int | None


@dataclass(frozen=True)
class Config:
    engine: str
    clients: int
    runner: str


Runner = Callable[[float], Work]


# The ledger ---------------------------------------------------------------------------------


def open_accounts(factory: sessionmaker[Session]) -> Accounts:
    """The district's expense account and PATIENTS patients with consecutive ids."""
    with session_scope(factory) as session:
        expense = open_account(
            session,
            code=f"district_expense:{DISTRICT}",
            type=AccountType.DISTRICT_EXPENSE,
            district=DISTRICT,
        )
        ids = [
            open_account(session, code=f"patient:{n}", type=AccountType.PATIENT, district=DISTRICT)
            for n in range(PATIENTS)
        ]
    patients = range(ids[0], ids[0] + PATIENTS)
    if ids != list(patients):
        raise RuntimeError("patient ids are not consecutive: pgbench could not draw one")
    return Accounts(expense, patients)


def award(accounts: Accounts, patient: int) -> Callable[[Session], Booked]:
    """The work of one award; its monthly key is new, so the count limit never withholds."""
    key = f"{SERVICE_VISIT_KEY}{next(accounts.award_numbers)}"
    monthly = Limit(key, "monthly_limit", max_count=1)
    transfer = Transfer(accounts.expense, patient, AMOUNT, (ANNUAL, monthly), tag="visit")

    def work(session: Session) -> Booked:
        return book(
            session, kind="award", effective_date=DAY, transfers=[transfer], district=DISTRICT
        )

    return work


def book_until(factory: sessionmaker[Session], accounts: Accounts, deadline: float) -> int:
    rng = random.Random()
    booked = 0
    while time.perf_counter() < deadline:
        done = run_in_transaction(factory, award(accounts, rng.choice(accounts.patients)))
        if done.outcomes[0].clipped:
            raise RuntimeError(f"a limit withheld part of an award: {done.outcomes[0]}")
        booked += 1
    return booked


class RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "ledger.db.retry":
            self.count += 1


@contextmanager
def counting_retries() -> Iterator[RetryCounter]:
    logger = logging.getLogger("ledger.db")
    counter, level, propagate = RetryCounter(), logger.level, logger.propagate
    logger.addHandler(counter)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
        logger.propagate = propagate


def service_run(
    factory: sessionmaker[Session], accounts: Accounts, clients: int, seconds: float
) -> Work:
    """The awards ``clients`` threads book in ``seconds``."""
    with counting_retries() as retries:
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            futures = [
                pool.submit(book_until, factory, accounts, start + seconds) for _ in range(clients)
            ]
            booked = sum(future.result() for future in futures)
        elapsed = time.perf_counter() - start
    return Work(booked, elapsed, retries.count)


# PostgreSQL and pgbench ---------------------------------------------------------------------


def as_postgres() -> list[str]:
    """The prefix that runs a PostgreSQL program as the cluster's owner (see pgcluster)."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of an empty database on a throwaway cluster with production durability."""
    with running_cluster(tuned_for_tests=False) as server:
        admin = make_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {DATABASE}"))
        admin.dispose()
        yield make_url(server).set(database=DATABASE).render_as_string(hide_password=False)


def capture_award(url: str, accounts: Accounts) -> tuple[int, int, str, Captured]:
    """One award's statements and round trips, with the patient, transaction id and monthly key.

    The first awards on the connection are skipped, so that what is captured is what every
    later award sends. Then awards are booked until one's patient, transaction id and shard
    differ from each other and from every other number the award sends, so that each
    captured value names exactly one variable of the script.
    """
    engine = logging_engine(url)
    others = {accounts.expense, 0, 1, AMOUNT, -AMOUNT}
    try:
        for n, patient in enumerate(itertools.cycle(accounts.patients)):
            work = award(accounts, patient)
            booked, captured = capture(engine, partial(run_in_transaction, work=work))
            tx = booked.transaction_id
            sentinels = {patient, tx, tx % EXPENSE_SHARDS}
            if n >= WARM_AWARDS and len(sentinels) == 3 and not sentinels & others:
                return patient, tx, _monthly_key(captured.statements), captured
        raise AssertionError("unreachable")
    finally:
        engine.dispose()


def _monthly_key(statements: Sequence[Logged]) -> str:
    for statement in statements:
        for literal in statement.params.values():
            if literal.startswith(f"'{SERVICE_VISIT_KEY}"):
                return literal[1:-1]
    raise RuntimeError("the captured award posted no monthly limit")


def award_script(url: str, accounts: Accounts) -> tuple[str, str]:
    """The pgbench script of one award, from the statements the service sent for it, and
    the round trips of the award and of the script."""
    patient, tx, key, captured = capture_award(url, accounts)
    statements = captured.statements
    nextval = "SELECT nextval('transactions_id_seq')"
    if not any(statement.sql == nextval for statement in statements):
        raise RuntimeError(f"the captured award did not run {nextval}")
    pipelined = psycopg.Pipeline.is_supported()
    round_trips = (
        f"{captured.round_trips} (the service, libpq trace), "
        f"{script_round_trips(statements, pipelined=pipelined)} (the pgbench script)"
    )
    script = pgbench_script(
        statements,
        variables={
            str(patient): ":pid",
            str(tx): ":tx",
            str(tx % EXPENSE_SHARDS): ":shard",
            key: f"('{PGBENCH_VISIT_KEY}'::text || :tx)",
        },
        prologue=[f"\\set pid random({accounts.patients[0]}, {accounts.patients[-1]})"],
        gsets={nextval: ["\\set tx :nextval", f"\\set shard :tx % {EXPENSE_SHARDS}"]},
        pipelined=pipelined,
        header=[
            "Generated by `python -m bench.ledger`; do not edit, it is rewritten each run.",
            "The statements PostgreSQL logged (log_statement = all) for one award booked by",
            "ledger.services.booking.book in ledger.db.run_in_transaction, in their order,",
            "with the parameters as logged except these, which vary per award",
            f"  patient {patient} -> pid, transaction id {tx} -> tx, "
            f"expense shard {tx % EXPENSE_SHARDS} -> shard,",
            f"  monthly limit key {key} -> '{PGBENCH_VISIT_KEY}' || tx.",
            "The request hash and the details JSON stay the captured award's (same size, no",
            "constraint). Each executemany is one pipeline, as psycopg 3 sends it. Run with",
            "--protocol=prepared, as psycopg prepares a statement from its 5th use on a",
            "connection.",
            f"Round trips per award: {round_trips}.",
        ],
    )
    return script, round_trips


def write_script(script: str, directory: Path) -> Path:
    """``script`` in ``directory`` where the postgres user can read it, and a copy in bench/."""
    SCRIPT_COPY.write_text(script)
    path = directory / "award.pgbench.sql"
    path.write_text(script)
    directory.chmod(0o755)
    path.chmod(0o644)
    return path


def pgbench_run(url: str, script: Path, clients: int, seconds: float) -> Work:
    """The transactions pgbench runs of ``script`` with ``clients`` connections."""
    target = make_url(url)
    command = [
        *as_postgres(),
        str(find_bindir() / "pgbench"),
        "--no-vacuum",
        "--protocol=prepared",
        f"--file={script}",
        f"--client={clients}",
        f"--jobs={clients}",
        f"--time={max(round(seconds), 1)}",
        f"--host={target.host}",
        f"--port={target.port}",
        f"--username={target.username}",
        str(target.database),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd="/")
    tps = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", done.stdout, re.M)
    processed = re.search(r"^number of transactions actually processed: (\d+)", done.stdout, re.M)
    failed = re.search(r"^number of failed transactions: (\d+)", done.stdout, re.M)
    if done.returncode != 0 or not tps or not processed or (failed and int(failed[1])):
        raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
    return Work(int(processed[1]), int(processed[1]) / float(tps[1]))


def postmaster_pid(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            data = Path(connection.execute(text("SHOW data_directory")).scalar_one())
    finally:
        engine.dispose()
    return int((data / "postmaster.pid").read_text().split()[0])


def cluster_cpu_seconds(postmaster: int) -> float:
    """CPU used so far by a cluster: its postmaster with the children it reaped (closed
    connections), and its live children (open connections, WAL writer, checkpointer...)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses; the fields follow its last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == postmaster:
            ticks += sum(int(n) for n in fields[STAT_UTIME : STAT_CSTIME + 1])
        elif int(fields[STAT_PPID]) == postmaster:
            ticks += int(fields[STAT_UTIME]) + int(fields[STAT_STIME])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all processes of the machine have used so far, from /proc/stat."""
    jiffies = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(jiffies) - jiffies[CPU_IDLE] - jiffies[CPU_IOWAIT]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU used so far by this process's threads and its finished children (pgbench)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def server_facts(url: str) -> dict[str, str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            facts = {"PostgreSQL": str(connection.execute(text("SHOW server_version")).scalar())}
            for setting in ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers"):
                facts[setting] = str(connection.execute(text(f"SHOW {setting}")).scalar())
        return facts
    finally:
        engine.dispose()


# Measuring ------------------------------------------------------------------------------------


def sample(runner: Runner, seconds: float, postmaster: int | None) -> Sample:
    """One run of ``runner``, with the CPU it cost on both sides of the connection."""
    busy, wall = machine_busy_seconds(), time.perf_counter()
    client = own_cpu_seconds()
    server = cluster_cpu_seconds(postmaster) if postmaster else 0.0
    work = runner(seconds)
    client = own_cpu_seconds() - client
    server = cluster_cpu_seconds(postmaster) - server if postmaster else 0.0
    busy, wall = machine_busy_seconds() - busy, time.perf_counter() - wall
    per_booking = 1000 / max(work.bookings, 1)
    return Sample(
        rate=work.bookings / work.seconds,
        client_cpu_ms=client * per_booking,
        server_cpu_ms=server * per_booking if postmaster else None,
        other_cores=max(busy - client - server, 0.0) / wall,
        retries=work.retries,
    )


def measure(
    runners: Mapping[Config, Runner], runs: int, seconds: float, postmaster: int | None = None
) -> dict[Config, list[Sample]]:
    """``runs`` samples of every runner, interleaved, after one short warm-up each."""
    for config, runner in runners.items():
        print(f"  warm-up {config.engine} {config.runner} x{config.clients}", flush=True)
        runner(WARMUP_S)
    samples: dict[Config, list[Sample]] = {config: [] for config in runners}
    for run in range(1, runs + 1):
        for config, runner in runners.items():
            samples[config].append(sample(runner, seconds, postmaster))
            print(
                f"  run {run}/{runs} {config.engine} {config.runner} x{config.clients}: "
                f"{samples[config][-1].rate:.0f}/s",
                flush=True,
            )
    return samples


def sqlite_samples(runs: int, seconds: float) -> dict[Config, list[Sample]]:
    with tempfile.TemporaryDirectory(prefix="mileage-bench-") as directory:
        engine = make_engine(f"sqlite:///{directory}/ledger.sqlite3", pool_size=max(CLIENTS))
        try:
            upgrade(engine)
            factory = make_session_factory(engine)
            accounts = open_accounts(factory)
            runners: dict[Config, Runner] = {
                Config("SQLite", clients, "service"): partial(
                    service_run, factory, accounts, clients
                )
                for clients in CLIENTS
            }
            return measure(runners, runs, seconds)
        finally:
            engine.dispose()


def postgres_samples(
    runs: int, seconds: float, facts: dict[str, str]
) -> dict[Config, list[Sample]]:
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="mileage-bench-") as tmp:
        engine = make_engine(url, pool_size=max(CLIENTS))
        try:
            upgrade(engine)
            factory = make_session_factory(engine)
            accounts = open_accounts(factory)
            script_text, facts["round trips per award"] = award_script(url, accounts)
            script = write_script(script_text, Path(tmp))
            facts.update(server_facts(url))
            runners: dict[Config, Runner] = {}
            for clients in CLIENTS:
                runners[Config("PostgreSQL", clients, "service")] = partial(
                    service_run, factory, accounts, clients
                )
                runners[Config("PostgreSQL", clients, "pgbench")] = partial(
                    pgbench_run, url, script, clients
                )
            return measure(runners, runs, seconds, postmaster_pid(url))
        finally:
            engine.dispose()


# Reporting ------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    memory = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "CPU": model[1] if model else "unknown",
        "memory": f"{int(memory[1]) / 2**20:.1f} GiB" if memory else "unknown",
        "kernel": platform.release(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "SQLAlchemy": sqlalchemy.__version__,
        "psycopg": f"{psycopg.__version__} (libpq {psycopg.pq.version()})",
    }


def median_rate(samples: Sequence[Sample]) -> float:
    return statistics.median(s.rate for s in samples)


def spread(samples: Sequence[Sample]) -> str:
    rates = [s.rate for s in samples]
    return f"{median_rate(samples):,.0f} ({min(rates):,.0f}–{max(rates):,.0f})"


def table(samples: Mapping[Config, list[Sample]]) -> str:
    lines = [
        "| engine | clients | service bookings/s | pgbench tx/s | service/pgbench "
        "| service retries |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for config, service in samples.items():
        if config.runner != "service":
            continue
        raw = samples.get(Config(config.engine, config.clients, "pgbench"))
        pgbench = spread(raw) if raw else "–"
        ratio = f"{median_rate(service) / median_rate(raw):.2f}" if raw else "–"
        retries = sum(s.retries or 0 for s in service)
        lines.append(
            f"| {config.engine} | {config.clients} | {spread(service)} | {pgbench} | {ratio} "
            f"| {retries} |"
        )
    return "\n".join(lines)


def cpu_table(samples: Mapping[Config, list[Sample]], cores: int) -> str:
    lines = [
        "| engine | clients | runner | per second | client CPU ms | server CPU ms "
        f"| cores used, of {cores} | other processes, cores |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for config, runs in samples.items():
        client = statistics.median(s.client_cpu_ms for s in runs)
        server = [s.server_cpu_ms for s in runs if s.server_cpu_ms is not None]
        server_ms = statistics.median(server) if server else 0.0
        busy = (client + server_ms) * median_rate(runs) / 1000
        others = statistics.median(s.other_cores for s in runs)
        lines.append(
            f"| {config.engine} | {config.clients} | {config.runner} | {median_rate(runs):,.0f} "
            f"| {client:.2f} | {f'{server_ms:.2f}' if server else '–'} | {busy:.2f} "
            f"| {others:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per configuration")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one run")
    parser.add_argument(
        "--sqlite-only", action="store_true", help="measure SQLite alone (no PostgreSQL)"
    )
    args = parser.parse_args(argv)
    facts = machine()
    began = time.perf_counter()
    print("SQLite", flush=True)
    samples = sqlite_samples(args.runs, args.seconds)
    if not args.sqlite_only:
        print("PostgreSQL", flush=True)
        samples |= postgres_samples(args.runs, args.seconds, facts)
    print(f"\n{table(samples)}\n")
    print("CPU per booking (per pgbench transaction), medians of the runs:\n")
    print(f"{cpu_table(samples, len(os.sched_getaffinity(0)))}\n")
    print(
        f"median of {args.runs} runs of {args.seconds:g} s (lowest–highest run); "
        f"the bench took {time.perf_counter() - began:.0f} s"
    )
    for name, value in facts.items():
        print(f"- {name}: {value}")
    print(f"- pgbench script: {os.path.relpath(SCRIPT_COPY)}")


if __name__ == "__main__":
    main()
