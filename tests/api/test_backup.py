"""Backup and restore: `mileage backup` copies the database consistently while the service is
taking visits; `mileage restore` loads the copy into an empty database, which then verifies
clean and holds every booking committed before the backup began."""

from __future__ import annotations

import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from api.cli import main
from ledger.db import make_engine
from ledger.settings import get_settings
from tests.api.helpers import ClinicSetup, new_clinic, new_patient


@pytest.fixture
def mileage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """``mileage(url, *args)``: run a `mileage` command against the database at ``url``."""

    def run(database_url: str, *args: str) -> Result:
        monkeypatch.setenv("MILEAGE_DATABASE_URL", database_url)
        get_settings.cache_clear()
        return CliRunner().invoke(main, list(args))

    yield run
    get_settings.cache_clear()


@pytest.fixture
def empty_database(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A new database of the same engine with nothing in it, not even the schema."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    server: str = request.getfixturevalue("pg_server")
    name = f"mileage_restored_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    yield make_url(server).set(database=name).render_as_string(False)


class Poster(threading.Thread):
    """Records visits over HTTP, one after another, until stopped; keeps the ids answered."""

    def __init__(self, app: FastAPI, clinic: ClinicSetup, patients: list[str]) -> None:
        super().__init__(daemon=True)
        self.app, self.clinic, self.patients = app, clinic, patients
        self.recorded: list[str] = []
        self.stop = threading.Event()
        self.failure: str | None = None

    def run(self) -> None:
        with TestClient(self.app) as client:
            n = 0
            while not self.stop.is_set():
                patient = self.patients[n % len(self.patients)]
                answer = client.post(
                    f"/v1/patients/{patient}/visits",
                    headers=self.clinic.headers,
                    json={"visited_on": "2024-06-10", "systolic": 130, "diastolic": 85},
                )
                if answer.status_code != 201:
                    self.failure = answer.text
                    return
                self.recorded.append(answer.json()["id"])
                n += 1

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.recorded) < count and self.failure is None:
            assert time.monotonic() < deadline, "the visits stopped coming"
            time.sleep(0.01)
        assert self.failure is None, self.failure


def visit_ids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT id FROM visits")).scalars())


def audited(engine: Engine, action: str) -> list[str]:
    with engine.connect() as connection:
        query = text("SELECT label FROM audit_events WHERE action = :action")
        return list(connection.execute(query, {"action": action}).scalars())


def test_a_backup_taken_while_visits_are_recorded_restores_every_committed_booking(
    app: FastAPI,
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    engine: Engine,
    database_url: str,
    empty_database: str,
    tmp_path: Path,
    mileage: Callable[..., Result],
) -> None:
    clinic = new_clinic(client, city, key_for)
    patients = [new_patient(client, clinic)["id"] for _ in range(4)]
    poster = Poster(app, clinic, patients)
    poster.start()
    try:
        poster.wait_for(10)
        committed_before = set(poster.recorded)
        backup = tmp_path / "mileage.backup"
        made = mileage(database_url, "backup", str(backup))
        poster.wait_for(len(poster.recorded) + 10)  # the service kept serving after it
    finally:
        poster.stop.set()
        poster.join(timeout=30)
    assert poster.failure is None, poster.failure
    assert made.exit_code == 0, made.output
    assert "backed up" in made.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it holds personal data
    assert audited(engine, "database.backup") == ["command line"]

    restored = mileage(empty_database, "restore", str(backup))

    assert restored.exit_code == 0, restored.output
    assert "ledger verified" in restored.output
    target = make_engine(empty_database)
    try:
        in_copy = visit_ids(target)
        assert committed_before <= in_copy, "a visit committed before the backup is missing"
        assert in_copy <= set(poster.recorded), "the copy holds a visit nobody recorded"
        assert audited(target, "database.restore") == ["command line"]
    finally:
        target.dispose()


def test_restore_refuses_a_database_that_is_not_empty(
    database_url: str, tmp_path: Path, mileage: Callable[..., Result]
) -> None:
    backup = tmp_path / "again.backup"
    assert mileage(database_url, "backup", str(backup)).exit_code == 0

    refused = mileage(database_url, "restore", str(backup))

    assert refused.exit_code == 1
    assert "is not empty" in refused.output


def test_a_backup_never_overwrites_a_file(
    database_url: str, tmp_path: Path, mileage: Callable[..., Result]
) -> None:
    backup = tmp_path / "taken.backup"
    backup.write_text("yesterday's backup")

    refused = mileage(database_url, "backup", str(backup))

    assert refused.exit_code == 1
    assert "exists" in refused.output
    assert backup.read_text() == "yesterday's backup"
    assert not (tmp_path / "taken.backup.partial").exists()
