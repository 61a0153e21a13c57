"""Stored answers of idempotent requests keep personal data only for the retention period,
and a repeat never shows more than its caller may read now.

A repeat of an idempotent request is answered from the stored first answer without running
the request again. After ``MILEAGE_IDEMPOTENCY_RETENTION_DAYS`` (30 by default) the daily
job takes the name, birth date and phone out of it: the repeat still answers with the first
status and the ids it created, and books nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.tasks import JobContext, scrub_stored_answers
from ledger import clock
from ledger.db import session_scope
from ledger.models import IdempotentRequest, Patient
from ledger.settings import Settings
from notifications.channels import ConsoleChannel
from tests.api.helpers import ClinicSetup, new_clinic, patient_body


def job_at(sessions: sessionmaker[Session], database_url: str, moment: dt.datetime) -> JobContext:
    return JobContext(
        sessions,
        ConsoleChannel(out=io.StringIO()),
        Settings(database_url=database_url, idempotency_retention_days=30),
        now=lambda: moment,
    )


def register(client: TestClient, clinic: ClinicSetup) -> tuple[dict[str, str], dict[str, Any]]:
    headers = {**clinic.headers, "Idempotency-Key": f"register-{uuid.uuid4().hex}"}
    body = patient_body()
    first = client.post("/v1/patients", headers=headers, json=body)
    assert first.status_code == 201, first.text
    return headers, body


def patients_of(sessions: sessionmaker[Session], clinic_id: str) -> int:
    with session_scope(sessions) as session:
        query = select(func.count()).select_from(Patient).where(Patient.clinic_id == clinic_id)
        return int(session.execute(query).scalar_one())


def stored(sessions: sessionmaker[Session], headers: dict[str, str]) -> IdempotentRequest:
    with session_scope(sessions) as session:
        row = session.execute(
            select(IdempotentRequest).where(
                IdempotentRequest.idempotency_key == headers["Idempotency-Key"]
            )
        ).scalar_one()
        session.expunge(row)
        return row


def test_a_stored_answer_keeps_the_personal_fields_within_the_retention_period(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    sessions: sessionmaker[Session],
    database_url: str,
) -> None:
    clinic = new_clinic(client, city, key_for)
    headers, body = register(client, clinic)

    scrub_stored_answers(job_at(sessions, database_url, clock.now() + dt.timedelta(days=29)))

    again = client.post("/v1/patients", headers=headers, json=body)
    assert again.status_code == 201
    assert (again.json()["name"], again.json()["birth_date"]) == (body["name"], body["birth_date"])
    assert stored(sessions, headers).scrubbed_at is None


def test_after_the_retention_period_a_repeat_answers_with_the_ids_and_no_personal_fields(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    sessions: sessionmaker[Session],
    database_url: str,
) -> None:
    clinic = new_clinic(client, city, key_for)
    headers, body = register(client, clinic)
    first = client.post("/v1/patients", headers=headers, json=body).json()

    scrubbed = scrub_stored_answers(
        job_at(sessions, database_url, clock.now() + dt.timedelta(days=31))
    )

    assert scrubbed is not None and scrubbed >= 1
    row = stored(sessions, headers)
    assert row.scrubbed_at is not None
    assert body["name"] not in (row.response or "")
    assert body["birth_date"] not in (row.response or "")
    again = client.post("/v1/patients", headers=headers, json=body)
    assert again.status_code == 201
    shown = again.json()
    assert (shown["name"], shown["birth_date"], shown["phone"]) == (None, None, None)
    personal = ("name", "birth_date", "phone")
    assert {k: v for k, v in first.items() if k not in personal} == {
        k: v for k, v in shown.items() if k not in personal
    }
    assert patients_of(sessions, clinic.id) == 1  # the repeat booked nothing


def test_a_replay_shows_only_the_ids_of_a_patient_the_caller_may_no_longer_read(
    client: TestClient, city: dict[str, str], key_for: Any, sessions: sessionmaker[Session]
) -> None:
    home = new_clinic(client, city, key_for)
    other = new_clinic(client, city, key_for)
    headers, body = register(client, home)
    first = client.post("/v1/patients", headers=headers, json=body).json()
    moved = client.post(
        f"/v1/patients/{first['id']}/moves", headers=home.headers, json={"clinic_id": other.id}
    )
    assert moved.status_code == 200, moved.text
    assert client.get(f"/v1/patients/{first['id']}", headers=home.headers).status_code == 404

    again = client.post("/v1/patients", headers=headers, json=body)

    assert again.status_code == 201
    assert again.json() == {"id": first["id"], "transaction_id": first["transaction_id"]}
    assert patients_of(sessions, other.id) == 1


def test_a_look_up_replayed_to_a_clinic_where_the_patient_may_spend_keeps_its_balance(
    client: TestClient, city: dict[str, str], key_for: Any
) -> None:
    home = new_clinic(client, city, key_for)
    other = new_clinic(client, city, key_for)  # same district: the patient may spend there
    _, body = register(client, home)
    asked = {k: body[k] for k in ("name", "birth_date", "phone")}
    headers = {**other.headers, "Idempotency-Key": f"look-{uuid.uuid4().hex}"}
    first = client.post("/v1/patient-lookups", headers=headers, json=asked)
    assert first.status_code == 200, first.text
    again = client.post("/v1/patient-lookups", headers=headers, json=asked)
    assert again.status_code == 200
    assert again.json() == first.json() and "balance" in again.json()


def test_a_replayed_duplicate_drops_the_id_its_caller_may_no_longer_read(
    client: TestClient, city: dict[str, str], key_for: Any
) -> None:
    home = new_clinic(client, city, key_for)
    other = new_clinic(client, city, key_for)
    _, body = register(client, home)
    headers = {**home.headers, "Idempotency-Key": f"twice-{uuid.uuid4().hex}"}
    duplicate = client.post("/v1/patients", headers=headers, json=body)
    assert duplicate.status_code == 409 and "id" in duplicate.json()
    patient_id = duplicate.json()["id"]
    moved = client.post(
        f"/v1/patients/{patient_id}/moves", headers=home.headers, json={"clinic_id": other.id}
    )
    assert moved.status_code == 200, moved.text

    again = client.post("/v1/patients", headers=headers, json=body)

    assert again.status_code == 409 and again.json()["code"] == "duplicate_patient"
    assert "id" not in again.json() and patient_id not in again.text


def test_the_job_runs_once_a_day(sessions: sessionmaker[Session], database_url: str) -> None:
    moment = clock.now() + dt.timedelta(days=400)
    assert scrub_stored_answers(job_at(sessions, database_url, moment)) is not None
    assert scrub_stored_answers(job_at(sessions, database_url, moment)) is None
