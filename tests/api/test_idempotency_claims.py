"""An Idempotency-Key's claim lives exactly as long as its request (see
``ledger/services/idempotency.py``): in flight while its holder works, free the moment the
holder is gone, and never left behind by a request that could not be saved."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.idempotency import _fingerprint
from ledger import clock, processes
from ledger.db import session_scope
from ledger.models import IdempotentRequest, Visit
from ledger.pseudonyms import Pseudonyms
from ledger.services import idempotency
from ledger.services.access import authenticate
from tests.api.helpers import new_clinic, new_patient

VISIT = {"visited_on": "2024-06-10", "systolic": 124, "diastolic": 78}


def visit_url(patient: dict[str, Any]) -> str:
    return f"/v1/patients/{patient['id']}/visits"


def leave_claim(
    sessions: sessionmaker[Session],
    headers: dict[str, str],
    url: str,
    key: str,
    holder: str,
    pseudonyms: Pseudonyms,
) -> None:
    """A claim on ``key`` for the visit, unanswered, as a process ``holder`` left it."""
    token = headers["Authorization"].removeprefix("Bearer ")
    scope = {"method": "POST", "path": url, "query_string": b""}
    fingerprint = _fingerprint(scope, json.dumps(VISIT).encode(), pseudonyms)
    with session_scope(sessions) as session:
        principal = authenticate(session, token)
        assert principal is not None and principal.key_id is not None
        session.add(
            IdempotentRequest(
                key_id=principal.key_id,
                idempotency_key=key,
                request_hash=fingerprint,
                claimed_until=clock.now() + idempotency.LEASE,
                claimed_by=holder,
                created_at=clock.now(),
            )
        )


def pseudonyms_of(client: TestClient) -> Pseudonyms:
    """The keyed hashes the app under test uses (its request fingerprints among them)."""
    pseudonyms: Pseudonyms = client.app.state.safeguards.pseudonyms  # type: ignore[attr-defined]
    return pseudonyms


def visits_of(sessions: sessionmaker[Session], patient: dict[str, Any]) -> int:
    with session_scope(sessions) as session:
        return session.execute(
            select(func.count()).select_from(Visit).where(Visit.patient_id == patient["id"])
        ).scalar_one()


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_claim_whose_process_was_killed_is_taken_over_at_once(
    client: TestClient, sessions: sessionmaker[Session], city: dict[str, str], key_for: Any
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    child = sleeper()
    holder = processes.identity_of(child.pid)
    child.send_signal(signal.SIGKILL)
    child.wait()
    key = f"orphan-{uuid.uuid4()}"
    leave_claim(
        sessions, clinic.headers, visit_url(patient), key, str(holder), pseudonyms_of(client)
    )

    headers = {**clinic.headers, "Idempotency-Key": key}
    first = client.post(visit_url(patient), headers=headers, json=VISIT)
    again = client.post(visit_url(patient), headers=headers, json=VISIT)

    assert first.status_code == 201, first.text
    assert again.json() == first.json()
    assert visits_of(sessions, patient) == 1


@pytest.mark.engine("sqlite")
def test_a_claim_this_process_left_behind_is_free_at_once(
    client: TestClient, sessions: sessionmaker[Session], city: dict[str, str], key_for: Any
) -> None:
    """A claim naming this very process whose request is over (its release failed) blocks
    nothing: the process knows which of its claims are in flight."""
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    key = f"left-{uuid.uuid4()}"
    leave_claim(
        sessions,
        clinic.headers,
        visit_url(patient),
        key,
        str(processes.current()),
        pseudonyms_of(client),
    )

    headers = {**clinic.headers, "Idempotency-Key": key}
    first = client.post(visit_url(patient), headers=headers, json=VISIT)

    assert first.status_code == 201, first.text
    assert visits_of(sessions, patient) == 1


@pytest.mark.engine("sqlite")
def test_on_sqlite_a_claim_is_in_flight_while_its_process_runs(
    client: TestClient, sessions: sessionmaker[Session], city: dict[str, str], key_for: Any
) -> None:
    """(On PostgreSQL a claim is never committed before its answer: its lock says it all.)"""
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    child = sleeper()
    key = f"held-{uuid.uuid4()}"
    try:
        leave_claim(
            sessions,
            clinic.headers,
            visit_url(patient),
            key,
            str(processes.identity_of(child.pid)),
            pseudonyms_of(client),
        )
        headers = {**clinic.headers, "Idempotency-Key": key}
        held = client.post(visit_url(patient), headers=headers, json=VISIT)
        assert held.status_code == 409
        assert held.json()["code"] == "request_in_flight"
        assert visits_of(sessions, patient) == 0
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    freed = client.post(visit_url(patient), headers=headers, json=VISIT)
    assert freed.status_code == 201, freed.text
    assert visits_of(sessions, patient) == 1


def test_an_answer_that_cannot_be_saved_books_nothing_and_leaves_the_key_free(
    app: FastAPI,
    client: TestClient,
    sessions: sessionmaker[Session],
    city: dict[str, str],
    key_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    headers = {**clinic.headers, "Idempotency-Key": f"unsaved-{uuid.uuid4()}"}

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("UPDATE idempotent_requests", {}, Exception("disk is full"))

    monkeypatch.setattr(idempotency, "store", disk_full)
    with TestClient(app) as plain:  # the shared client fails any 5xx
        unsaved = plain.post(visit_url(patient), headers=headers, json=VISIT)
    assert unsaved.status_code == 503
    assert unsaved.json()["code"] == "retry"
    assert unsaved.headers["Retry-After"] == "1"
    assert visits_of(sessions, patient) == 0
    monkeypatch.undo()

    saved = client.post(visit_url(patient), headers=headers, json=VISIT)
    assert saved.status_code == 201, saved.text
    assert visits_of(sessions, patient) == 1


def test_a_refusal_books_nothing_and_is_answered_again_as_it_was(
    client: TestClient, sessions: sessionmaker[Session], city: dict[str, str], key_for: Any
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    headers = {**clinic.headers, "Idempotency-Key": f"early-{uuid.uuid4()}"}
    early = {**VISIT, "visited_on": str(dt.date(2024, 5, 31))}  # before the enrolment

    first = client.post(visit_url(patient), headers=headers, json=early)
    again = client.post(visit_url(patient), headers=headers, json=early)

    assert first.status_code == 422 and first.json()["code"] == "before_enrolment"
    assert (again.status_code, again.json()) == (422, first.json())
    assert again.headers.get("idempotent-replayed") == "true"
    assert visits_of(sessions, patient) == 0
