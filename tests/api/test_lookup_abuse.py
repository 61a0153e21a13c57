"""Look-ups by name, birth date and phone are limited per caller and audited, found or not,
without the audit trail ever holding what was searched for.

The module's service allows ``LIMIT`` look-ups a minute per caller
(``MILEAGE_LOOKUPS_PER_MINUTE``); the clock stands still unless a test moves it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, String, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.deps import get_now
from ledger.clock import SEOUL
from ledger.models import AuditEvent
from ledger.settings import Settings
from tests.api.helpers import new_clinic, new_patient
from tests.ledger.test_concurrency import PROCESSES, WRITERS, run_in_processes

LIMIT = 3
PHONES = (f"010-4821-{n:04d}" for n in itertools.count(7000))
AUDIT_KEY = SecretStr("test-audit-key-" + "k" * 32)
NOON = dt.datetime(2024, 6, 14, 12, 0, 45, tzinfo=SEOUL)  # 15 s before the next minute
NOBODY = {"name": "이영희", "birth_date": "1962-11-05", "phone": "010-5555-0142"}


def settings(url: str, limit: int = LIMIT) -> Settings:
    return Settings(database_url=url, lookups_per_minute=limit, audit_key=AUDIT_KEY)


@pytest.fixture(scope="module")
def app(engine: Engine, database_url: str) -> FastAPI:
    return create_app(settings(database_url), engine=engine)


@pytest.fixture
def kim(client: TestClient, city: dict[str, str], key_for: Any, clock: Any) -> dict[str, Any]:
    """A clinic (with a fresh key, so a fresh rate) and its patient 김민수 (a number of her
    own in each test)."""
    clinic = new_clinic(client, city, key_for)
    person = {"name": "김민수", "birth_date": "1957-03-21", "phone": next(PHONES)}
    patient = new_patient(client, clinic, **person)
    clock(NOON)
    return {"id": patient["id"], "headers": clinic.headers, "clinic": clinic, "person": person}


def look_up(client: TestClient, headers: dict[str, str], person: dict[str, str]) -> Any:
    return client.post("/v1/patient-lookups", headers=headers, json=person)


def lookups_of(client: TestClient, city: dict[str, str], key_headers: dict[str, str]) -> list:
    """The audit trail's look-ups by one key, oldest first."""
    key_id = key_headers["Authorization"].removeprefix("Bearer ").partition(".")[0]
    items = client.get("/v1/audit", headers=city, params={"limit": 500}).json()["items"]
    rows = [e for e in items if e["key_id"] == key_id and e["action"] == "patient.lookup"]
    return rows[::-1]


def test_a_caller_past_its_look_up_rate_is_refused_with_retry_after(
    client: TestClient, kim: dict[str, Any]
) -> None:
    answers = [look_up(client, kim["headers"], p) for p in (kim["person"], NOBODY, kim["person"])]
    assert [a.status_code for a in answers] == [200, 404, 200]

    refused = look_up(client, kim["headers"], kim["person"])
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "15"
    assert look_up(client, kim["headers"], NOBODY).status_code == 429


def test_the_rate_is_each_callers_own(
    client: TestClient, kim: dict[str, Any], key_for: Any
) -> None:
    for _ in range(LIMIT + 1):
        look_up(client, kim["headers"], NOBODY)
    assert look_up(client, kim["headers"], kim["person"]).status_code == 429
    colleague = key_for("clinic", clinic_id=kim["clinic"].id, label="second desk")
    assert look_up(client, colleague, kim["person"]).status_code == 200


def test_the_next_minute_opens_the_rate_again(
    client: TestClient, kim: dict[str, Any], clock: Any
) -> None:
    for _ in range(LIMIT + 1):
        look_up(client, kim["headers"], NOBODY)
    assert look_up(client, kim["headers"], kim["person"]).status_code == 429
    clock(NOON + dt.timedelta(seconds=15))
    assert look_up(client, kim["headers"], kim["person"]).status_code == 200


def test_every_look_up_is_audited_found_or_not(
    client: TestClient, kim: dict[str, Any], city: dict[str, str]
) -> None:
    for person in (kim["person"], NOBODY, kim["person"], NOBODY):
        look_up(client, kim["headers"], person)

    rows = lookups_of(client, city, kim["headers"])
    assert [(r["outcome"], r["patient_id"]) for r in rows] == [
        ("found", kim["id"]),
        ("not_found", None),
        ("found", kim["id"]),
        ("rate_limited", None),
    ]
    assert all(r["label"] and r["at"] and r["subject_hash"] for r in rows)


def test_a_look_up_with_an_unreadable_phone_is_counted_and_audited_too(
    client: TestClient, kim: dict[str, Any], city: dict[str, str]
) -> None:
    unreadable = {**kim["person"], "phone": "02-123-4567"}  # a landline: no one to find
    for _ in range(LIMIT):
        answer = look_up(client, kim["headers"], unreadable)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid"
    assert look_up(client, kim["headers"], kim["person"]).status_code == 429
    rows = lookups_of(client, city, kim["headers"])
    assert [r["outcome"] for r in rows] == ["invalid"] * LIMIT + ["rate_limited"]
    assert all(r["subject_hash"] is None for r in rows[:LIMIT])


def test_repeated_probes_of_one_person_show_the_same_hash(
    client: TestClient, kim: dict[str, Any], city: dict[str, str], key_for: Any
) -> None:
    far = new_clinic(client, city, key_for, district="11215")  # may not find 김민수
    digits = kim["person"]["phone"].replace("-", "")
    probes = [
        {**kim["person"], "phone": digits},
        {
            **kim["person"],
            "name": " 김민수 ",
            "phone": f"+82 {digits[1:3]}-{digits[3:7]}-{digits[7:]}",
        },
        NOBODY,
    ]
    assert [look_up(client, far.headers, p).status_code for p in probes] == [404, 404, 404]
    look_up(client, kim["headers"], kim["person"])

    probed = [r["subject_hash"] for r in lookups_of(client, city, far.headers)]
    found = lookups_of(client, city, kim["headers"])[0]["subject_hash"]
    assert probed[0] == probed[1] == found  # one person, however spelt, by whoever
    assert probed[2] != probed[0]


def test_a_look_up_with_an_idempotency_key_is_audited_and_counted_when_it_finds_nobody(
    client: TestClient, kim: dict[str, Any], city: dict[str, str]
) -> None:
    for n in range(LIMIT):
        headers = {**kim["headers"], "Idempotency-Key": f"probe-{n}"}
        assert look_up(client, headers, {**NOBODY, "name": f"이영희{n}"}).status_code == 404
    replay = look_up(
        client, {**kim["headers"], "Idempotency-Key": "probe-0"}, NOBODY | {"name": "이영희0"}
    )
    assert replay.status_code == 404
    assert look_up(client, kim["headers"], kim["person"]).status_code == 429
    outcomes = [r["outcome"] for r in lookups_of(client, city, kim["headers"])]
    assert outcomes == ["not_found"] * LIMIT + ["rate_limited"]


def test_a_look_up_refused_for_its_rate_runs_when_sent_again_after_retry_after(
    client: TestClient, kim: dict[str, Any], clock: Any
) -> None:
    for _ in range(LIMIT):
        look_up(client, kim["headers"], NOBODY)
    keyed = {**kim["headers"], "Idempotency-Key": "after-the-break"}
    refused = look_up(client, keyed, kim["person"])
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "15"
    clock(NOON + dt.timedelta(seconds=15))
    found = look_up(client, keyed, kim["person"])
    assert found.status_code == 200 and found.json()["id"] == kim["id"]


def test_no_audit_row_holds_a_name_birth_date_or_phone(
    client: TestClient, kim: dict[str, Any], sessions: sessionmaker[Session]
) -> None:
    for person in (kim["person"], NOBODY, kim["person"], NOBODY, kim["person"]):
        look_up(client, kim["headers"], person)
    secrets = set()
    for person in (kim["person"], NOBODY):
        digits = person["phone"].replace("-", "")
        secrets |= {person["name"], person["birth_date"], person["birth_date"].replace("-", "")}
        secrets |= {digits, digits[1:], person["phone"], "+82" + digits[1:]}
    text_columns = [c for c in AuditEvent.__table__.columns if isinstance(c.type, String)]
    with sessions() as session:
        cells = [cell for row in session.execute(select(*text_columns)) for cell in row if cell]
    assert cells
    assert not [cell for cell in cells for secret in secrets if secret in cell]


def look_up_once(sessions: sessionmaker[Session], token: str) -> list[dict[str, Any]]:
    """A writer of the harness: a server process of its own makes one look-up."""
    engine = sessions.kw["bind"]
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(settings(url, limit=5), engine=engine)
    app.dependency_overrides[get_now] = lambda: NOON
    with TestClient(app) as client:
        answer = look_up(client, {"Authorization": f"Bearer {token}"}, NOBODY)
    return [{"status": answer.status_code}]


def test_the_look_up_rate_holds_across_server_processes(
    client: TestClient, kim: dict[str, Any], database_url: str, sessions: sessionmaker[Session]
) -> None:
    token = kim["headers"]["Authorization"].removeprefix("Bearer ")
    results = run_in_processes(database_url, look_up_once, token)
    assert len(results) == WRITERS and len({r["pid"] for r in results}) == PROCESSES
    statuses = sorted(r["status"] for r in results)
    assert statuses == [404] * 5 + [429] * (WRITERS - 5)
