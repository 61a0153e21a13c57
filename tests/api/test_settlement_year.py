"""A year of one district played through the API and settled quarter by quarter."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import session_scope
from ledger.domain import AccountType
from ledger.services.clinics import district_account
from ledger.services.reading import balance
from tests.api.helpers import ClinicSetup, new_clinic, patient_body

DISTRICT = "11545"  # 금천구


class Year:
    """The district's people and the running record a test checks the reports against."""

    def __init__(self, client: TestClient, city: dict[str, str], key_for: Any, clock: Any):
        self.client, self.clock = client, clock
        self.centre = key_for("health_center", district=DISTRICT)
        self.a = new_clinic(client, city, key_for, district=DISTRICT)
        self.b = new_clinic(client, city, key_for, district=DISTRICT)
        self.eye = new_clinic(client, city, key_for, district=DISTRICT, kind="ophthalmology")
        self.accrued = 0  # patients' awards, by hand
        self.used = 0

    def on(self, day: str) -> Year:
        self.clock(dt.date.fromisoformat(day))
        return self

    def register(self, clinic: ClinicSetup, enrolled_on: str) -> dict[str, Any]:
        self.on(enrolled_on)
        response = self.client.post(
            "/v1/patients", headers=clinic.headers, json=patient_body(enrolled_on=enrolled_on)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        self.accrued += sum(a["amount"] for a in body["awards"] if a["beneficiary"] == "patient")
        return body

    def visit(
        self, clinic: ClinicSetup, patient: dict[str, Any], visited_on: str, **readings: Any
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/patients/{patient['id']}/visits",
            headers=clinic.headers,
            json={"visited_on": visited_on, **readings},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        self.accrued += sum(a["amount"] for a in body["awards"] if a["beneficiary"] == "patient")
        return body

    def spend(
        self, clinic: ClinicSetup, patient: dict[str, Any], amount: int, purpose: str, spent_on: str
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/patients/{patient['id']}/redemptions",
            headers=clinic.headers,
            json={"amount": amount, "purpose": purpose, "spent_on": spent_on},
        )
        assert response.status_code == 201, response.text
        self.used += amount
        return response.json()

    def settle(self, year: int, quarter: int) -> dict[str, Any]:
        response = self.client.post(
            "/v1/settlements",
            headers=self.centre,
            json={"district": DISTRICT, "year": year, "quarter": quarter},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def close(self, settlement: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/settlements/{settlement['id']}/close", headers=self.centre
        )
        assert response.status_code == 200, response.text
        return response.json()

    def line(self, settlement: dict[str, Any], clinic: ClinicSetup) -> dict[str, int]:
        found = next(x for x in settlement["lines"] if x["clinic_id"] == clinic.id)
        return {k: found[k] for k in ("earned", "reimbursed", "corrections", "payout")}


def test_a_year_settled_by_quarter_with_a_late_visit_and_a_reversal_after_a_close(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    clock: Any,
    sessions: sessionmaker[Session],
) -> None:
    y = Year(client, city, key_for, clock)
    p1 = y.register(y.a, "2024-01-10")
    y.on("2024-02-05")
    feb_visit = y.visit(y.a, p1, "2024-02-05")
    p2 = y.register(y.b, "2024-03-20")

    y.on("2024-03-31")
    early = client.post(f"/v1/settlements/{y.settle(2024, 1)['id']}/close", headers=y.centre)
    assert early.status_code == 409 and early.json()["code"] == "quarter_not_ended"

    y.on("2024-04-02")
    q1 = y.close(y.settle(2024, 1))
    assert q1["status"] == "closed"
    assert y.line(q1, y.a) == {
        "earned": 12_000,
        "reimbursed": 0,
        "corrections": 0,
        "payout": 12_000,
    }
    assert y.line(q1, y.b) == {
        "earned": 10_000,
        "reimbursed": 0,
        "corrections": 0,
        "payout": 10_000,
    }
    assert q1["total"] == 22_000
    assert y.close(q1) == q1  # closing again changes nothing

    # A visit of 25 March entered on 3 April: its quarter is closed, so Q2 corrects it.
    y.on("2024-04-03")
    y.visit(y.b, p2, "2024-03-25")
    # The health centre takes back P1's February visit (wrong patient): Q2 again.
    y.on("2024-04-05")
    reversal = client.post(
        f"/v1/transactions/{feb_visit['transaction_id']}/reversal",
        headers=y.centre,
        json={"reason": "recorded for the wrong patient"},
    )
    assert reversal.status_code == 201
    y.accrued -= 1_000
    y.on("2024-04-10")
    y.spend(y.eye, p1, 3_000, "eye_exam", "2024-04-10")
    y.on("2024-05-07")
    y.visit(y.a, p1, "2024-05-07", systolic=121, diastolic=79)

    y.on("2024-07-01")
    assert client.get(f"/v1/settlements/{q1['id']}", headers=y.centre).json() == q1
    q2 = y.close(y.settle(2024, 2))
    assert y.line(q2, y.a) == {"earned": 2_000, "reimbursed": 0, "corrections": -2_000, "payout": 0}
    assert y.line(q2, y.b) == {"earned": 0, "reimbursed": 0, "corrections": 2_000, "payout": 2_000}
    assert y.line(q2, y.eye) == {
        "earned": 0,
        "reimbursed": 3_000,
        "corrections": 0,
        "payout": 3_000,
    }
    assert q2["total"] == 5_000
    assert client.get(f"/v1/settlements/{q1['id']}", headers=y.centre).json() == q1

    with session_scope(sessions) as session:
        payable = balance(
            session, district_account(session, DISTRICT, AccountType.DISTRICT_PAYABLE)
        )
    assert payable == q1["total"] + q2["total"]

    paid = client.post(
        f"/v1/settlements/{q2['id']}/payments",
        headers=y.centre,
        json={"clinic_id": y.eye.id, "paid_on": "2024-07-05", "reference": "농협 123-45"},
    )
    assert paid.status_code == 200
    eye_line = next(x for x in paid.json()["lines"] if x["clinic_id"] == y.eye.id)
    assert (eye_line["status"], eye_line["paid_on"]) == ("paid", "2024-07-05")
    again = client.post(
        f"/v1/settlements/{q2['id']}/payments",
        headers=y.centre,
        json={"clinic_id": y.eye.id, "paid_on": "2024-07-06", "reference": "again"},
    )
    assert again.status_code == 409 and again.json()["code"] == "already_paid"

    # Reports: the usage rate from the raw events, by hand.
    report = client.get("/v1/reports/districts", headers=y.centre, params={"year": 2024}).json()
    row = next(r for r in report["items"] if r["district"] == DISTRICT)
    assert (row["accrued"], row["used"]) == (y.accrued, y.used)
    assert row["usage_rate"] == round(y.used / y.accrued, 4)
    assert row["visits"] == 3 and row["registered"] == 2
    assert (row["clinics_chronic"], row["clinics_ophthalmology"]) == (2, 1)


def test_quarters_close_in_order(
    client: TestClient, city: dict[str, str], key_for: Any, clock: Any
) -> None:
    y = Year(client, city, key_for, clock)
    y.on("2025-02-01")
    patient = y.register(y.a, "2025-02-01")
    y.on("2025-05-02")
    y.visit(y.a, patient, "2025-05-02")
    y.on("2025-07-02")
    q2 = y.settle(2025, 2)
    refused = client.post(f"/v1/settlements/{q2['id']}/close", headers=y.centre)
    assert refused.status_code == 409 and refused.json()["code"] == "earlier_quarter_open"
    again = y.settle(2025, 2)
    assert again["id"] == q2["id"]  # the same settlement, recomputed while a draft


def test_settlement_files_carry_the_totals(
    client: TestClient, city: dict[str, str], key_for: Any, clock: Any
) -> None:
    y = Year(client, city, key_for, clock)
    patient = y.register(y.a, "2026-01-05")
    y.on("2026-01-20")
    y.visit(y.a, patient, "2026-01-20")
    y.spend(y.b, patient, 3_000, "treatment", "2026-01-20")
    y.on("2026-04-01")
    q1 = y.settle(2026, 1)
    url = f"/v1/settlements/{q1['id']}"

    raw = client.get(url, headers=y.centre, params={"format": "csv"})
    assert raw.headers["content-type"].startswith("text/csv")
    assert raw.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.content.decode("utf-8-sig"))))
    assert rows[0][:6] == [
        "의료기관 ID",
        "의료기관명",
        "적립(기관)",
        "사용(상환)",
        "정정",
        "지급액",
    ]
    by_clinic = {r[0]: [int(v) for v in r[2:6]] for r in rows[1:-1]}
    assert by_clinic == {
        line["clinic_id"]: [line["earned"], line["reimbursed"], line["corrections"], line["payout"]]
        for line in q1["lines"]
    }
    assert rows[-1][0] == "합계" and int(rows[-1][5]) == q1["total"] == 15_000

    xlsx = client.get(url, headers=y.centre, params={"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    sheet = book.worksheets[0]
    assert "2026년 1분기 금천구" in sheet["A1"].value
    header = [c.value for c in sheet[3]]
    assert header[5] == "지급액"
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "합계" and last[5] == 15_000
    assert sheet.cell(sheet.max_row, 6).number_format == "#,##0"
    names = {c.value for c in sheet["B"][3:-1]}
    assert names == {line["clinic_name"] for line in q1["lines"]}
    grant = book["교부신청"]
    assert [c.value for c in grant[5]] == ["신청 금액 (원)", 15_000]


def test_two_clinics_spending_one_balance_at_once_cannot_both_succeed(
    client: TestClient, city: dict[str, str], key_for: Any, clock: Any
) -> None:
    y = Year(client, city, key_for, clock)
    patient = y.register(y.a, "2026-03-02")
    y.visit(y.a, patient, "2026-03-02")  # 3,000 + 1,000 = 4,000
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def spend(clinic: ClinicSetup) -> None:
        barrier.wait()
        answers.append(
            client.post(
                f"/v1/patients/{patient['id']}/redemptions",
                headers=clinic.headers,
                json={"amount": 3_000, "purpose": "treatment", "spent_on": "2026-03-02"},
            )
        )

    threads = [threading.Thread(target=spend, args=(c,)) for c in (y.a, y.b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 422]
    refused = next(a for a in answers if a.status_code == 422).json()
    assert refused["code"] in ("insufficient_balance", "below_threshold")
    read = client.get(f"/v1/patients/{patient['id']}", headers=y.a.headers).json()
    assert read["balance"] == 1_000
