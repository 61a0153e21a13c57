"""Correcting a misspelt name or a wrong birth date over the API (``PATCH``), as the console's
correction form does: registration's identity rules apply again, and the audit row names
the fields that changed, never their values."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import session_scope
from ledger.models import AuditEvent
from tests.api.helpers import new_clinic, new_patient


def test_a_misspelt_name_and_birth_date_are_corrected_and_audited(
    client: TestClient, city: dict[str, str], key_for: Any, sessions: sessionmaker[Session]
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic, name="김영스", birth_date="1956-09-03")
    patched = client.patch(
        f"/v1/patients/{patient['id']}",
        headers=clinic.headers,
        json={"name": "김\u200b영수", "birth_date": "1956-09-30"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["birth_date"]) == ("김영수", "1956-09-30")
    query = {"name": "김영수", "birth_date": "1956-09-30", "phone": patient["phone"]}
    found = client.post("/v1/patient-lookups", headers=clinic.headers, json=query)
    assert found.json()["id"] == patient["id"]
    with session_scope(sessions) as session:
        resource = session.execute(
            select(AuditEvent.resource).where(
                AuditEvent.action == "patient.update", AuditEvent.patient_id == patient["id"]
            )
        ).scalar_one()
    assert resource == f"patients/{patient['id']}?changed=name,birth_date"


def test_a_correction_into_another_registered_person_is_refused(
    client: TestClient, city: dict[str, str], key_for: Any
) -> None:
    clinic = new_clinic(client, city, key_for)
    first = new_patient(client, clinic, name="박민수")
    second = new_patient(client, clinic, name="박민스", phone=first["phone"])
    refused = client.patch(
        f"/v1/patients/{second['id']}", headers=clinic.headers, json={"name": "박민수"}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "duplicate_patient"
    assert client.get(f"/v1/patients/{second['id']}", headers=clinic.headers).json()["name"] == (
        "박민스"
    )


def test_a_birth_date_after_today_or_out_of_range_is_refused(
    client: TestClient, city: dict[str, str], key_for: Any
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    for wrong in ("2024-06-15", "1899-12-31", "19560930", "", "2024-02-30"):
        refused = client.patch(
            f"/v1/patients/{patient['id']}", headers=clinic.headers, json={"birth_date": wrong}
        )
        assert refused.status_code == 422, wrong
        assert refused.json()["code"] == "invalid"
