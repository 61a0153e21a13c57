"""The reads a health centre opens, timed on an existing database: the district report for a
year and a quarter's settlement draft (the figures a draft's GET computes).

    python -m bench.report_reads sqlite:///var/mileage.sqlite3 [--year 2025] [--runs 5]

Each read runs ``--runs`` times after one warm-up, each on a fresh read-only session; the
median, lowest and highest are printed in milliseconds, with what the read answered (so that
a before/after pair can be checked to answer alike). The database is only read.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import make_engine, make_reader_factory, make_session_factory, read_scope
from ledger.models import Transaction
from ledger.services import reports, settlement

DISTRICT = "11740"  # the demo's district, 강동구


@dataclass(frozen=True)
class Timing:
    name: str
    seconds: list[float]
    answer: str

    def line(self) -> str:
        ms = [s * 1000 for s in self.seconds]
        return (
            f"{self.name:<34} median {statistics.median(ms):9.1f} ms  "
            f"(min {min(ms):.1f}, max {max(ms):.1f}, {len(ms)} runs)  {self.answer}"
        )


def time_read(
    engine: Engine,
    name: str,
    read: Callable[[Session], Any],
    describe: Callable[[Any], str],
    runs: int,
) -> Timing:
    readers, writers = make_reader_factory(engine), make_session_factory(engine)
    seconds: list[float] = []
    answer = None
    for run in range(runs + 1):
        with read_scope(readers, writers) as session:
            started = time.perf_counter()
            answer = read(session)
            elapsed = time.perf_counter() - started
        if run:  # the first is the warm-up
            seconds.append(elapsed)
    return Timing(name, seconds, describe(answer))


def last_year(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        day = session.execute(select(func.max(Transaction.effective_date))).scalar()
    if day is None:
        raise SystemExit("the database has no transactions: fill it with `mileage demo` first")
    return int(day.year)


def run(url: str, *, year: int | None, quarter: int, runs: int, district: str) -> list[Timing]:
    engine = make_engine(url)
    try:
        year = year or last_year(make_session_factory(engine))
        return [
            time_read(
                engine,
                f"district report {year}",
                lambda s: reports.district_report(s, year),
                lambda rows: f"{len(rows)} rows, accrued {sum(r.year.accrued for r in rows):,} M",
                runs,
            ),
            time_read(
                engine,
                f"settlement draft {district} {year}-Q{quarter}",
                lambda s: settlement.compute(s, district, year, quarter),
                lambda lines: (
                    f"{len(lines)} lines, payout {sum(f.payout for f in lines.values()):,} M"
                ),
                runs,
            ),
        ]
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report_reads", description=__doc__)
    parser.add_argument("url", help="the database URL (SQLAlchemy form)")
    parser.add_argument("--year", type=int, help="the report's year (default: the latest booked)")
    parser.add_argument("--quarter", type=int, default=1, choices=[1, 2, 3, 4])
    parser.add_argument("--district", default=DISTRICT)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    for timing in run(
        args.url, year=args.year, quarter=args.quarter, runs=args.runs, district=args.district
    ):
        print(timing.line())


if __name__ == "__main__":
    main()
