"""The city's January table, filed: kept as filed, later late entries shown beside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.cli import main
from ledger.db import session_scope
from ledger.services.events import late_entry_window
from ledger.settings import get_settings
from tests.api.helpers import new_clinic, new_patient
from tests.factories import make_clinic, make_patient

DISTRICT = "11590"  # 동작구
JANUARY = dt.date(2025, 1, 10)


def visit(client: TestClient, clinic, patient: dict, day: str) -> None:
    response = client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": day, "systolic": 128, "diastolic": 82},
    )
    assert response.status_code == 201, response.text


def test_the_filed_table_stays_as_filed_and_shows_late_entries_as_corrections(
    client: TestClient, city, key_for, clock: Callable[[dt.date], None]
) -> None:
    clinic = new_clinic(client, city, key_for, district=DISTRICT)
    patient = new_patient(client, clinic)
    visit(client, clinic, patient, "2024-06-10")
    early = client.post("/v1/reports/annual/2024/file", headers=city)
    assert early.status_code == 422, early.text  # 2024 has not ended on 14 June 2024

    clock(JANUARY)
    centre = key_for("health_center", district=DISTRICT)
    assert client.post("/v1/reports/annual/2024/file", headers=centre).status_code == 403
    assert client.get("/v1/reports/annual/2024/filed", headers=city).status_code == 404
    filed = client.post("/v1/reports/annual/2024/file", headers=city)
    assert filed.status_code == 201, filed.text
    table = filed.json()
    assert table["through"] == 2024 and table["filed_by"]
    as_filed = table["items"][-1]
    assert as_filed["year"] == 2024
    assert all(value == 0 for value in as_filed["corrections"].values())
    live = client.get("/v1/reports/annual", headers=city, params={"through": 2024}).json()
    assert {k: v for k, v in live["items"][-1].items()} == {
        k: v for k, v in as_filed.items() if k != "corrections"
    }
    again = client.post("/v1/reports/annual/2024/file", headers=city)
    assert again.status_code == 409 and again.json()["code"] == "already_filed"

    # A visit of late December entered in January: the filed figures do not move; the
    # difference shows beside them.
    visit(client, clinic, patient, "2024-12-20")
    read = client.get("/v1/reports/annual/2024/filed", headers=city).json()
    line = read["items"][-1]
    assert {k: v for k, v in line.items() if k != "corrections"} == {
        k: v for k, v in as_filed.items() if k != "corrections"
    }
    now = client.get("/v1/reports/annual", headers=city, params={"through": 2024}).json()
    current = now["items"][-1]
    assert line["corrections"]["visits"] == 1 == current["visits"] - as_filed["visits"]
    assert line["corrections"]["year_visits"] == 1
    assert line["corrections"]["accrued"] == current["accrued"] - as_filed["accrued"] > 0
    assert read["filed_at"] == table["filed_at"]
    assert client.get("/v1/reports/annual/2024/filed", headers=centre).status_code == 403


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MILEAGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def enrol(sessions: sessionmaker[Session], on: dt.date) -> None:
    """A patient enrolled on ``on``, entered now (a history import, say)."""
    with session_scope(sessions) as session, late_entry_window(10_000):
        make_patient(session, make_clinic(session, district=DISTRICT), enrolled_on=on)


def test_the_command_line_files_and_reads_the_table(
    cli: CliRunner, sessions: sessionmaker[Session]
) -> None:
    enrol(sessions, dt.date(2023, 5, 2))
    missing = cli.invoke(main, ["reports", "filed-annual", "2023"])
    assert missing.exit_code == 1 and "has not been filed" in missing.output
    filed = cli.invoke(main, ["reports", "file-annual", "2023"])
    assert filed.exit_code == 0, filed.output
    assert "annual table through 2023, filed" in filed.output
    assert "by command line" in filed.output
    assert "corrections since filed" not in filed.output
    twice = cli.invoke(main, ["reports", "file-annual", "2023"])
    assert twice.exit_code == 1 and "filed already" in twice.output
    enrol(sessions, dt.date(2023, 11, 20))
    read = cli.invoke(main, ["reports", "filed-annual", "2023"])
    assert read.exit_code == 0, read.output
    corrections = read.output.splitlines()[-1]
    assert corrections.startswith("  corrections since filed: ")
    assert "clinics_chronic +1, registered +1, year_registered +1, accrued +3,000" in corrections
