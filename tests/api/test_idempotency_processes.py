"""One Idempotency-Key sent by sixteen clients in two processes books one visit.

Each client is its own app over its own engine (as separate server processes would be),
and all start together; every answer is the first request's 201 or a 409 while it is in
flight, and a repeat afterwards replays the 201.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from ledger import clock
from ledger.db import session_scope
from ledger.models import Visit
from ledger.services.access import create_key
from ledger.services.reading import balance
from ledger.services.verify import verify
from ledger.settings import Settings
from tests.factories import make_clinic, make_patient
from tests.ledger.test_concurrency import PROCESSES, WRITERS, run_in_processes


def post_visit_once(
    sessions: sessionmaker[Session], patient_id: str, token: str, key: str
) -> list[dict[str, Any]]:
    """A writer of the harness: this client's one POST of the shared request."""
    engine = sessions.kw["bind"]
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url), engine=engine)) as client:
        response = client.post(
            f"/v1/patients/{patient_id}/visits",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            json={"visited_on": clock.today().isoformat(), "systolic": 124, "diastolic": 78},
        )
    return [{"status": response.status_code, "body": response.json()}]


def test_one_idempotency_key_from_two_processes_books_one_visit(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        patient = make_patient(session, clinic, enrolled_on=clock.today()).patient
        token = create_key(
            session, role="clinic", label="front desk", created_by="tests", clinic_id=clinic.id
        ).token
        patient_id, account = patient.id, patient.account_id
    key = f"visit-{uuid.uuid4()}"

    results = run_in_processes(database_url, post_visit_once, patient_id, token, key)

    assert len(results) == WRITERS
    assert len({r["pid"] for r in results}) == PROCESSES
    assert {r["status"] for r in results} <= {201, 409}
    created = [r["body"] for r in results if r["status"] == 201]
    assert created, "no client got the visit's answer"
    assert len({body["transaction_id"] for body in created}) == 1
    refused = [r["body"] for r in results if r["status"] == 409]
    assert all(body["code"] == "request_in_flight" for body in refused)

    with session_scope(sessions) as session:
        visits = session.execute(
            select(func.count()).select_from(Visit).where(Visit.patient_id == patient_id)
        ).scalar_one()
        assert visits == 1
        earned = balance(session, account)
        assert verify(session) == []
    again = post_visit_once(sessions, patient_id, token, key)[0]
    assert again["status"] == 201
    assert again["body"] == created[0]
    assert again["body"]["balance"] == earned
