"""Only the programme's events are corrected by a reversal or a void; a patient who left the
programme spends nothing.

A settlement's payout reversed would land as a positive correction in the next quarter and
pay the closed quarter twice; a payment, a forfeiture or a reversal undone would leave the
books saying what did not happen. Each is refused with 409 ``not_reversible`` and books
nothing (``ledger.vocabulary.CORRECTABLE_KINDS``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.deps import get_now
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import Patient, SettlementLine, Transaction
from tests.api.helpers import ClinicSetup, new_clinic, new_patient, patient_body

SETTLED = "11545"  # 금천구: its 2024 Q1 is closed once, for the module
OTHER = "11260"  # 중랑구


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return dict(body)


def transactions(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return int(session.execute(select(func.count()).select_from(Transaction)).scalar_one())


class ClosedQuarter:
    """A district whose 2024 Q1 is closed (its payout booked) and whose clinic is paid."""

    def __init__(
        self,
        client: TestClient,
        city: dict[str, str],
        key_for: Any,
        clock: Callable[[dt.date], None],
        sessions: sessionmaker[Session],
    ) -> None:
        self.client = client
        self.centre = key_for("health_center", district=SETTLED)
        clock(dt.date(2024, 1, 10))
        self.clinic: ClinicSetup = new_clinic(client, city, key_for, district=SETTLED)
        self.patient = new_patient(client, self.clinic, enrolled_on="2024-01-10")
        clock(dt.date(2024, 4, 2))
        draft = client.post(
            "/v1/settlements",
            headers=self.centre,
            json={"district": SETTLED, "year": 2024, "quarter": 1},
        )
        closed = client.post(f"/v1/settlements/{draft.json()['id']}/close", headers=self.centre)
        assert closed.status_code == 200, closed.text
        self.settlement = closed.json()
        assert self.settlement["total"] > 0
        paid = client.post(
            f"/v1/settlements/{self.settlement['id']}/payments",
            headers=self.centre,
            json={"clinic_id": self.clinic.id, "paid_on": "2024-04-02", "reference": "BANK-1"},
        )
        assert paid.status_code == 200, paid.text
        with session_scope(sessions) as session:
            self.payment = session.execute(
                select(SettlementLine.payment_transaction_id).where(
                    SettlementLine.settlement_id == self.settlement["id"]
                )
            ).scalar_one()

    def reverse(self, transaction_id: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            f"/v1/transactions/{transaction_id}/reversal",
            headers=headers or self.centre,
            json={"reason": "reversed by mistake"},
        )


@pytest.fixture(scope="module")
def quarter(
    app: FastAPI,
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    sessions: sessionmaker[Session],
) -> Iterator[ClosedQuarter]:
    def clock(day: dt.date) -> None:  # module fixtures precede the `clock` fixture
        moment = dt.datetime.combine(day, dt.time(12), SEOUL)
        app.dependency_overrides[get_now] = lambda: moment

    yield ClosedQuarter(client, city, key_for, clock, sessions)
    app.dependency_overrides.pop(get_now, None)


def test_a_settlement_payout_cannot_be_reversed(
    quarter: ClosedQuarter, city: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    before = transactions(sessions)
    payout = quarter.settlement["transaction_id"]
    refused = problem(quarter.reverse(payout), 409, "not_reversible")
    assert "settlement" in refused["detail"]
    problem(quarter.reverse(payout, city), 409, "not_reversible")
    assert transactions(sessions) == before
    # the next quarter holds no correction taking the payout back (or paying it twice)
    q2 = quarter.client.post(
        "/v1/settlements",
        headers=quarter.centre,
        json={"district": quarter.settlement["district"], "year": 2024, "quarter": 2},
    ).json()
    assert all(line["corrections"] == 0 for line in q2["lines"])


def test_a_payment_cannot_be_reversed(
    quarter: ClosedQuarter, city: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    before = transactions(sessions)
    problem(quarter.reverse(quarter.payment), 409, "not_reversible")
    problem(quarter.reverse(quarter.payment, city), 409, "not_reversible")
    assert transactions(sessions) == before


def test_a_clinic_cannot_void_its_payment(
    quarter: ClosedQuarter, sessions: sessionmaker[Session]
) -> None:
    before = transactions(sessions)
    voided = quarter.client.post(
        f"/v1/transactions/{quarter.payment}/void",
        headers=quarter.clinic.headers,
        json={"reason": "not paid after all"},
    )
    problem(voided, 409, "not_reversible")
    assert transactions(sessions) == before


def test_a_forfeiture_cannot_be_reversed(
    client: TestClient, city: dict[str, str], key_for: Any, sessions: sessionmaker[Session]
) -> None:
    clinic = new_clinic(client, city, key_for, district=OTHER)
    patient = new_patient(client, clinic)
    left = client.post(
        f"/v1/patients/{patient['id']}/leaving",
        headers=clinic.headers,
        json={"status": "withdrawn"},
    )
    assert left.status_code == 200, left.text
    with session_scope(sessions) as session:
        forfeiture = session.get_one(Patient, patient["id"]).leaving_transaction_id
    assert forfeiture is not None
    before = transactions(sessions)
    centre = key_for("health_center", district=OTHER)
    for headers in (centre, city):
        reversal = client.post(
            f"/v1/transactions/{forfeiture}/reversal", headers=headers, json={"reason": "oops"}
        )
        problem(reversal, 409, "not_reversible")
    assert transactions(sessions) == before


def test_a_reversal_cannot_be_reversed(
    client: TestClient, city: dict[str, str], key_for: Any
) -> None:
    clinic = new_clinic(client, city, key_for, district=OTHER)
    patient = new_patient(client, clinic)
    first = client.post(
        f"/v1/transactions/{patient['transaction_id']}/reversal",
        headers=city,
        json={"reason": "registered by mistake"},
    )
    assert first.status_code == 201, first.text
    again = client.post(
        f"/v1/transactions/{first.json()['transaction_id']}/reversal",
        headers=city,
        json={"reason": "undo the undo"},
    )
    problem(again, 409, "not_reversible")


def test_the_programmes_events_are_still_corrected(
    client: TestClient, city: dict[str, str], key_for: Any
) -> None:
    """Enrolment, visit, education attendance and redemption: each may be reversed."""
    centre = key_for("health_center", district=OTHER)
    clinic = new_clinic(client, city, key_for, district=OTHER)
    patient = new_patient(client, clinic)
    visit = client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-10"},
    ).json()
    education = client.post(
        "/v1/education-sessions",
        headers=centre,
        json={"held_on": "2024-06-11", "condition": "diabetes", "title": "당뇨 교실"},
    ).json()
    attended = client.post(
        f"/v1/education-sessions/{education['id']}/attendance",
        headers=centre,
        json={"patient_id": patient["id"]},
    ).json()
    spent = client.post(
        f"/v1/patients/{patient['id']}/redemptions",
        headers=clinic.headers,
        json={"amount": 3_000, "purpose": "treatment", "spent_on": "2024-06-12"},
    ).json()
    for booked in (spent, attended, visit, patient):
        reversal = client.post(
            f"/v1/transactions/{booked['transaction_id']}/reversal",
            headers=centre,
            json={"reason": "entered by mistake"},
        )
        assert reversal.status_code == 201, reversal.text


@pytest.mark.parametrize("status", ["deceased", "withdrawn", "moved"])
def test_a_patient_who_left_the_programme_spends_nothing(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    sessions: sessionmaker[Session],
    status: str,
) -> None:
    home = new_clinic(client, city, key_for, district=OTHER)
    other = new_clinic(client, city, key_for, district=OTHER)
    patient = client.post(
        "/v1/patients",
        headers=home.headers,
        json=patient_body(enrolled_on="2024-06-01"),
    ).json()
    left = client.post(
        f"/v1/patients/{patient['id']}/leaving",
        headers=home.headers,
        json={"status": status, "on": "2024-06-13"},
    )
    assert left.status_code == 200, left.text
    before = transactions(sessions)
    for clinic in (home, other):
        refused = client.post(
            f"/v1/patients/{patient['id']}/redemptions",
            headers=clinic.headers,
            json={"amount": 1_000, "purpose": "treatment", "spent_on": "2024-06-14"},
        )
        body = problem(refused, 409, "patient_not_active")
        assert status not in body["detail"] and "2024-06-13" not in body["detail"]
    assert transactions(sessions) == before
