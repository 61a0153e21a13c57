"""A smoke-sized run of ``bench.national`` on PostgreSQL, so that the bench does not rot: a
load of a few hundred patients in chunks, interrupted after the first and resumed, passes
``ledger verify``; the timed reads run; a load too big for the disk is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.national import main
from ledger.db import make_engine


@pytest.mark.engine("postgresql")
def test_a_small_national_load_resumes_verifies_and_times_its_reads(
    pg_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--patients", "700", "--chunk", "200", "--url", pg_server, "--data", str(tmp_path)]

    assert main(["load", *common, "--minutes", "0"]) == 0
    assert "paused" in capsys.readouterr().out  # one chunk committed, then stopped
    assert main(["load", *common]) == 0
    assert "loaded" in capsys.readouterr().out

    url = make_url(pg_server).set(database="national_700").render_as_string(False)
    engine = make_engine(url)
    with engine.connect() as conn:
        patients = conn.execute(text("SELECT count(*) FROM patients")).scalar_one()
        districts = conn.execute(text("SELECT count(DISTINCT district) FROM patients")).scalar()
        per_visit = conn.execute(
            text("SELECT count(*) FROM visits v JOIN transactions t ON t.id = v.transaction_id")
        ).scalar_one()
        visits = conn.execute(text("SELECT count(*) FROM visits")).scalar_one()
        indexes = conn.execute(
            text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_patients_recall_due'")
        ).scalar_one()
    engine.dispose()
    assert patients == 700 and districts == 25
    assert visits > 700 and per_visit == visits  # every visit is booked
    assert indexes == 1  # created again after the load

    assert main(["verify", *common]) == 0
    assert "0 mismatch(es)" in capsys.readouterr().out

    assert main(["time", *common, "--runs", "1"]) == 0
    out = capsys.readouterr().out
    for read in ("quarter settlement draft", "annual table", "patient statement",
                 "daily recall scan", "visit booking, empty ledger"):  # fmt: skip
        assert read in out


def test_a_load_bigger_than_the_disk_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", "--patients", "10000000000", "--data", str(tmp_path)]) == 2
    assert "refused" in capsys.readouterr().out
