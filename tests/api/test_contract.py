"""The HTTP contract, row by row (shared/docs/api.md): statuses, bodies and codes as written."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import new_clinic, new_patient, patient_body

PROBLEM = "application/problem+json"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    return body


# Health -----------------------------------------------------------------------------------


def test_health_answers_without_a_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


# Authentication and errors ----------------------------------------------------------------


def test_no_key_or_a_bad_key_is_401(client: TestClient) -> None:
    problem(client.get("/v1/districts"), 401, "unauthenticated")
    problem(
        client.get("/v1/districts", headers={"Authorization": "Bearer nope.nope"}),
        401,
        "unauthenticated",
    )
    problem(
        client.get("/v1/districts", headers={"Authorization": "Basic abc"}), 401, "unauthenticated"
    )


def test_a_revoked_key_is_401(client: TestClient, key_for, city) -> None:
    headers = key_for("health_center", district="11740")
    key_id = headers["Authorization"].split()[1].split(".")[0]
    assert client.post(f"/v1/keys/{key_id}/revocation", headers=city).status_code == 200
    problem(client.get("/v1/districts", headers=headers), 401, "unauthenticated")


def test_unknown_paths_and_methods_are_problems(client: TestClient, city) -> None:
    problem(client.get("/v1/nothing-here", headers=city), 404, "not_found")
    problem(client.delete("/v1/districts", headers=city), 405, "method_not_allowed")


def test_a_validation_error_lists_the_offending_fields(client: TestClient, city) -> None:
    body = problem(
        client.post("/v1/clinics", headers=city, json={"name": "", "kind": "dental"}),
        422,
        "invalid",
    )
    assert {f["field"] for f in body["fields"]} >= {"name", "kind", "district"}


def test_a_body_that_is_not_json_is_a_422_problem(client: TestClient, city) -> None:
    response = client.post(
        "/v1/clinics", headers={**city, "Content-Type": "application/json"}, content=b"{nope"
    )
    problem(response, 422, "invalid")


# Registry ---------------------------------------------------------------------------------


def test_districts_are_all_25_with_the_participating_flag(client: TestClient, city) -> None:
    first = client.get("/v1/districts", headers=city, params={"limit": 20}).json()
    rest = client.get(
        "/v1/districts", headers=city, params={"limit": 20, "cursor": first["next_cursor"]}
    ).json()
    items = first["items"] + rest["items"]
    assert len(items) == 25 and rest["next_cursor"] is None
    by_code = {d["code"]: d for d in items}
    assert by_code["11215"] == {"code": "11215", "name": "광진구", "participating": True}
    assert by_code["11680"]["participating"] is False
    assert sum(d["participating"] for d in items) == 15


def test_a_clinic_is_created_by_the_city_or_its_health_centre(
    client: TestClient, city, key_for
) -> None:
    centre = key_for("health_center", district="11215")
    created = client.post(
        "/v1/clinics",
        headers=centre,
        json={"name": "광진 가정의학과", "kind": "chronic", "district": "11215"},
    )
    assert created.status_code == 201
    clinic = created.json()
    assert clinic["participating_since"] == "2024-06-14"  # today, by default
    assert clinic["id"]
    problem(
        client.post(
            "/v1/clinics",
            headers=centre,
            json={"name": "남의 구 의원", "kind": "chronic", "district": "11740"},
        ),
        403,
        "forbidden",
    )
    listed = client.get("/v1/clinics", headers=city, params={"district": "11215"}).json()
    assert clinic["id"] in [c["id"] for c in listed["items"]]


def test_a_clinic_lists_only_itself(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    new_clinic(client, city, key_for)
    items = client.get("/v1/clinics", headers=clinic.headers).json()["items"]
    assert [c["id"] for c in items] == [clinic.id]


def test_registering_a_patient_answers_with_balance_and_awards(
    client: TestClient, city, key_for
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic, phone="010 2222 3333")
    assert patient["phone"] == "+821022223333"
    assert patient["clinic_id"] == clinic.id and patient["district"] == "11740"
    assert patient["balance"] == 3_000
    assert patient["awards"] == [
        {
            "beneficiary": "patient",
            "rule": "enrolment",
            "amount": 3_000,
            "clipped": 0,
            "reason": None,
        },
        {
            "beneficiary": "clinic",
            "rule": "enrolment",
            "amount": 10_000,
            "clipped": 0,
            "reason": None,
        },
    ]
    assert patient["transaction_id"]


def test_the_same_person_twice_is_409_with_the_existing_id(
    client: TestClient, city, key_for
) -> None:
    clinic = new_clinic(client, city, key_for)
    body = patient_body(phone="010-4444-5555")
    first = client.post("/v1/patients", headers=clinic.headers, json=body).json()
    again = client.post(
        "/v1/patients", headers=clinic.headers, json={**body, "phone": "+82 10 4444 5555"}
    )
    assert problem(again, 409, "duplicate_patient")["id"] == first["id"]


def test_a_landline_is_refused_as_invalid(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    body = problem(
        client.post("/v1/patients", headers=clinic.headers, json=patient_body(phone="02-123-4567")),
        422,
        "invalid",
    )
    assert body["fields"][0]["field"] == "phone"


def test_reading_a_patient_shows_this_years_earnings_and_cap(
    client: TestClient, city, key_for
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    read = client.get(f"/v1/patients/{patient['id']}", headers=clinic.headers).json()
    assert read["conditions"] == ["hypertension", "diabetes"]
    assert read["sms_consent"] is True
    assert (read["balance"], read["earned_this_year"], read["cap_remaining"]) == (
        3_000,
        3_000,
        32_000,
    )
    for headers in (city, key_for("health_center", district="11740")):
        assert client.get(f"/v1/patients/{patient['id']}", headers=headers).status_code == 200
    problem(
        client.get(
            f"/v1/patients/{patient['id']}", headers=key_for("health_center", district="11215")
        ),
        404,
        "not_found",
    )


def test_a_patient_is_looked_up_by_name_birth_date_and_phone(
    client: TestClient, city, key_for
) -> None:
    home = new_clinic(client, city, key_for)
    patient = new_patient(client, home, name="이영희", phone="010-7777-8888")
    elsewhere = new_clinic(client, city, key_for)  # same district: the patient may spend there
    query = {"name": "이영희", "birth_date": "1956-09-30", "phone": "01077778888"}
    found = client.post("/v1/patient-lookups", headers=elsewhere.headers, json=query)
    assert found.json() == {"id": patient["id"], "balance": 3_000}
    far = new_clinic(client, city, key_for, district="11215")
    problem(client.post("/v1/patient-lookups", headers=far.headers, json=query), 404, "not_found")
    problem(
        client.post("/v1/patient-lookups", headers=home.headers, json={**query, "name": "이영수"}),
        404,
        "not_found",
    )


def test_patching_consent_phone_and_conditions(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    patched = client.patch(
        f"/v1/patients/{patient['id']}",
        headers=clinic.headers,
        json={"sms_consent": False, "phone": "010-9999-0000", "conditions": ["diabetes"]},
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["sms_consent"], body["phone"], body["conditions"]) == (
        False,
        "+821099990000",
        ["diabetes"],
    )


# Earning ----------------------------------------------------------------------------------


def test_a_visit_answers_with_awards_and_balance(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    visit = client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={
            "visited_on": "2024-06-10",
            "systolic": 128,
            "diastolic": 82,
            "hba1c": "6.4",
            "next_visit_on": "2024-07-10",
        },
    )
    assert visit.status_code == 201
    body = visit.json()
    assert body["balance"] == 3_000 + 1_000 + 2_000
    assert [(a["beneficiary"], a["rule"], a["amount"]) for a in body["awards"]] == [
        ("patient", "visit", 1_000),
        ("clinic", "visit", 2_000),
        ("patient", "control", 2_000),
    ]
    again = client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-12"},
    ).json()
    assert again["awards"][0] == {
        "beneficiary": "patient",
        "rule": "visit",
        "amount": 0,
        "clipped": 1_000,
        "reason": "monthly_limit",
    }


def test_event_dates_are_checked_future_then_late_then_enrolment(
    client: TestClient, city, key_for, clock
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic, enrolled_on="2024-06-01")
    url = f"/v1/patients/{patient['id']}/visits"
    problem(
        client.post(url, headers=clinic.headers, json={"visited_on": "2024-06-15"}),
        422,
        "future_date",
    )
    problem(
        client.post(url, headers=clinic.headers, json={"visited_on": "2024-05-01"}),
        422,
        "late_entry",
    )
    problem(
        client.post(url, headers=clinic.headers, json={"visited_on": "2024-05-31"}),
        422,
        "before_enrolment",
    )
    clock(dt.date(2024, 7, 15))
    problem(
        client.post(url, headers=clinic.headers, json={"visited_on": "2024-05-31"}),
        422,
        "late_entry",
    )


def test_only_the_patients_clinic_records_its_visits(client: TestClient, city, key_for) -> None:
    clinic, other = new_clinic(client, city, key_for), new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    url = f"/v1/patients/{patient['id']}/visits"
    problem(
        client.post(url, headers=other.headers, json={"visited_on": "2024-06-10"}), 404, "not_found"
    )
    problem(client.post(url, headers=city, json={"visited_on": "2024-06-10"}), 403, "forbidden")


def test_education_attendance_awards_once_per_session(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    centre = key_for("health_center", district="11740")
    session = client.post(
        "/v1/education-sessions",
        headers=centre,
        json={"held_on": "2024-06-11", "condition": "diabetes", "title": "당뇨 식사요법"},
    )
    assert session.status_code == 201
    session_id = session.json()["id"]
    url = f"/v1/education-sessions/{session_id}/attendance"
    attended = client.post(url, headers=centre, json={"patient_id": patient["id"]})
    assert attended.status_code == 201
    assert attended.json()["awards"][0]["amount"] == 3_000
    assert attended.json()["balance"] == 6_000
    problem(
        client.post(url, headers=clinic.headers, json={"patient_id": patient["id"]}),
        409,
        "already_attended",
    )


def test_a_clinic_holds_its_own_class(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    created = client.post(
        "/v1/education-sessions",
        headers=clinic.headers,
        json={"held_on": "2024-06-11", "condition": "hypertension", "title": "혈압 바로알기"},
    ).json()
    assert created["clinic_id"] == clinic.id
    attended = client.post(
        f"/v1/education-sessions/{created['id']}/attendance",
        headers=clinic.headers,
        json={"patient_id": patient["id"]},
    )
    assert attended.status_code == 201
    problem(
        client.post(
            "/v1/education-sessions",
            headers=city,
            json={"held_on": "2024-06-11", "condition": "diabetes", "title": "x"},
        ),
        403,
        "forbidden",
    )


# Ledger -----------------------------------------------------------------------------------


def test_the_patient_statement_has_running_balances(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic, enrolled_on="2024-06-01")
    client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-03"},
    )
    statement = client.get(
        f"/v1/patients/{patient['id']}/statement", headers=clinic.headers, params={"year": 2024}
    ).json()
    assert statement["opening_balance"] == 0
    assert [(e["date"], e["rule"], e["amount"], e["balance"]) for e in statement["entries"]] == [
        ("2024-06-01", "enrolment", 3_000, 3_000),
        ("2024-06-03", "visit", 1_000, 4_000),
    ]
    assert statement["closing_balance"] == 4_000
    next_year = client.get(
        f"/v1/patients/{patient['id']}/statement", headers=clinic.headers, params={"year": 2025}
    ).json()
    assert (next_year["opening_balance"], next_year["entries"]) == (4_000, [])


def test_the_clinic_statement_totals_a_quarter(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic, enrolled_on="2024-06-01")
    client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-03"},
    )
    q2 = client.get(
        f"/v1/clinics/{clinic.id}/statement",
        headers=clinic.headers,
        params={"year": 2024, "quarter": 2},
    ).json()
    assert (q2["earned"], q2["reimbursed"], q2["total"]) == (12_000, 0, 12_000)
    assert [e["rule"] for e in q2["entries"]] == ["enrolment", "visit"]
    q1 = client.get(
        f"/v1/clinics/{clinic.id}/statement",
        headers=clinic.headers,
        params={"year": 2024, "quarter": 1},
    ).json()
    assert q1["total"] == 0


def test_a_transaction_is_reversed_once_by_its_health_centre(
    client: TestClient, city, key_for
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    visit = client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-10"},
    ).json()
    url = f"/v1/transactions/{visit['transaction_id']}/reversal"
    problem(client.post(url, headers=clinic.headers, json={"reason": "wrong"}), 403, "forbidden")
    problem(
        client.post(
            url, headers=key_for("health_center", district="11215"), json={"reason": "wrong"}
        ),
        404,
        "not_found",
    )
    centre = key_for("health_center", district="11740")
    reversed_ = client.post(url, headers=centre, json={"reason": "recorded for the wrong patient"})
    assert reversed_.status_code == 201
    assert reversed_.json()["reverses"] == visit["transaction_id"]
    assert reversed_.json()["transaction_id"] != visit["transaction_id"]
    assert client.get(f"/v1/patients/{patient['id']}", headers=centre).json()["balance"] == 3_000
    problem(client.post(url, headers=city, json={"reason": "again"}), 409, "already_reversed")
    problem(
        client.post("/v1/transactions/999999999/reversal", headers=city, json={"reason": "x"}),
        404,
        "not_found",
    )


# Idempotency ------------------------------------------------------------------------------


def test_a_repeat_with_the_same_key_returns_the_first_answer(
    client: TestClient, city, key_for
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    headers = {**clinic.headers, "Idempotency-Key": f"visit-{patient['id']}"}
    url = f"/v1/patients/{patient['id']}/visits"
    first = client.post(url, headers=headers, json={"visited_on": "2024-06-10"})
    again = client.post(url, headers=headers, json={"visited_on": "2024-06-10"})
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert (
        client.get(f"/v1/patients/{patient['id']}", headers=clinic.headers).json()["balance"]
        == 4_000
    )
    reused = client.post(url, headers=headers, json={"visited_on": "2024-06-11"})
    problem(reused, 422, "idempotency_key_reused")


def test_a_refusal_is_replayed_too(client: TestClient, city, key_for) -> None:
    clinic = new_clinic(client, city, key_for)
    headers = {**clinic.headers, "Idempotency-Key": "bad-phone-1"}
    body = patient_body(phone="02-555-5555")
    first = client.post("/v1/patients", headers=headers, json=body)
    again = client.post("/v1/patients", headers=headers, json=body)
    assert first.status_code == again.status_code == 422
    assert first.json() == again.json()


def test_two_identical_requests_in_flight_book_once(
    app, client: TestClient, city, key_for, monkeypatch
) -> None:
    from api.routes import earning

    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    inside, release = threading.Event(), threading.Event()
    real = earning.earning.record_visit

    def slow_record_visit(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        assert release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(earning.earning, "record_visit", slow_record_visit)
    headers = {**clinic.headers, "Idempotency-Key": f"twin-{patient['id']}"}
    url = f"/v1/patients/{patient['id']}/visits"
    answers: list[Any] = []
    first = threading.Thread(
        target=lambda: answers.append(
            client.post(url, headers=headers, json={"visited_on": "2024-06-10"})
        )
    )
    first.start()
    assert inside.wait(10)
    twin = client.post(url, headers=headers, json={"visited_on": "2024-06-10"})
    release.set()
    first.join(10)
    problem(twin, 409, "request_in_flight")
    assert answers[0].status_code == 201
    monkeypatch.undo()
    replay = client.post(url, headers=headers, json={"visited_on": "2024-06-10"})
    assert replay.json() == answers[0].json()
    balance = client.get(f"/v1/patients/{patient['id']}", headers=clinic.headers).json()["balance"]
    assert balance == 4_000


def test_the_audit_trail_shows_who_read_a_patient_newest_first(
    client: TestClient, city, key_for
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    centre = key_for("health_center", district="11740", label="강동구보건소 박주무관")
    client.get(f"/v1/patients/{patient['id']}", headers=centre)
    trail = client.get("/v1/audit", headers=city, params={"patient_id": patient["id"]}).json()
    assert [(e["action"], e["label"]) for e in trail["items"][:2]] == [
        ("patient.read", "강동구보건소 박주무관"),
        ("patient.create", "test clinic"),
    ]
    assert trail["items"][0]["at"].endswith("+09:00")
    page = client.get(
        "/v1/audit", headers=city, params={"patient_id": patient["id"], "limit": 1}
    ).json()
    rest = client.get(
        "/v1/audit",
        headers=city,
        params={"patient_id": patient["id"], "limit": 1, "cursor": page["next_cursor"]},
    ).json()
    # the city's own reading of the trail is in it too, after the pages it was shown
    assert [page["items"][0]["action"], rest["items"][0]["action"]] == [
        "audit.read",
        "patient.read",
    ]
    assert client.get("/v1/audit", headers=centre).status_code == 403
