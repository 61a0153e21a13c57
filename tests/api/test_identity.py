"""One person, one patient, however their name is written; no hidden characters in any text.

The same person (name, birth date, phone) registered again with the name in decomposed
Hangul, with a zero-width character or with other spacing is the same patient: 409
``duplicate_patient`` and no second enrolment award. Control and bidirectional-formatting
characters are refused in every text field of every request body with 422 ``invalid``
naming the field (a NUL was a 500 on PostgreSQL).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import api.schemas
from api.app import create_app
from ledger.db import make_engine, session_scope
from ledger.models import Patient, Transaction
from ledger.settings import Settings
from ledger.vocabulary import TransactionKind
from tests.api.helpers import ClinicSetup, new_clinic, patient_body

NAME = "홍 길동"
WRITTEN_OTHERWISE = {
    "decomposed": unicodedata.normalize("NFD", NAME),
    "zero_width_space": "홍\u200b 길동",
    "zero_width_joiner": "홍 길\u200d동",
    "byte_order_mark": "\ufeff홍 길동",
    "soft_hyphen": "홍 길\u00ad동",
    "double_space": "홍  길동",
    "padded": "  홍 길동 ",
    "ideographic_space": "홍\u3000길동",
    "no_break_space": "홍\u00a0길동",
    "decomposed_and_hidden": unicodedata.normalize("NFD", "홍\u200b\u3000길동"),
}
REFUSED = {
    "nul": "\x00",
    "newline": "\n",
    "escape": "\x1b",
    "right_to_left_override": "\u202e",
    "left_to_right_isolate": "\u2066",
    "pop_directional_isolate": "\u2069",
    "right_to_left_mark": "\u200f",
}


def enrolments(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(Transaction)
                .where(Transaction.kind == TransactionKind.ENROLMENT)
            ).scalar_one()
        )


@pytest.fixture(scope="module")
def clinic(client: TestClient, city: dict[str, str], key_for: Any) -> ClinicSetup:
    return new_clinic(client, city, key_for)


@pytest.mark.parametrize("written", WRITTEN_OTHERWISE.values(), ids=WRITTEN_OTHERWISE.keys())
def test_the_same_person_written_otherwise_earns_no_second_enrolment(
    client: TestClient, clinic: ClinicSetup, sessions: sessionmaker[Session], written: str
) -> None:
    person = patient_body(name=NAME)
    first = client.post("/v1/patients", headers=clinic.headers, json=person)
    assert first.status_code == 201, first.text
    before = enrolments(sessions)
    again = client.post("/v1/patients", headers=clinic.headers, json={**person, "name": written})
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "duplicate_patient"
    assert again.json()["id"] == first.json()["id"]
    assert enrolments(sessions) == before


def test_a_name_is_stored_and_found_in_one_form(
    client: TestClient, clinic: ClinicSetup, sessions: sessionmaker[Session]
) -> None:
    person = patient_body(name=WRITTEN_OTHERWISE["decomposed_and_hidden"])
    registered = client.post("/v1/patients", headers=clinic.headers, json=person)
    assert registered.status_code == 201, registered.text
    assert registered.json()["name"] == NAME
    with session_scope(sessions) as session:
        assert session.get_one(Patient, registered.json()["id"]).name == NAME
    for written in WRITTEN_OTHERWISE.values():
        lookup = {"name": written, "birth_date": person["birth_date"], "phone": person["phone"]}
        found = client.post("/v1/patient-lookups", headers=clinic.headers, json=lookup)
        assert found.status_code == 200, (written, found.text)
        assert found.json()["id"] == registered.json()["id"]


@pytest.mark.parametrize("char", REFUSED.values(), ids=REFUSED.keys())
def test_a_hidden_character_in_a_name_is_refused_naming_the_field(
    client: TestClient, clinic: ClinicSetup, sessions: sessionmaker[Session], char: str
) -> None:
    before = enrolments(sessions)
    response = client.post(
        "/v1/patients", headers=clinic.headers, json=patient_body(name=f"홍{char}길동")
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid"
    assert [f["field"] for f in problem["fields"]] == ["name"]
    assert enrolments(sessions) == before


@pytest.mark.parametrize("char", REFUSED.values(), ids=REFUSED.keys())
def test_a_hidden_character_in_any_text_of_a_request_is_refused(
    client: TestClient, city: dict[str, str], clinic: ClinicSetup, char: str
) -> None:
    """A few bodies end to end (every body's every field is checked below)."""
    text = f"잘못{char}입력"
    for headers, path, body, field in (
        (city, "/v1/clinics", {"name": text, "kind": "chronic", "district": "11740"}, "name"),
        (city, "/v1/keys", {"role": "city", "label": text}, "label"),
        (
            clinic.headers,
            "/v1/education-sessions",
            {"held_on": "2024-06-10", "condition": "diabetes", "title": text},
            "title",
        ),
        (
            clinic.headers,
            "/v1/patient-lookups",
            {"name": "홍길동", "birth_date": "1956-09-30", "phone": text},
            "phone",
        ),
        (
            clinic.headers,
            "/v1/patients",
            patient_body(conditions=["hypertension", text]),
            "conditions",
        ),
    ):
        response = client.post(path, headers=headers, json=body)
        assert response.status_code == 422, (path, response.text)
        fields = [f["field"] for f in response.json()["fields"]]
        assert field in fields or any(f.startswith(f"{field}.") for f in fields), fields


def _served_bodies() -> list[type[BaseModel]]:
    served = create_app(Settings(database_url="sqlite://"), engine=make_engine("sqlite://"))
    names = set()
    for operations in served.openapi()["paths"].values():
        for operation in operations.values():
            ref = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref")
            )
            if ref:
                names.add(ref.rsplit("/", 1)[-1])
    return [getattr(api.schemas, name) for name in sorted(names)]


BODIES = _served_bodies()


def test_every_body_is_checked() -> None:
    assert len(BODIES) >= 15
    assert all(issubclass(body, api.schemas.Body) for body in BODIES)


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.__name__)
@pytest.mark.parametrize("char", REFUSED.values(), ids=REFUSED.keys())
def test_every_field_of_every_body_refuses_hidden_characters(
    body: type[BaseModel], char: str
) -> None:
    for field in body.model_fields:
        for value in (f"a{char}b", ["ok", f"a{char}b"], {"k": f"a{char}b"}):
            with pytest.raises(ValidationError) as refused:
                body.model_validate({field: value})
            named = [e for e in refused.value.errors() if e["loc"] and e["loc"][0] == field]
            assert any("control or formatting character" in e["msg"] for e in named), (
                field,
                value,
                refused.value.errors(),
            )
