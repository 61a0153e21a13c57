"""Killed mid-request, the service leaves nothing that blocks the request's Idempotency-Key.

A real server process is killed (SIGKILL) while a visit is in flight and a new one is
started on the same database: the first repeat of the key answers at once, with the visit
booked now, and the visit exists exactly once. On PostgreSQL the claim is an advisory lock of
the request's own transaction, which dies with the killed process's connection (even while
that connection waits on a row lock); on SQLite the claim row names the killed process, and
the repeat takes it over. (``ledger/services/idempotency.py`` describes the mechanism.)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from ledger import clock
from ledger.db import session_scope
from ledger.models import IdempotentRequest, Visit
from ledger.services.access import create_key
from ledger.services.reading import balance
from ledger.services.verify import verify
from ledger.settings import Settings
from tests.factories import make_clinic, make_patient
from tests.pgcluster import free_port

MILEAGE = str(Path(sys.executable).parent / "mileage")
STALLING_SERVER = Path(__file__).with_name("stalling_server.py")
REPO = Path(__file__).parents[2]
# A restarted service must answer the repeat this soon (it is up: this is the answer's time).
PROMPT_S = 5.0


@dataclass(frozen=True)
class World:
    url: str
    patient_id: str
    account: int
    token: str
    home: Path


@pytest.fixture
def world(database_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> World:
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        patient = make_patient(session, clinic, enrolled_on=clock.today()).patient
        token = create_key(
            session, role="clinic", label="front desk", created_by="tests", clinic_id=clinic.id
        ).token
        return World(database_url, patient.id, patient.account_id, token, tmp_path)


@contextlib.contextmanager
def serving(world: World, *command: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A server process on a free port against the world's database, up and answering."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILEAGE_")}
    env |= {"MILEAGE_DATABASE_URL": world.url, "PYTHONPATH": str(REPO)}
    log = world.home / f"server-{port}.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=world.home,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start in 30 s"
            time.sleep(0.1)
        yield server, port
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)


def stalling_server(world: World, marker: Path) -> tuple[str, ...]:
    return (sys.executable, str(STALLING_SERVER), world.url, str(marker))


def post_visit(world: World, port: int, key: str, timeout: float = 30) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/v1/patients/{world.patient_id}/visits",
        headers={"Authorization": f"Bearer {world.token}", "Idempotency-Key": key},
        json={"visited_on": clock.today().isoformat(), "systolic": 124, "diastolic": 78},
        timeout=timeout,
    )


def in_flight(world: World, port: int, key: str) -> threading.Thread:
    """The visit, sent from a thread; its answer never comes (the server is killed)."""

    def send() -> None:
        with contextlib.suppress(httpx.HTTPError):
            post_visit(world, port, key, timeout=60)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {seconds} s"
        time.sleep(0.05)


def assert_booked_once(
    world: World, sessions: sessionmaker[Session], key: str, first: Any, again: Any
) -> None:
    """The repeat booked the visit, a second repeat replays it, and it exists once."""
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers.get("idempotent-replayed") == "true"
    with session_scope(sessions) as session:
        visits = session.execute(
            select(func.count()).select_from(Visit).where(Visit.patient_id == world.patient_id)
        ).scalar_one()
        assert visits == 1
        assert balance(session, world.account) == first.json()["balance"]
        assert verify(session) == []
        claims = session.execute(
            select(IdempotentRequest.status_code).where(IdempotentRequest.idempotency_key == key)
        ).all()
        assert [tuple(c) for c in claims] == [(201,)]


def test_a_request_killed_mid_flight_is_answered_at_once_after_a_restart(
    world: World, sessions: sessionmaker[Session]
) -> None:
    key = f"crash-{uuid.uuid4()}"
    marker = world.home / "booked"
    with serving(world, *stalling_server(world, marker)) as (server, port):
        in_flight(world, port, key)
        wait_for(marker.exists, 20, "the visit's booking")
        assert post_visit(world, port, key).json()["code"] == "request_in_flight"
        server.kill()
        server.wait(10)

    with serving(world, MILEAGE, "serve", "--no-scheduler") as (_, port):
        started = time.monotonic()
        first = post_visit(world, port, key)
        elapsed = time.monotonic() - started
        again = post_visit(world, port, key)
    assert elapsed < PROMPT_S, f"the repeat took {elapsed:.1f} s"
    assert_booked_once(world, sessions, key, first, again)


@pytest.mark.engine("postgresql")
def test_a_request_killed_while_it_waits_on_a_lock_frees_its_key_at_once(
    world: World, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """The killed server's backend is waiting on a row lock, not reading its socket: it
    still notices its client is gone, and ends (taking the claim with it), within seconds."""
    key = f"crash-{uuid.uuid4()}"
    waiting = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    with engine.connect() as holder, engine.connect() as watcher:
        holder.execute(
            text("SELECT id FROM patients WHERE id = :p FOR UPDATE"), {"p": world.patient_id}
        )
        with serving(world, MILEAGE, "serve", "--no-scheduler") as (server, port):
            in_flight(world, port, key)
            backends: list[int] = []

            def request_waits() -> bool:
                backends[:] = watcher.execute(waiting).scalars().all()
                watcher.rollback()
                return bool(backends)

            wait_for(request_waits, 20, "the request's wait on the patient's row")
            server.kill()
            server.wait(10)

        def backend_gone() -> bool:
            alive = watcher.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": backends},
            ).scalar_one()
            watcher.rollback()
            return alive == 0

        wait_for(backend_gone, PROMPT_S, "the killed server's backend ending")
        holder.rollback()

    # The key is free: another process of the service (here, in this one) books it now.
    app = create_app(Settings(database_url=world.url), engine=engine)
    with TestClient(app) as client:
        url = f"/v1/patients/{world.patient_id}/visits"
        headers = {"Authorization": f"Bearer {world.token}", "Idempotency-Key": key}
        body = {"visited_on": clock.today().isoformat(), "systolic": 124, "diastolic": 78}
        first = client.post(url, headers=headers, json=body)
        again = client.post(url, headers=headers, json=body)
    assert_booked_once(world, sessions, key, first, again)
