"""No name and no phone number reaches a log record, in any spelling, even in a traceback.

A realistic session (registrations, an idempotent replay, a duplicate, bad phone numbers,
look-ups, reads, visits, a phone change, a 404) runs while every record of every logger, at
every level, is captured twice: by a handler on the root logger at DEBUG and by ``caplog``.
Each record is rendered every way it could be written (``api.logs.JsonFormatter``, a plain
formatter with the traceback, its message, its arguments and its attributes) and searched
for each person's name and each phone number in every spelling a person or a library would
write it. Last, a service is made to fail inside the database with the person's name and
phone as statement parameters (an IntegrityError the request does not expect): the logged
traceback must not carry them either.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import get_today
from api.logs import JsonFormatter
from ledger.ids import new_id
from ledger.services import registry
from tests.api.conftest import TODAY
from tests.api.helpers import ClinicSetup, new_clinic

A = "11740"


@dataclass(frozen=True)
class Person:
    name: str
    birth_date: str
    phone: str  # as typed at the clinic, e.g. 010-1234-5678

    def body(self, **overrides: Any) -> dict[str, Any]:
        return {
            "name": self.name,
            "birth_date": self.birth_date,
            "phone": self.phone,
            "conditions": ["hypertension", "diabetes"],
            "sms_consent": True,
            "enrolled_on": "2024-06-01",
            **overrides,
        }

    def lookup(self, **overrides: Any) -> dict[str, Any]:
        return {"name": self.name, "birth_date": self.birth_date, "phone": self.phone, **overrides}


KIM = Person("김민준", "1956-09-30", "010-4821-7396")
LEE = Person("이서연", "1949-01-15", "010-5173-2468")
PARK = Person("박지훈", "1961-11-02", "010-3859-1472")  # registered only by the failing request
NOBODY = Person("최없음", "1970-05-05", "010-2938-4715")  # looked up, never registered
NEW_PHONE = "010-4682-9135"  # KIM's phone after the change
BAD_PHONES = ("02-3149-5826", "010-59")  # a Seoul landline; too short to be a number
NAMES = (KIM.name, LEE.name, PARK.name, NOBODY.name)
PHONES = (KIM.phone, LEE.phone, PARK.phone, NOBODY.phone, NEW_PHONE, *BAD_PHONES)


def spellings_of_phone(phone: str) -> set[str]:
    """010-1234-5678 as people and libraries write it (too-short numbers: as typed)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 10:  # its bare digits would turn up in any timing or id by chance
        return {phone}
    area, middle, last = digits[:-8], digits[-8:-4], digits[-4:]
    trunk = area.removeprefix("0")
    return {
        phone,
        digits,  # 01012345678
        f"+82{trunk}{middle}{last}",  # +821012345678 (E.164)
        f"82{trunk}{middle}{last}",
        f"{trunk}{middle}{last}",  # 1012345678
        f"+82 {trunk}-{middle}-{last}",
        f"+82-{trunk}-{middle}-{last}",
        f"+82 {trunk} {middle} {last}",
        f"{trunk}-{middle}-{last}",  # 10-1234-5678
        f"{area}-{middle}-{last}",
        f"{area} {middle} {last}",  # spaced
        f"{area}.{middle}.{last}",
        f"({area}) {middle}-{last}",
        f"{middle}-{last}",  # 1234-5678
        f"{middle} {last}",
        f"{middle}{last}",  # 12345678
    }


def spellings_of_name(name: str) -> set[str]:
    """A name as text, JSON-escaped, UTF-8 bytes' repr, URL-encoded, spaced out."""
    utf8 = name.encode()
    return {
        name,
        name.encode("unicode_escape").decode(),  # \uae40\ubbfc\uc900
        "".join(f"\\u{ord(c):04x}" for c in name),
        "".join(f"\\u{ord(c):04X}" for c in name),
        repr(utf8)[2:-1],  # \xea\xb9\x80...
        urllib.parse.quote(name),
        urllib.parse.quote(name).lower(),
        " ".join(name),
    }


FORBIDDEN = sorted(
    {s for phone in PHONES for s in spellings_of_phone(phone)}
    | {s for name in NAMES for s in spellings_of_name(name)}
)


class Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger at every level, from a root handler and from caplog.

    SQLAlchemy keeps its own loggers at WARNING; its engine logger is opened up to INFO here,
    as someone chasing a problem would (SQL echo), to show that statement parameters stay
    hidden there too.
    """
    root = logging.getLogger()
    collector = Collector()
    old_root_level = root.level
    engine_logger = logging.getLogger("sqlalchemy.engine")
    old_engine_level = engine_logger.level
    disabled = {
        name
        for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger) and lg.disabled
    }
    for name in disabled:
        logging.getLogger(name).disabled = False
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    engine_logger.setLevel(logging.INFO)
    caplog.set_level(logging.DEBUG)
    try:
        yield collector.records
        assert {id(r) for r in caplog.records} <= {id(r) for r in collector.records}
    finally:
        root.removeHandler(collector)
        root.setLevel(old_root_level)
        engine_logger.setLevel(old_engine_level)
        for name in disabled:
            logging.getLogger(name).disabled = True


def renderings(record: logging.LogRecord) -> list[str]:
    """Every way the record could be written: JSON, plain with traceback, its parts."""
    plain = logging.Formatter("%(name)s %(levelname)s %(message)s")
    out = [JsonFormatter().format(record), plain.format(record), repr(record.args)]
    attributes = {  # the record's own numbers (created, msecs, thread ...) hold no personal data
        k: v for k, v in vars(record).items() if k != "exc_info" and not isinstance(v, int | float)
    }
    out += [repr(attributes), *map(str, attributes.values())]
    if record.exc_info:
        out.append(plain.formatException(record.exc_info))
        error, seen = record.exc_info[1], set()
        while error is not None and id(error) not in seen:  # the chain: str(), repr(), args
            seen.add(id(error))
            out += [str(error), repr(error), repr(getattr(error, "args", ()))]
            error = error.__cause__ or error.__context__
    if record.stack_info:
        out.append(record.stack_info)
    return out


def leaks(records: list[logging.LogRecord]) -> list[str]:
    """``logger LEVEL 'spelling': ...context...`` for each record and spelling found in it."""
    found = []
    for record in records:
        written = renderings(record)
        for spelling in FORBIDDEN:
            for rendering in written:
                at = rendering.find(spelling)
                if at >= 0:
                    context = rendering[max(at - 80, 0) : at + len(spelling) + 40]
                    found.append(f"{record.name} {record.levelname} {spelling!r}: ...{context}...")
                    break
    return found


@contextmanager
def quiet_test_client() -> Iterator[None]:
    """The test's own HTTP client logs each URL it requests; the service never writes that
    line, so it is kept out of what is searched while a test puts personal data in URLs."""
    logger = logging.getLogger("httpx2")
    was, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = was


@pytest.fixture(scope="module")
def clinics(
    app: FastAPI, client: TestClient, city: dict[str, str], key_for: Any
) -> tuple[ClinicSetup, ClinicSetup]:
    """Two clinics in district A: the patients' home, and another where they may spend."""
    app.dependency_overrides[get_today] = lambda: TODAY  # module fixtures precede `clock`
    made = (new_clinic(client, city, key_for, district=A), new_clinic(client, city, key_for))
    app.dependency_overrides.pop(get_today, None)
    return made


def test_a_session_logs_no_name_and_no_phone(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    clinics: tuple[ClinicSetup, ClinicSetup],
    captured: list[logging.LogRecord],
) -> None:
    home, other = clinics
    health_center = key_for("health_center", district=A)

    def post(path: str, body: dict[str, Any], headers: dict[str, str], status: int) -> Any:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == status, response.text
        return response.json()

    # registration, with an Idempotency-Key, replayed; the key reused for another body
    once = {**home.headers, "Idempotency-Key": "register-kim"}
    kim = post("/v1/patients", KIM.body(), once, 201)
    replay = client.post("/v1/patients", json=KIM.body(), headers=once)
    assert replay.status_code == 201 and replay.json() == kim
    assert replay.headers.get("idempotent-replayed") == "true"
    reused = post("/v1/patients", LEE.body(), once, 422)
    assert reused["code"] == "idempotency_key_reused"
    lee = post("/v1/patients", LEE.body(phone="+82 10 5173 2468"), home.headers, 201)

    # the same person again, in other spellings: 409 with the existing id
    for phone in ("01048217396", "+821048217396", "010 4821 7396"):
        duplicate = post("/v1/patients", KIM.body(phone=phone), home.headers, 409)
        assert duplicate["code"] == "duplicate_patient" and duplicate["id"] == kim["id"]

    # phone numbers that are no Korean mobile, or not numbers at all: 422
    for phone in BAD_PHONES:
        refused = post("/v1/patients", PARK.body(phone=phone), home.headers, 422)
        assert refused["code"] == "invalid"
    post("/v1/patients", PARK.body(phone="0" * 41), home.headers, 422)
    post("/v1/patients", {**PARK.body(), "name": ""}, home.headers, 422)
    post("/v1/patients", {**PARK.body(), "resident_number": "561030-1234567"}, home.headers, 422)

    # look-ups: found at home, in the district, by the health centre and the city; not found
    for headers in (home.headers, other.headers, health_center, city):
        found = post("/v1/patient-lookups", KIM.lookup(phone="01048217396"), headers, 200)
        assert found["id"] == kim["id"]
    post("/v1/patient-lookups", NOBODY.lookup(), home.headers, 404)
    post("/v1/patient-lookups", KIM.lookup(phone=BAD_PHONES[0]), home.headers, 422)

    # reads, a missing patient, visits (one replayed), a statement
    assert client.get(f"/v1/patients/{kim['id']}", headers=home.headers).status_code == 200
    assert client.get(f"/v1/patients/{lee['id']}", headers=other.headers).status_code == 404
    assert client.get(f"/v1/patients/{new_id('pat')}", headers=city).status_code == 404
    visit = {"visited_on": "2024-06-12", "systolic": 128, "diastolic": 82}
    again = {**home.headers, "Idempotency-Key": "visit-kim"}
    first = post(f"/v1/patients/{kim['id']}/visits", visit, again, 201)
    assert post(f"/v1/patients/{kim['id']}/visits", visit, again, 201) == first
    statement = client.get(f"/v1/patients/{kim['id']}/statement?year=2024", headers=home.headers)
    assert statement.status_code == 200

    # a phone change, and one to something that is no number
    changed = client.patch(
        f"/v1/patients/{kim['id']}", json={"phone": NEW_PHONE}, headers=home.headers
    )
    assert changed.status_code == 200 and changed.json()["phone"] == "+821046829135"
    bad = client.patch(
        f"/v1/patients/{lee['id']}", json={"phone": "not a phone"}, headers=health_center
    )
    assert bad.status_code == 422

    # a caller who writes a name or a phone number into a path or a query string
    typed_in = (
        f"/v1/patients/{KIM.name}",
        f"/v1/patients/{urllib.parse.quote(LEE.phone)}/statement?year=2024",
        f"/v1/patients/{kim['id']}/statement?year=2024&name={KIM.name}&phone={KIM.phone}",
        f"/v1/clinics?district={LEE.phone}",
        f"/v1/{NOBODY.name}",
    )
    with quiet_test_client():
        for path in typed_in:
            assert client.get(path, headers=home.headers).status_code in (200, 404, 422), path

    assert any(r.name == "api.request" for r in captured), "the access log was not captured"
    assert any(r.name.startswith("sqlalchemy.engine") for r in captured), "no SQL echo captured"
    assert not leaks(captured), "\n".join(leaks(captured))


def test_the_access_log_names_the_route_template_not_the_path(
    app: FastAPI,
    client: TestClient,
    clinics: tuple[ClinicSetup, ClinicSetup],
    captured: list[logging.LogRecord],
) -> None:
    """Whatever the path holds, the log line holds the route's template (or nothing)."""
    home, _ = clinics
    requests = {
        f"/v1/patients/{KIM.name}": "/v1/patients/{patient_id}",
        f"/v1/patients/{NOBODY.phone}/statement?year=2024": "/v1/patients/{patient_id}/statement",
        f"/v1/patients/{KIM.phone}/visits": "/v1/patients/{patient_id}/visits",  # a POST
        f"/v1/{NOBODY.name}": None,  # no route at all
    }
    with quiet_test_client():
        for path in requests:
            method = "POST" if path.endswith("/visits") else "GET"
            over = (
                b"[" + b" " * app.state.settings.max_body_bytes + b"]" if method == "POST" else None
            )
            response = client.request(method, path, headers=home.headers, content=over)
            assert response.status_code in (404, 413), response.text  # the POST: refused unread

    logged = [r for r in captured if r.name == "api.request"]
    assert [(r.method, r.route) for r in logged] == [  # type: ignore[attr-defined]
        ("POST" if p.endswith("/visits") else "GET", route) for p, route in requests.items()
    ]
    assert not any(hasattr(r, "path") for r in logged)
    assert not leaks(captured), "\n".join(leaks(captured))


def test_a_failure_inside_the_database_logs_no_personal_data(
    app: FastAPI,
    clinics: tuple[ClinicSetup, ClinicSetup],
    monkeypatch: pytest.MonkeyPatch,
    captured: list[logging.LogRecord],
) -> None:
    """A service bug that breaks a constraint with the person's name and phone as parameters."""

    def register_patient(
        session: Session, *, name: str, birth_date: Any, phone: str, **_: Any
    ) -> None:
        session.execute(
            text(
                "INSERT INTO patients (id, name, birth_date, phone)"
                " VALUES (:id, :name, :birth_date, :phone)"
            ),
            {
                "id": new_id("pat"),
                "name": name,
                "birth_date": birth_date,
                "phone": registry.normalise_phone(phone),
            },
        )

    monkeypatch.setattr(registry, "register_patient", register_patient)
    home, _ = clinics
    with TestClient(app, raise_server_exceptions=False) as lenient:
        for headers in (home.headers, {**home.headers, "Idempotency-Key": "register-park"}):
            response = lenient.post("/v1/patients", json=PARK.body(), headers=headers)
            assert response.status_code == 500, response.text
            assert response.json()["code"] == "internal_error"
            assert PARK.name not in response.text

    failures = [r for r in captured if r.getMessage() == "api.request.failed"]
    assert failures, [f"{r.name}: {r.getMessage()}" for r in captured]
    # the failure is logged with its request id and the error's type, never its text
    assert all("sqlstate=" in getattr(r, "error", "") for r in failures)
    assert all(getattr(r, "request_id", None) for r in failures)
    assert not leaks(captured), "\n".join(leaks(captured))


def test_the_search_finds_a_leak(captured: list[logging.LogRecord]) -> None:
    """The net has no hole: a phone or a name in a message, an argument or a traceback."""
    log = logging.getLogger("tests.privacy")
    log.debug("patient %s", "+82 10-4821-7396")
    log.info("looked up", extra={"who": "\\uae40\\ubbfc\\uc900"})
    try:
        raise ValueError("bad number 1048217396")
    except ValueError:
        log.exception("failed")
    found = leaks(captured)
    assert {line.split()[1] for line in found} == {"DEBUG", "INFO", "ERROR"}, found
