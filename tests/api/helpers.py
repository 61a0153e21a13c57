"""Small steps the API tests share: a district with a clinic, a patient, their keys."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient


@dataclass
class ClinicSetup:
    id: str
    district: str
    headers: dict[str, str]


def new_clinic(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    *,
    district: str = "11740",
    kind: str = "chronic",
) -> ClinicSetup:
    response = client.post(
        "/v1/clinics",
        headers=city,
        json={
            "name": f"테스트 의원 {uuid.uuid4().hex[:6]}",
            "kind": kind,
            "district": district,
            "participating_since": "2020-01-01",
        },
    )
    assert response.status_code == 201, response.text
    clinic_id = response.json()["id"]
    return ClinicSetup(clinic_id, district, key_for("clinic", clinic_id=clinic_id))


def patient_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"홍길동{uuid.uuid4().hex[:6]}",
        "birth_date": "1956-09-30",
        "phone": f"010-{random.randint(2000, 5899)}-{random.randint(0, 9999):04d}",
        "conditions": ["hypertension", "diabetes"],
        "sms_consent": True,
        "enrolled_on": "2024-06-01",
    }
    body.update(overrides)
    return body


def new_patient(client: TestClient, clinic: ClinicSetup, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/patients", headers=clinic.headers, json=patient_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
