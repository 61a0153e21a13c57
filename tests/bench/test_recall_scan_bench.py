"""A smoke-sized run of ``bench.recall_scan`` on both engines, so that the bench does not rot:
it fills a few hundred patients in bulk, and the scan it times queues what is due once per
run (the bench deletes a run's recalls before the next)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.recall_scan import BENCH_DAY, fill, main, time_scan
from ledger.models import Message, Patient


def test_the_bench_fills_its_patients_and_times_a_scan_that_finds_some_due(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    timing = time_scan(engine, sessions, patients=600, runs=2, chunk=7)

    assert fill(engine, sessions, 600) == 600  # filled once, reused
    with sessions() as session:
        bench_patients = session.execute(
            select(func.count()).where(Patient.id.like("pat_bench%"))
        ).scalar_one()
        left_behind = session.execute(
            select(func.count()).where(Message.kind == "recall", Message.due_date == BENCH_DAY)
        ).scalar_one()
    assert bench_patients == 600
    assert 0 < timing.due < 600 and len(timing.seconds) == 2
    assert left_behind == 0  # each run's recalls are taken away for the next


@pytest.mark.engine("sqlite")
def test_the_bench_runs_from_the_command_line(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MILEAGE_DATABASE_URL", raising=False)
    main(["--patients", "300", "--runs", "1"])
    out = capsys.readouterr().out
    assert "patients  300" in out and "recalls queued on 2025-09-01" in out
