"""Erasure (PIPA): a patient's name, birth date and phone leave every table; the ledger, the
balances and the reports stay; the same person registering again earns no enrolment award.

Each test enrols its own patient the way a clinic would, so that their personal data sits in
every place it can: the patient row, the stored answer of an idempotent registration, a text
that went out greeting them by name and one still queued. The search after an erasure reads
every column of every table of the database (whatever the models say), in each form the data
is stored in: the name as written and as JSON escapes it, the phone as E.164 and as written
in Korea with and without dashes, the birth date as ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from api.cli import main
from ledger.clock import SEOUL
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar
from notifications.channels import ConsoleChannel
from notifications.outbox import dispatch, virtual_pacer
from tests.api.helpers import ClinicSetup, new_clinic, patient_body

REMINDER_SENT_AT = dt.datetime(2024, 6, 19, 10, 0, tzinfo=SEOUL)  # the day before 20 June


@dataclass
class Enrolled:
    id: str
    name: str
    phone: str  # as the clinic typed it, 010-XXXX-XXXX
    birth_date: str
    registration: dict[str, Any]  # the first answer
    register_headers: dict[str, str]
    register_body: dict[str, Any]

    @property
    def forms(self) -> list[str]:
        digits = self.phone.replace("-", "")
        e164 = "+82" + digits[1:]
        return [self.name, json.dumps(self.name)[1:-1], e164, self.phone, digits, self.birth_date]


def enrol(
    client: TestClient, clinic: ClinicSetup, sessions: sessionmaker[Session], born: str
) -> Enrolled:
    """A patient registered (idempotently), texted once by name, with a text still queued."""
    name = f"김지은{uuid.uuid4().hex[:4]}"
    phone = f"010-{random.randint(2000, 5969)}-{random.randint(0, 9999):04d}"
    body = patient_body(name=name, phone=phone, birth_date=born)
    headers = {**clinic.headers, "Idempotency-Key": f"register-{uuid.uuid4().hex}"}
    registered = client.post("/v1/patients", headers=headers, json=body)
    assert registered.status_code == 201, registered.text
    patient_id = registered.json()["id"]
    visit(client, clinic, patient_id, "2024-06-10", next_visit_on="2024-06-20")
    dispatch(
        sessions,
        ConsoleChannel(out=io.StringIO()),
        now=REMINDER_SENT_AT,
        calendar=SendingCalendar(9, 20),
        rate=100.0,
        pacer=virtual_pacer(REMINDER_SENT_AT, 100.0),
    )
    visit(client, clinic, patient_id, "2024-06-12", next_visit_on="2024-07-10")
    return Enrolled(patient_id, name, phone, born, registered.json(), headers, body)


def visit(client: TestClient, clinic: ClinicSetup, patient_id: str, day: str, **extra: Any) -> None:
    answer = client.post(
        f"/v1/patients/{patient_id}/visits",
        headers=clinic.headers,
        json={"visited_on": day, "systolic": 128, "diastolic": 82, "hba1c": 6.5, **extra},
    )
    assert answer.status_code == 201, answer.text


def holding(engine: Engine, forms: list[str]) -> set[str]:
    """Every ``table.column`` of the database holding any of ``forms`` in any row."""
    found: set[str] = set()
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            result = connection.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    shown = [str(value)]
                    if isinstance(value, dict | list):
                        shown = [json.dumps(value, ensure_ascii=False), json.dumps(value)]
                    elif isinstance(value, bytes):
                        shown = [value.decode("utf-8", "replace")]
                    if any(form in s for s in shown for form in forms):
                        found.add(f"{table}.{column}")
    return found


def reports(client: TestClient, city: dict[str, str], clinic_id: str) -> list[Any]:
    """What the city and the clinic read of the programme: the district report, the clinics'
    report and the clinic's statements, for the year and the quarter."""
    paths = [
        "/v1/reports/districts?year=2024",
        "/v1/reports/clinics?year=2024&district=11740",
        f"/v1/clinics/{clinic_id}/statement?year=2024",
        f"/v1/clinics/{clinic_id}/statement?year=2024&quarter=2",
    ]
    answers = [client.get(path, headers=city) for path in paths]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.json() for a in answers]


def erase(client: TestClient, city: dict[str, str], patient_id: str, **body: Any) -> Any:
    return client.post(
        f"/v1/patients/{patient_id}/erasure", headers=city, json={"reason": "본인 요청", **body}
    )


def verify_command(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MILEAGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, ["ledger", "verify"])
    finally:
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def clinic(client: TestClient, city: dict[str, str], key_for: Any) -> ClinicSetup:
    return new_clinic(client, city, key_for)


def test_after_erasure_no_table_holds_the_name_phone_or_birth_date(
    client: TestClient,
    city: dict[str, str],
    clinic: ClinicSetup,
    engine: Engine,
    sessions: sessionmaker[Session],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient = enrol(client, clinic, sessions, born="1941-07-23")
    where = holding(engine, patient.forms)
    # the search finds what it looks for: every place the data sits before the erasure
    assert {
        "patients.name",
        "patients.phone",
        "patients.birth_date",
        "idempotent_requests.response",
        "messages.body",
    } <= where, where
    before = reports(client, city, clinic.id)

    erased = erase(client, city, patient.id)

    assert erased.status_code == 201, erased.text
    assert holding(engine, patient.forms) == set()
    assert reports(client, city, clinic.id) == before
    verified = verify_command(database_url, monkeypatch)
    assert verified.exit_code == 0, verified.output
    assert "ledger verified" in verified.output


def test_an_erased_patient_left_the_programme_and_the_erasure_says_who_and_why(
    client: TestClient, city: dict[str, str], clinic: ClinicSetup, sessions: sessionmaker[Session]
) -> None:
    patient = enrol(client, clinic, sessions, born="1942-01-05")
    held = client.get(f"/v1/patients/{patient.id}", headers=clinic.headers).json()["balance"]
    assert held > 0

    record = erase(
        client, city, patient.id, reason="본인 요청 (개인정보 삭제 요구, 2024-06-14 접수)"
    )

    assert record.status_code == 201, record.text
    erasure = record.json()
    assert erasure["patient_id"] == patient.id
    assert erasure["erased_by"] == "test city"
    assert erasure["reason"] == "본인 요청 (개인정보 삭제 요구, 2024-06-14 접수)"
    assert (erasure["status"], erasure["left_on"]) == ("withdrawn", "2024-06-14")
    assert erasure["leaving_transaction_id"] is not None  # the balance went as the rules say
    audit = client.get(f"/v1/audit?patient_id={patient.id}&limit=2", headers=city).json()
    actions = [(e["action"], e["label"]) for e in audit["items"]]
    assert actions == [("patient.erase", "test city"), ("patient.leave", "test city")]
    page = client.get(f"/v1/patients/{patient.id}", headers=clinic.headers).json()
    assert (page["name"], page["birth_date"], page["phone"]) == (None, None, None)
    assert (page["erased"], page["status"], page["balance"]) == (True, "withdrawn", 0)
    texts = client.get(f"/v1/patients/{patient.id}/messages", headers=clinic.headers).json()
    assert {t["status"] for t in texts["items"]} == {"sent", "cancelled"}
    assert all(t["body"] is None for t in texts["items"])


def test_a_repeat_of_the_registration_answers_as_first_without_the_personal_fields(
    client: TestClient, city: dict[str, str], clinic: ClinicSetup, sessions: sessionmaker[Session]
) -> None:
    patient = enrol(client, clinic, sessions, born="1943-02-11")
    assert erase(client, city, patient.id).status_code == 201
    first = patient.registration

    again = client.post(
        "/v1/patients", headers=patient.register_headers, json=patient.register_body
    )

    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    shown = again.json()
    assert (shown["id"], shown["transaction_id"]) == (first["id"], first["transaction_id"])
    assert [shown.get(k) for k in ("name", "birth_date", "phone")] == [None, None, None]
    statement = client.get(f"/v1/patients/{patient.id}/statement?year=2024", headers=city).json()
    enrolments = [e for e in statement["entries"] if e["rule"] == "enrolment"]
    assert len(enrolments) == 1  # booked once, by the first request


def test_the_same_person_registering_again_earns_no_second_enrolment_award(
    client: TestClient, city: dict[str, str], clinic: ClinicSetup, sessions: sessionmaker[Session]
) -> None:
    patient = enrol(client, clinic, sessions, born="1944-03-17")
    assert erase(client, city, patient.id).status_code == 201

    back = client.post("/v1/patients", headers=clinic.headers, json=patient.register_body)

    assert back.status_code == 201, back.text
    returned = back.json()
    assert returned["id"] != patient.id
    awards = {a["beneficiary"]: a for a in returned["awards"] if a["rule"] == "enrolment"}
    assert {b: (a["amount"], a["reason"]) for b, a in awards.items()} == {
        "patient": (0, "once_only"),
        "clinic": (0, "once_only"),
    }
    assert awards["patient"]["clipped"] == 3_000
    assert returned["balance"] == 0


def test_another_spelling_of_the_same_person_is_recognised_too(
    client: TestClient, city: dict[str, str], clinic: ClinicSetup, sessions: sessionmaker[Session]
) -> None:
    patient = enrol(client, clinic, sessions, born="1945-04-19")
    assert erase(client, city, patient.id).status_code == 201
    decomposed = unicodedata.normalize("NFD", patient.name).upper()  # jamo; ASCII upper case
    spelled = {**patient.register_body, "name": decomposed, "phone": "+82 " + patient.phone[1:]}

    back = client.post("/v1/patients", headers=clinic.headers, json=spelled)

    assert back.status_code == 201, back.text
    enrolment = next(a for a in back.json()["awards"] if a["beneficiary"] == "patient")
    assert (enrolment["amount"], enrolment["reason"]) == (0, "once_only")


def test_a_new_person_still_earns_the_enrolment_award(
    client: TestClient, clinic: ClinicSetup
) -> None:
    body = patient_body(birth_date="1946-05-23")
    fresh = client.post("/v1/patients", headers=clinic.headers, json=body)
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["balance"] == 3_000


def test_an_erased_patient_cannot_be_erased_again_changed_or_found(
    client: TestClient,
    city: dict[str, str],
    clinic: ClinicSetup,
    sessions: sessionmaker[Session],
    key_for: Any,
) -> None:
    patient = enrol(client, clinic, sessions, born="1947-06-29")
    assert erase(client, city, patient.id).status_code == 201

    again = erase(client, city, patient.id)
    assert (again.status_code, again.json()["code"]) == (409, "patient_erased")
    changed = client.patch(
        f"/v1/patients/{patient.id}", headers=clinic.headers, json={"phone": patient.phone}
    )
    assert (changed.status_code, changed.json()["code"]) == (409, "patient_erased")
    found = client.post(
        "/v1/patient-lookups",
        headers=clinic.headers,
        json={"name": patient.name, "birth_date": patient.birth_date, "phone": patient.phone},
    )
    assert found.status_code == 404


def test_a_reason_that_names_the_patient_is_refused_and_nothing_is_erased(
    client: TestClient, city: dict[str, str], clinic: ClinicSetup, sessions: sessionmaker[Session]
) -> None:
    patient = enrol(client, clinic, sessions, born="1948-07-02")
    for reason in (
        f"{patient.name} 본인 요청",
        f"전화 {patient.phone.replace('-', '')} 요청",
        "생년월일 1948-07-02 환자",
    ):
        refused = erase(client, city, patient.id, reason=reason)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid"), reason
        assert refused.json()["fields"][0]["field"] == "reason"
    page = client.get(f"/v1/patients/{patient.id}", headers=clinic.headers).json()
    assert (page["name"], page["status"], page["erased"]) == (patient.name, "active", False)


def test_only_the_city_erases(
    client: TestClient, clinic: ClinicSetup, sessions: sessionmaker[Session], key_for: Any
) -> None:
    patient = enrol(client, clinic, sessions, born="1949-08-08")
    health_centre = key_for("health_center", district="11740")
    for headers in (clinic.headers, health_centre):
        refused = erase(client, headers, patient.id)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


def test_the_command_line_erases_through_the_same_action(
    client: TestClient,
    city: dict[str, str],
    clinic: ClinicSetup,
    engine: Engine,
    sessions: sessionmaker[Session],
    command_line: CliRunner,
) -> None:
    patient = enrol(client, clinic, sessions, born="1950-09-14")
    before = reports(client, city, clinic.id)

    done = command_line.invoke(
        main, ["patients", "erase", patient.id, "--reason", "본인 요청 (서면)"]
    )

    assert done.exit_code == 0, done.output
    assert f"erased patient {patient.id}" in done.output
    assert holding(engine, patient.forms) == set()
    assert reports(client, city, clinic.id) == before
    audit = client.get(f"/v1/audit?patient_id={patient.id}&limit=1", headers=city).json()
    assert (audit["items"][0]["action"], audit["items"][0]["label"]) == (
        "patient.erase",
        "command line",
    )
    again = command_line.invoke(main, ["patients", "erase", patient.id, "--reason", "다시"])
    assert again.exit_code == 1
    assert "erased already" in again.output
