"""The reads at Seoul's size on both engines: ``mileage demo --scale seoul``'s history, then
the reads ``bench.national`` times, on SQLite and on PostgreSQL.

    python -m bench.seoul [--fraction 1.0] [--runs 5] [--engines sqlite,postgresql]

Each engine gets an empty database (SQLite: a file in a temporary directory; PostgreSQL:
``MILEAGE_DATABASE_URL`` when set, which must be empty, else a throwaway cluster with the
default durability), filled by the Seoul simulation (``ledger.simulation.simulate_seoul``,
the same as ``mileage demo --scale seoul [--fraction F]``: 2013 to the end of last year).
Then each read is timed ``--runs`` times, median with the lowest and highest: a district's
quarter settlement draft, the district report (year and cumulative), the annual table, a
district's clinic report, a patient's statement, the recall scan of the morning after the
history ends, and a visit booking (rolled back after each run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench.national import time_all
from ledger.db import make_engine, make_session_factory
from ledger.migrate import upgrade
from ledger.simulation import simulate_seoul
from tests.pgcluster import running_cluster


@contextmanager
def empty_database(engine_name: str) -> Iterator[str]:
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'seoul.sqlite3'}"
    elif os.environ.get("MILEAGE_DATABASE_URL"):
        yield os.environ["MILEAGE_DATABASE_URL"]
    else:
        with running_cluster(tuned_for_tests=False) as server:
            yield server


def run(url: str, *, fraction: float, runs: int) -> list[str]:
    """Fill ``url`` with Seoul's history (``fraction`` of it) and time the reads."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        started = time.monotonic()
        result = simulate_seoul(sessions, fraction=fraction)
        filled = time.monotonic() - started
        day = result.through + dt.timedelta(days=1)
        return [
            f"engine    {engine.dialect.name}; Seoul x {fraction} through {result.through}"
            f" (simulated in {filled:.0f} s)",
            *time_all(sessions, runs, day),
        ]
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    for name in args.engines.split(","):
        with empty_database(name) as url:
            for line in run(url, fraction=args.fraction, runs=args.runs):
                print(line, flush=True)


if __name__ == "__main__":
    main()
