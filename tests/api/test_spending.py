"""Spending rows of the contract: each refusal has its code and books nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import new_clinic, new_patient


def spend(client: TestClient, headers: dict[str, str], patient: dict[str, Any], **body: Any):
    body = {"amount": 3_000, "purpose": "treatment", "spent_on": "2024-06-14", **body}
    return client.post(f"/v1/patients/{patient['id']}/redemptions", headers=headers, json=body)


def balance(client: TestClient, headers: dict[str, str], patient: dict[str, Any]) -> int:
    return client.get(f"/v1/patients/{patient['id']}", headers=headers).json()["balance"]


def test_spending_at_a_clinic_of_the_district_moves_the_balance(
    client: TestClient, city, key_for
) -> None:
    home, other = new_clinic(client, city, key_for), new_clinic(client, city, key_for)
    patient = new_patient(client, home)
    spent = spend(client, other.headers, patient, amount=2_000, purpose="vaccination")
    assert spent.status_code == 201
    body = spent.json()
    assert (body["balance"], body["amount"], body["clinic_id"]) == (1_000, 2_000, other.id)
    assert body["transaction_id"] and body["id"]
    statement = client.get(
        f"/v1/patients/{patient['id']}/statement", headers=home.headers, params={"year": 2024}
    ).json()
    assert statement["entries"][-1]["purpose"] == "vaccination"
    assert statement["entries"][-1]["amount"] == -2_000


def test_refusals_have_their_codes_and_book_nothing(client: TestClient, city, key_for) -> None:
    home = new_clinic(client, city, key_for)
    eye = new_clinic(client, city, key_for, kind="ophthalmology")
    far = new_clinic(client, city, key_for, district="11215")
    patient = new_patient(client, home)  # 3,000 M
    cases = [
        (home.headers, {"amount": 3_001}, "insufficient_balance"),
        (home.headers, {"purpose": "eye_exam"}, "purpose_not_allowed"),
        (eye.headers, {"purpose": "treatment"}, "purpose_not_allowed"),
        (far.headers, {}, "out_of_district"),
        (home.headers, {"spent_on": "2024-06-15"}, "future_date"),
        (home.headers, {"amount": 0}, "invalid"),
    ]
    for headers, body, code in cases:
        answer = spend(client, headers, patient, **body)
        assert (answer.status_code, answer.json()["code"]) == (422, code), (body, answer.text)
    assert balance(client, home.headers, patient) == 3_000
    assert spend(client, eye.headers, patient, purpose="eye_exam").status_code == 201


def test_below_the_threshold_nothing_can_be_spent(client: TestClient, city, key_for) -> None:
    home = new_clinic(client, city, key_for)
    patient = new_patient(client, home)
    assert spend(client, home.headers, patient, amount=1_000).status_code == 201
    refused = spend(client, home.headers, patient, amount=1_000)
    assert (refused.status_code, refused.json()["code"]) == (422, "below_threshold")
    assert balance(client, home.headers, patient) == 2_000


def test_a_clinic_voids_its_own_mistaken_spend(client: TestClient, city, key_for) -> None:
    home, other = new_clinic(client, city, key_for), new_clinic(client, city, key_for)
    patient = new_patient(client, home)
    spent = spend(client, home.headers, patient).json()
    url = f"/v1/transactions/{spent['transaction_id']}/void"
    assert client.post(url, headers=other.headers, json={"reason": "x"}).status_code == 404
    voided = client.post(url, headers=home.headers, json={"reason": "typed the wrong amount"})
    assert voided.status_code == 201
    assert balance(client, home.headers, patient) == 3_000
    again = client.post(url, headers=home.headers, json={"reason": "again"})
    assert (again.status_code, again.json()["code"]) == (409, "already_reversed")
