"""Runs of the scheduler's daily and quarterly jobs: each run date is claimed once, across
processes, so a job that two schedulers start on the same day runs once.

Unlike the services, these own their transactions: a claim must be committed before the
job's work starts, so that a second process sees it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from ledger import clock
from ledger.db import run_in_transaction
from ledger.models import JobRun
from ledger.repository.missing import insert_missing

__all__ = ["claim_run", "finish_run"]


def claim_run(sessions: sessionmaker[Session], job: str, run_date: dt.date) -> bool:
    """Whether this process is the first to run ``job`` for ``run_date``."""
    return run_in_transaction(
        sessions,
        lambda s: insert_missing(s, JobRun, job=job, run_date=run_date, started_at=clock.now()),
    )


def finish_run(sessions: sessionmaker[Session], job: str, run_date: dt.date, outcome: str) -> None:
    def finish(session: Session) -> None:
        row = session.get(JobRun, (job, run_date))
        if row is not None:
            row.finished_at, row.outcome = clock.now(), outcome[:400]

    run_in_transaction(sessions, finish)
