"""A GET writes nothing but its audit row: every table but the audit trail is byte for byte
the same after every read the API offers, a draft settlement's included."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from ledger.models import AuditEvent, Base
from tests.api.helpers import new_clinic, new_patient

DISTRICT = "11740"


def _fingerprint(engine: Engine) -> dict[str, str]:
    """A digest of every row of every table but the audit trail."""
    digests = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == AuditEvent.__tablename__:
                continue
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
            digests[table.name] = digest.hexdigest()
    return digests


def _audit_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return len(connection.execute(select(AuditEvent.id)).all())


def test_no_read_writes_anything_but_its_audit_row(
    client: TestClient, engine: Engine, city: dict[str, str], key_for: Any
) -> None:
    clinic = new_clinic(client, city, key_for, district=DISTRICT)
    centre = key_for("health_center", district=DISTRICT)
    patient = new_patient(client, clinic, enrolled_on="2024-06-03")
    visit = client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={
            "visited_on": "2024-06-10",
            "systolic": 128,
            "diastolic": 80,
            "next_visit_on": "2024-07-10",
        },
    )
    assert visit.status_code == 201, visit.text
    opened = client.post(
        "/v1/settlements", headers=centre, json={"district": DISTRICT, "year": 2024, "quarter": 2}
    )
    assert opened.status_code == 201, opened.text
    # Spending after the draft was stored: reading the draft must show it without storing it.
    spent = client.post(
        f"/v1/patients/{patient['id']}/redemptions",
        headers=clinic.headers,
        json={"amount": 100, "purpose": "treatment", "spent_on": "2024-06-14"},
    )
    settlement = opened.json()["id"]
    reads = [
        (clinic.headers, f"/v1/patients/{patient['id']}"),
        (clinic.headers, f"/v1/patients/{patient['id']}/statement?year=2024"),
        (clinic.headers, f"/v1/patients/{patient['id']}/messages"),
        (clinic.headers, f"/v1/clinics/{clinic.id}/statement?year=2024&quarter=2"),
        (clinic.headers, "/v1/clinics"),
        (city, "/v1/districts"),
        (centre, f"/v1/settlements/{settlement}"),
        (centre, f"/v1/settlements/{settlement}?format=csv"),
        (centre, f"/v1/settlements/{settlement}?format=xlsx"),
        (centre, "/v1/reports/districts?year=2024"),
        (centre, "/v1/reports/districts?year=2024&format=xlsx"),
        (centre, f"/v1/reports/clinics?year=2024&district={DISTRICT}"),
        (city, "/v1/reports/annual?through=2024"),
        (centre, f"/v1/reports/messages?district={DISTRICT}&start=2024-06-01&end=2024-06-30"),
        (centre, f"/v1/districts/{DISTRICT}/messaging"),
        (centre, f"/v1/districts/{DISTRICT}/no-send-days"),
        (city, "/v1/keys"),
        (city, "/v1/audit?limit=5"),
    ]
    before, audited = _fingerprint(engine), _audit_rows(engine)
    for headers, path in reads:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, f"{path}: {response.text}"
    assert _fingerprint(engine) == before
    assert _audit_rows(engine) > audited  # the reads of personal data were audited
    draft = client.get(f"/v1/settlements/{settlement}", headers=centre).json()
    assert spent.status_code == 201, spent.text
    assert sum(line["reimbursed"] for line in draft["lines"]) == 100  # computed afresh
