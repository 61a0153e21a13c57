"""The scheduler's start-up catch-up on a large SQLite history, with city reports meanwhile.

    python -m bench.catch_up var/seoul.sqlite3 [--no-reports]

The database (filled with ``mileage demo --scale seoul``) is copied first, so the file given
is left as it was. The catch-up runs today's recall scan, then ``ledger verify``
(``jobs.scheduler.catch_up`` does the same), in a thread; meanwhile the main thread asks for
the city's district report again and again, as the city's officers would. The report is
printed with how long the scan and verify took, how many chunks the scan wrote and how long
each held the write lock, and how long each report took and what it answered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from jobs import tasks
from jobs.tasks import JobContext
from ledger.clock import SEOUL
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.services.access import create_key
from ledger.settings import Settings
from notifications.channels import ConsoleChannel


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.catch_up", description=__doc__)
    parser.add_argument("database", type=Path, help="a SQLite file (it is copied first)")
    parser.add_argument("--no-reports", action="store_true", help="the catch-up alone")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mileage-catch-up-") as directory:
        copy = Path(directory) / "copy.sqlite3"
        shutil.copyfile(args.database, copy)
        run(f"sqlite:///{copy}", reports=not args.no_reports)


def run(url: str, *, reports: bool) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        token = create_key(session, role="city", label="bench", created_by="bench").token
    city = {"Authorization": f"Bearer {token}"}
    client = TestClient(create_app(Settings(database_url=url), engine=engine))
    chunks = _timing_chunks()
    morning = dt.datetime.now(SEOUL).replace(hour=7, minute=0)
    ctx = JobContext(
        sessions,
        ConsoleChannel(out=io.StringIO()),
        Settings(database_url=url),
        now=lambda: morning,
    )

    def report() -> tuple[float, int]:
        began = time.perf_counter()
        answer = client.get("/v1/reports/districts", headers=city, params={"year": 2024})
        return time.perf_counter() - began, answer.status_code

    alone = report()
    print(f"city report alone: {alone[0]:.2f} s ({alone[1]})")
    phases: dict[str, float] = {}
    thread = threading.Thread(target=_catch_up, args=(ctx, morning.date(), phases))
    thread.start()
    answers = []
    while reports and thread.is_alive():
        answers.append(report())
    thread.join()
    engine.dispose()
    print(f"recall scan {phases['recalls']:.1f} s, then ledger verify {phases['verify']:.1f} s")
    if chunks:
        print(
            f"recall scan: {len(chunks)} transaction(s), each "
            f"{statistics.median(chunks) * 1000:.0f} ms at the median, "
            f"{max(chunks) * 1000:.0f} ms at most"
        )
    if answers:
        took = [seconds for seconds, _ in answers]
        print(
            f"city reports meanwhile: {len(answers)}, answered "
            f"{sorted({status for _, status in answers})}, "
            f"{statistics.median(took):.2f} s at the median, {max(took):.2f} s at most"
        )


def _catch_up(ctx: JobContext, day: dt.date, phases: dict[str, float]) -> None:
    began = time.perf_counter()
    tasks.recall_overdue(ctx, day)
    phases["recalls"] = time.perf_counter() - began
    began = time.perf_counter()
    tasks.verify_ledger(ctx, day)
    phases["verify"] = time.perf_counter() - began


def _timing_chunks() -> list[float]:
    """The time of each transaction of the recall scan (each call of the action)."""
    timings: list[float] = []
    action = tasks.messaging.queue_recalls

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return action(*args, **kwargs)
        finally:
            timings.append(time.perf_counter() - began)

    tasks.messaging.queue_recalls = timed  # type: ignore[assignment]
    return timings


if __name__ == "__main__":
    main()
