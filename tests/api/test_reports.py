"""Reports: per district, per clinic, the city's total and annual table, and their files."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
from fastapi.testclient import TestClient

from tests.api.helpers import new_clinic, new_patient

DISTRICT = "11590"  # 동작구


def test_a_health_centre_reads_its_own_row_and_the_city_all(
    client: TestClient, city, key_for
) -> None:
    clinic = new_clinic(client, city, key_for, district=DISTRICT)
    patient = new_patient(client, clinic)
    client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-10"},
    )
    centre = key_for("health_center", district=DISTRICT)
    own = client.get("/v1/reports/districts", headers=centre, params={"year": 2024}).json()
    assert [r["district"] for r in own["items"]] == [DISTRICT]
    row = own["items"][0]
    assert (row["registered"], row["visits"], row["accrued"], row["used"]) == (1, 1, 4_000, 0)
    assert row["clinic_earned"] == 12_000 and row["usage_rate"] == 0
    assert row["cumulative_accrued"] == 4_000
    everyone = client.get("/v1/reports/districts", headers=city, params={"year": 2024}).json()
    assert len(everyone["items"]) == 15  # the participating districts
    assert everyone["total"]["accrued"] == sum(r["accrued"] for r in everyone["items"])
    refused = client.get("/v1/reports/districts", headers=clinic.headers, params={"year": 2024})
    assert refused.status_code == 403


def test_the_next_year_shows_the_cumulative_figures(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for, district="11320")
    new_patient(client, clinic)
    centre = key_for("health_center", district="11320")
    row = client.get("/v1/reports/districts", headers=centre, params={"year": 2025}).json()[
        "items"
    ][0]
    assert (row["registered"], row["accrued"]) == (0, 0)
    assert (row["cumulative_registered"], row["cumulative_accrued"]) == (1, 3_000)


def test_the_clinic_report_and_the_annual_table(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for, district="11620")
    new_patient(client, clinic)
    centre = key_for("health_center", district="11620")
    clinics = client.get(
        "/v1/reports/clinics", headers=centre, params={"year": 2024, "district": "11620"}
    ).json()
    row = next(r for r in clinics["items"] if r["clinic_id"] == clinic.id)
    assert (row["registered"], row["clinic_earned"]) == (1, 10_000)
    annual = client.get("/v1/reports/annual", headers=city, params={"through": 2024}).json()
    assert annual["items"][-1]["year"] == 2024
    assert annual["items"][-1]["accrued"] > 0


def test_report_files_round_trip(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for, district="11290")
    new_patient(client, clinic)
    params: dict[str, Any] = {"year": 2024}
    body = client.get("/v1/reports/districts", headers=city, params=params).json()
    raw = client.get("/v1/reports/districts", headers=city, params={**params, "format": "csv"})
    rows = list(csv.reader(io.StringIO(raw.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["자치구 코드", "자치구"]
    assert [r[0] for r in rows[1:-1]] == [r["district"] for r in body["items"]]
    assert int(rows[-1][7]) == body["total"]["accrued"]
    xlsx = client.get("/v1/reports/districts", headers=city, params={**params, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[1] == "합계" and last[7] == body["total"]["accrued"]
