"""Unbounded input: no body, nesting, date, id or cursor a caller sends can exhaust the
service, reach a query unparsed or produce a 5xx; each is refused as the rule says.

(Bodies of 256 MiB against a real server process, and its memory: ``test_body_server.py``.)
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import urllib.parse
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.deps import get_today
from ledger.ids import new_id
from ledger.text import unsafe_character
from tests.api.conftest import TODAY
from tests.api.helpers import new_clinic, new_patient, patient_body

A = "11740"
PROBLEM = "application/problem+json"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def fields_of(body: dict[str, Any]) -> set[str]:
    return {f["field"] for f in body.get("fields") or []}


@pytest.fixture(scope="module")
def world(app: FastAPI, client: TestClient, city: dict[str, str], key_for: Any) -> dict[str, Any]:
    """A clinic of district A with a patient, its health centre's key, and their ids."""
    app.dependency_overrides[get_today] = lambda: TODAY  # module fixtures precede `clock`
    clinic = new_clinic(client, city, key_for, district=A)
    patient = new_patient(client, clinic)
    app.dependency_overrides.pop(get_today, None)
    keys = {
        "city": city,
        "clinic": clinic.headers,
        "health_center": key_for("health_center", district=A),
        "anonymous": {},
    }
    return {"keys": keys, "patient_id": patient["id"], "clinic_id": clinic.id}


# -- bodies: at most MILEAGE_MAX_BODY_BYTES, refused while they stream --------------------------

ROUTES_WITH_BODIES = [
    ("POST", "/v1/patients", "clinic"),
    ("POST", "/v1/patients/{patient_id}/visits", "clinic"),
    ("PATCH", "/v1/patients/{patient_id}", "clinic"),
    ("PUT", f"/v1/districts/{A}/messaging", "city"),
    ("POST", "/v1/clinics", "anonymous"),
    ("POST", "/v1/webhooks/twilio/status", "anonymous"),
    ("GET", "/v1/districts", "city"),
]


@pytest.mark.parametrize(("method", "path", "who"), ROUTES_WITH_BODIES)
def test_a_body_over_the_limit_is_refused_with_413_on_every_route(
    app: FastAPI, client: TestClient, world: dict[str, Any], method: str, path: str, who: str
) -> None:
    limit = app.state.settings.max_body_bytes
    response = client.request(
        method,
        path.format(**world),
        headers={**world["keys"][who], "Content-Type": "application/json"},
        content=b"[" + b" " * limit + b"]",
    )
    body = problem(response, 413, "body_too_large")
    assert str(limit) in body["detail"]
    assert response.headers["connection"] == "close"  # the rest of the body is not read


def test_a_body_at_the_limit_is_read(
    app: FastAPI, client: TestClient, world: dict[str, Any]
) -> None:
    limit = app.state.settings.max_body_bytes
    prefix = b'{"name": "'
    content = prefix + b"x" * (limit - len(prefix) - 2) + b'"}'
    assert len(content) == limit
    response = client.post(
        "/v1/clinics",
        headers={**world["keys"]["city"], "Content-Type": "application/json"},
        content=content,
    )
    assert "name" in fields_of(problem(response, 422, "invalid"))  # too long a name


def test_an_oversize_post_claims_no_idempotency_key(
    app: FastAPI, client: TestClient, world: dict[str, Any]
) -> None:
    """Refused before the idempotency layer reads it: the key is still free afterwards."""
    headers = {**world["keys"]["clinic"], "Idempotency-Key": "oversize-then-fine"}
    huge = {**patient_body(), "name": "김" * app.state.settings.max_body_bytes}
    problem(client.post("/v1/patients", headers=headers, json=huge), 413, "body_too_large")
    fine = client.post("/v1/patients", headers=headers, json=patient_body())
    assert fine.status_code == 201, fine.text


# -- nesting: at most 32 levels, refused before any parser recurses ----------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    "extra",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "Idempotency-Key": "deep-json"},
        {"Content-Type": "text/plain", "Idempotency-Key": "deep-text"},
        {"Idempotency-Key": "deep-no-type"},
        {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "deep-form"},
    ],
    ids=["json", "json-idempotent", "text-idempotent", "no-type-idempotent", "form-idempotent"],
)
def test_a_body_nested_deeper_than_32_levels_is_invalid(
    client: TestClient, world: dict[str, Any], extra: dict[str, str]
) -> None:
    response = client.post(
        "/v1/patients", headers={**world["keys"]["clinic"], **extra}, content=DEEP
    )
    assert fields_of(problem(response, 422, "invalid")) == {"body"}


def test_a_body_nested_32_levels_deep_goes_on_to_validation(
    client: TestClient, world: dict[str, Any]
) -> None:
    """32 levels (the body's object and 31 lists) pass the bound; the schema judges the rest."""
    content = f'{{"name": {"[" * 31}{"]" * 31}, "conditions": [[], [], "[[[["]}}'.encode()
    response = client.post(
        "/v1/patients",
        headers={**world["keys"]["clinic"], "Content-Type": "application/json"},
        content=content,
    )
    found = fields_of(problem(response, 422, "invalid"))
    assert (
        "body" not in found and "name" in found and any(f.startswith("conditions") for f in found)
    )


# -- dates: within the programme's calendar; a follow-up within a year -------------------------


def test_a_follow_up_on_9999_12_31_is_refused(client: TestClient, world: dict[str, Any]) -> None:
    response = client.post(
        f"/v1/patients/{world['patient_id']}/visits",
        headers=world["keys"]["clinic"],
        json={"visited_on": "2024-06-13", "next_visit_on": "9999-12-31"},
    )
    assert fields_of(problem(response, 422, "invalid")) == {"next_visit_on"}


def test_a_follow_up_is_booked_at_most_a_year_after_the_visit(
    client: TestClient, world: dict[str, Any]
) -> None:
    path, headers = f"/v1/patients/{world['patient_id']}/visits", world["keys"]["clinic"]
    visit = dt.date(2024, 6, 13)
    too_far = {"visited_on": str(visit), "next_visit_on": str(visit + dt.timedelta(days=367))}
    body = problem(client.post(path, headers=headers, json=too_far), 422, "invalid")
    assert body["fields"] == [
        {
            "field": "next_visit_on",
            "message": "a follow-up is booked at most a year after the visit",
        }
    ]
    a_year = {"visited_on": str(visit), "next_visit_on": str(visit + dt.timedelta(days=365))}
    assert client.post(path, headers=headers, json=a_year).status_code == 201


OUTSIDE_THE_CALENDAR = [
    ("POST", "/v1/education-sessions", "clinic", None,
     {"held_on": "0001-01-01", "condition": "diabetes", "title": "교실"}, "held_on"),
    ("POST", "/v1/patients", "clinic", None, patient_body(birth_date="1899-12-31"), "birth_date"),
    ("POST", "/v1/patients", "clinic", None, patient_body(enrolled_on="9999-12-31"), "enrolled_on"),
    ("POST", "/v1/patients/{patient_id}/visits", "clinic", None,
     {"visited_on": "9999-12-31T23:00:00-14:00"}, "visited_on"),
    ("POST", "/v1/patients/{patient_id}/visits", "clinic", None,
     {"visited_on": "0001-01-01T00:00:00+14:00"}, "visited_on"),
    ("POST", "/v1/patients/{patient_id}/redemptions", "clinic", None,
     {"amount": 1000, "purpose": "treatment", "spent_on": "2101-01-01"}, "spent_on"),
    ("GET", "/v1/reports/messages", "city",
     {"district": A, "start": "2024-01-01", "end": "9999-12-31"}, None, "query.end"),
    ("GET", "/v1/audit", "city", {"since": "9999-12-31T23:59:59-14:00"}, None, "query.since"),
    ("GET", "/v1/audit", "city", {"until": "0001-01-01T00:00:00+14:00"}, None, "query.until"),
    ("PUT", f"/v1/districts/{A}/no-send-days/9999-12-31", "city", None, {}, "path.day"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "who", "params", "body", "field"),
    OUTSIDE_THE_CALENDAR,
    ids=[f"{c[0]} {c[1]} {c[5]}" for c in OUTSIDE_THE_CALENDAR],
)
def test_a_date_outside_the_programme_calendar_is_refused(
    client: TestClient,
    world: dict[str, Any],
    method: str,
    path: str,
    who: str,
    params: dict[str, str] | None,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    response = client.request(
        method, path.format(**world), headers=world["keys"][who], params=params, json=body
    )
    assert field in fields_of(problem(response, 422, "invalid"))


def test_a_follow_up_stored_before_dates_were_bounded_does_not_break_the_message_report(
    client: TestClient,
    engine: Engine,
    city: dict[str, str],
    key_for: Any,
    clock: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One patient's impossible row breaks nothing: the dates are compared in SQL, so a
    follow-up in 9999 is simply not missed yet (nothing to skip), and the report counts the
    rest."""
    clinic = new_clinic(client, city, key_for, district=A)
    clock(dt.date(2024, 4, 1))
    new_patient(client, clinic, enrolled_on="2024-04-01")  # no visit since: overdue today
    clock(TODAY)
    bad = new_patient(client, clinic, enrolled_on="2024-06-01")
    visit = client.post(
        f"/v1/patients/{bad['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-03", "next_visit_on": "2024-06-10"},
    )
    assert visit.status_code == 201, visit.text
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE visits SET next_visit_on = :far WHERE patient_id = :id"),
            {"far": dt.date(9999, 12, 31), "id": bad["id"]},
        )

    with caplog.at_level(logging.ERROR, logger="notifications.recalls"):
        response = client.get(
            "/v1/reports/messages",
            headers=city,
            params={"district": A, "start": "2024-01-01", "end": "2024-12-31"},
        )

    assert response.status_code == 200, response.text
    assert response.json()["overdue"] >= 1
    skipped = [r for r in caplog.records if r.getMessage() == "notifications.recalls.row_skipped"]
    assert skipped == []


# -- ids: ASCII only; anything else answers as a missing record ------------------------------

MALFORMED_IDS = ["²", "１２", "\x00", "x" * 5000, "pat_" + "Ｘ" * 26, "ñ", " "]

ROUTES_WITH_IDS = [
    ("GET", "/v1/patients/{}", "city", None),
    ("GET", "/v1/patients/{}/statement?year=2024", "city", None),
    ("GET", "/v1/patients/{}/messages", "city", None),
    ("PATCH", "/v1/patients/{}", "health_center", {"sms_consent": True}),
    ("POST", "/v1/patients/{}/visits", "clinic", {"visited_on": "2024-06-14"}),
    ("POST", "/v1/patients/{}/redemptions", "clinic",
     {"amount": 1000, "purpose": "treatment", "spent_on": "2024-06-14"}),
    ("POST", "/v1/patients/{}/leaving", "clinic", {"status": "withdrawn"}),
    ("GET", "/v1/clinics/{}/statement?year=2024", "city", None),
    ("POST", "/v1/clinics/{}/leaving", "city", {"on": "2024-06-14"}),
    ("GET", "/v1/settlements/{}", "city", None),
    ("POST", "/v1/settlements/{}/close", "health_center", None),
    ("POST", "/v1/keys/{}/revocation", "city", None),
    ("POST", "/v1/education-sessions/{}/attendance", "clinic", {"patient_id": "{patient_id}"}),
    ("POST", "/v1/transactions/{}/reversal", "city", {"reason": "잘못 입력"}),
    ("POST", "/v1/transactions/{}/void", "clinic", {"reason": "잘못 입력"}),
    # ids in bodies
    ("POST", "/v1/education-sessions/{session_id}/attendance", "clinic", {"patient_id": "{}"}),
    ("POST", "/v1/patients/{patient_id}/moves", "clinic", {"clinic_id": "{}"}),
]  # fmt: skip


def _call(
    client: TestClient,
    world: dict[str, Any],
    route: tuple[str, str, str, dict[str, Any] | None],
    some_id: str,
) -> tuple[int, str]:
    method, path, who, body = route
    quoted = urllib.parse.quote(some_id, safe="")
    filled = {
        k: v.replace("{}", some_id) if isinstance(v, str) else v for k, v in (body or {}).items()
    }
    filled = {k: v.format(**world) if "{patient_id}" in str(v) else v for k, v in filled.items()}
    response = client.request(
        method,
        path.replace("{}", quoted).format(**world),
        headers=world["keys"][who],
        json=filled if body is not None else None,
    )
    return response.status_code, response.json().get("code", "")


@pytest.mark.parametrize("route", ROUTES_WITH_IDS, ids=[f"{r[0]} {r[1]}" for r in ROUTES_WITH_IDS])
def test_a_malformed_id_answers_as_a_missing_one(
    client: TestClient, world: dict[str, Any], route: tuple[str, str, str, dict[str, Any] | None]
) -> None:
    session = client.post(
        "/v1/education-sessions",
        headers=world["keys"]["clinic"],
        json={"held_on": "2024-06-10", "condition": "diabetes", "title": "당뇨 교실"},
    )
    world = {**world, "session_id": session.json()["id"]}
    missing = "99999999" if "transactions" in route[1] else new_id("pat")
    expected = _call(client, world, route, missing)
    assert expected == (404, "not_found")
    answers = {some_id[:8]: _call(client, world, route, some_id) for some_id in MALFORMED_IDS}
    in_body = "{}" not in route[1]
    assert answers == {
        # a control character in a body's text is refused as such, naming the field
        some_id[:8]: (422, "invalid") if in_body and unsafe_character(some_id) else expected
        for some_id in MALFORMED_IDS
    }


def test_the_audit_trail_refuses_a_malformed_patient_filter(
    client: TestClient, city: dict[str, str]
) -> None:
    for some_id in ("x" * 33, "²", "\x00"):
        response = client.get("/v1/audit", headers=city, params={"patient_id": some_id})
        assert "query.patient_id" in fields_of(problem(response, 422, "invalid"))


# -- cursors: only one this service gave out ---------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


GARBAGE_CURSORS = [
    "!!!",
    "not a cursor",
    "%%%%",
    "abc",  # base64 without its padding
    b64(b"garbage"),
    b64(bytes(range(256))),
    b64(b"\x00"),
    b64("１１７４０".encode()),
    b64(b"11740") + "=",
    b64(b"cln_" + b"0" * 26).replace("=", "") + "==x",
    "A" * 20_000,
    b64(b"9" * 40),
]
LISTS = [
    "/v1/districts",
    "/v1/clinics",
    "/v1/keys",
    "/v1/audit",
    "/v1/patients/{patient_id}/messages",
]


@pytest.mark.parametrize("path", LISTS)
def test_a_malformed_cursor_is_refused_on_every_list(
    client: TestClient, world: dict[str, Any], path: str
) -> None:
    for cursor in GARBAGE_CURSORS:
        response = client.get(
            path.format(**world), headers=world["keys"]["city"], params={"cursor": cursor}
        )
        assert fields_of(problem(response, 422, "invalid")) == {"cursor"}, cursor[:40]


@pytest.mark.parametrize("path", LISTS[:4])
def test_a_cursor_given_out_leads_to_the_next_page(
    client: TestClient, world: dict[str, Any], key_for: Any, path: str
) -> None:
    headers = world["keys"]["city"]
    new_clinic(client, headers, key_for, district=A)  # two clinics at least, and three keys
    client.get("/v1/audit", headers=headers)  # two entries in the audit trail at least
    first = client.get(path, headers=headers, params={"limit": 1}).json()
    assert first["next_cursor"], first
    second = client.get(path, headers=headers, params={"limit": 1, "cursor": first["next_cursor"]})
    assert second.status_code == 200, second.text
    assert second.json()["items"] and second.json()["items"] != first["items"]
