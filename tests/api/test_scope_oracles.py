"""A record outside the caller's scope is indistinguishable from a missing one, whatever
else is wrong with the request (issue 11, item 3).

The property: for every operation of the served OpenAPI document that takes an id (in its
path, or a district or patient named in its query), for every role that has records outside
its scope, an id outside that scope and an id that names nothing get the same status and the
same ``code``, whatever the body (valid, invalid in a field, or any JSON at all) and the
query. A new operation with an id is covered as soon as it is served: the test fails until
it knows how to build the operation's bodies (``VALID_BODIES``).

The city sees everything, so nothing is outside its scope. A clinic may record its own
patient's attendance (the slip) at any session, so no session is outside a clinic's scope.

The contract's one narrowed answer among these operations: spending a patient's mileage at
a clinic outside where the rules let them spend is 422 ``out_of_district`` (the other answer
of the contract, ``duplicate_patient``, takes no id). Both are tested here to say nothing
about the patient.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.deps import get_today
from ledger.db import make_engine, session_scope
from ledger.ids import new_id
from ledger.models import AuditEvent, Transaction
from ledger.settings import Settings
from tests.api.conftest import TODAY
from tests.api.helpers import new_clinic, patient_body
from tests.api.test_scope_matrix import (
    HC_A,
    HC_B,
    A,
    B,
    World,
    X,
    Y,
    Z,
    key_id,
    random_phone,
    register,
    world,
)

__all__ = ["world"]  # the scope matrix's world of two districts, used here too

A_SIDE, B_SIDE = (HC_A, X, Y), (HC_B, Z)
LIMITED = (*A_SIDE, *B_SIDE)  # every role but the city

# Which kind of record a parameter names. Anything else a route takes is not an id.
ID_KINDS = {
    "patient_id": "patient",
    "clinic_id": "clinic",
    "session_id": "session",
    "settlement_id": "settlement",
    "transaction_id": "transaction",
    "key_id": "key",
    "code": "district",
    "district": "district",
}
NOT_IDS = {
    "day",
    "year",
    "through",
    "quarter",
    "start",
    "end",
    "since",
    "until",
    "format",
    "limit",
    "cursor",
}

# The one operation whose answer for a record out of scope is narrowed, not "missing".
NARROWED = {("post", "/v1/patients/{patient_id}/redemptions"): (422, "out_of_district")}

EXAMPLES = 5


# ---- the operations, read from the served document ---------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    ids: tuple[tuple[str, str], ...]  # (parameter, where: path or query)
    others: tuple[tuple[str, str, bool], ...]  # (parameter, where, required)
    has_body: bool

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def served_operations() -> list[Operation]:
    served = create_app(Settings(database_url="sqlite://"), engine=make_engine("sqlite://"))
    found = []
    for path, operations in served.openapi()["paths"].items():
        for method, operation in operations.items():
            params = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
            ids = tuple((p["name"], p["in"]) for p in params if p["name"] in ID_KINDS)
            others = tuple(
                (p["name"], p["in"], bool(p.get("required")))
                for p in params
                if p["name"] not in ID_KINDS
            )
            if ids:
                found.append(Operation(method, path, ids, others, "requestBody" in operation))
    return found


OPERATIONS = served_operations()


# ---- what a request may carry --------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
TEXT = st.text(max_size=20)  # control characters, bidi overrides, empty text, ... included
DATES = st.dates(dt.date(2012, 1, 1), dt.date(2031, 12, 31)).map(str) | st.sampled_from(
    ["2024-06-14", "2024-06-01", "2024-02-30", "9999-12-31", "20240610", ""]
)
PHONES = st.sampled_from(["010-3141-5926", "02-123-4567", "+82 10 5555 0101", "x"])
CONDITIONS = st.lists(
    st.sampled_from(["hypertension", "diabetes"]), min_size=1, max_size=2, unique=True
)


def _bodies(fixed: Mapping[str, str]) -> dict[tuple[str, str], Any]:
    """Bodies each operation takes, naming records in and out of scope and missing ones."""
    patients = st.sampled_from([fixed["patient"], fixed["patient_b"], new_id("pat")])
    clinics = st.sampled_from(
        [fixed["clinic_x"], fixed["clinic_y"], fixed["clinic_z"], new_id("cln")]
    )

    def body(required: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
        return st.fixed_dictionaries(required, optional=optional or {})

    return {
        ("patch", "/v1/patients/{patient_id}"): body(
            {}, {"sms_consent": st.booleans(), "phone": PHONES, "conditions": CONDITIONS}
        ),
        ("post", "/v1/patients/{patient_id}/moves"): body({"clinic_id": clinics}, {"on": DATES}),
        ("post", "/v1/patients/{patient_id}/leaving"): body(
            {"status": st.sampled_from(["moved", "withdrawn", "deceased"])}, {"on": DATES}
        ),
        ("post", "/v1/patients/{patient_id}/erasure"): body({"reason": TEXT}),
        ("post", "/v1/patients/{patient_id}/visits"): body(
            {"visited_on": DATES},
            {"systolic": st.integers(40, 300), "next_visit_on": DATES},
        ),
        ("post", "/v1/patients/{patient_id}/redemptions"): body(
            {
                "amount": st.integers(1, 10_000_000),
                "purpose": st.sampled_from(["treatment", "test", "vaccination", "eye_exam"]),
                "spent_on": DATES,
            }
        ),
        ("post", "/v1/education-sessions/{session_id}/attendance"): body({"patient_id": patients}),
        ("post", "/v1/clinics/{clinic_id}/leaving"): body({"on": DATES}),
        ("post", "/v1/transactions/{transaction_id}/reversal"): body({"reason": TEXT}),
        ("post", "/v1/transactions/{transaction_id}/void"): body({"reason": TEXT}),
        ("post", "/v1/settlements/{settlement_id}/payments"): body(
            {"clinic_id": clinics, "paid_on": DATES, "reference": TEXT}
        ),
        ("put", "/v1/districts/{code}/messaging"): body({"paused": st.booleans(), "reason": TEXT}),
        ("put", "/v1/districts/{code}/no-send-days/{day}"): body({}, {"reason": TEXT}),
    }


def _any_body(valid: Any) -> Any:
    """A valid body, one with a field broken, dropped or added, or any JSON at all."""

    def broken(body: dict[str, Any]) -> Any:
        if not body:
            return st.dictionaries(st.text(max_size=8), JSON, min_size=1, max_size=2)
        key = st.sampled_from(sorted(body))
        return st.one_of(
            st.tuples(key, JSON).map(lambda kv: {**body, kv[0]: kv[1]}),
            key.map(lambda k: {n: v for n, v in body.items() if n != k}),
            JSON.map(lambda junk: {**body, "unexpected": junk}),
        )

    return st.one_of(valid, valid.flatmap(broken), JSON)


QUERY_VALUES = {
    "year": st.sampled_from(["2024", "2013", "1999", "abc", "2024.5"]),
    "through": st.sampled_from(["2024", "x"]),
    "quarter": st.sampled_from(["1", "4", "5", "q"]),
    "start": DATES,
    "end": DATES,
    "format": st.sampled_from(["json", "csv", "xlsx", "pdf"]),
    "limit": st.sampled_from(["1", "500", "0", "x"]),
    "cursor": st.sampled_from(["", "not-a-cursor"]),
    "day": DATES,
    "since": st.sampled_from(["2024-06-01T00:00:00%2B09:00", "2024-06-01", "x"]),
    "until": st.sampled_from(["2024-06-30T00:00:00%2B09:00", "yesterday"]),
}


# ---- the records in and out of each role's scope ------------------------------------------


@pytest.fixture(scope="module")
def extra(
    app: FastAPI, world: World, key_for: Any, sessions: sessionmaker[Session]
) -> Iterator[dict[str, str]]:
    """Records of both districts besides the world's: a settlement in B, a transaction of
    each district, keys to be (not) revoked."""
    app.dependency_overrides[get_today] = lambda: TODAY
    client, headers = world.client, world.headers
    draft = client.post(
        "/v1/settlements", headers=headers[HC_B], json={"district": B, "year": 2024, "quarter": 1}
    )
    assert draft.status_code == 201, draft.text
    records = {
        "settlement_b": draft.json()["id"],
        "tx_a": register(client, headers[X])["transaction_id"],
        "tx_b": register(client, headers[Z])["transaction_id"],
        "key_city": key_id(key_for("city")),
        "key_a": key_id(key_for("clinic", clinic_id=world.fixed["clinic_x"])),
        "key_b": key_id(key_for("clinic", clinic_id=world.fixed["clinic_z"])),
    }
    app.dependency_overrides.pop(get_today, None)
    yield records


def outside(world: World, extra: dict[str, str], role: str, kind: str) -> list[str]:
    """Records of ``kind`` outside ``role``'s scope whatever the request (empty: none)."""
    fixed, a_side = world.fixed, role in A_SIDE
    if kind == "session":
        if role not in (HC_A, HC_B):
            return []  # a clinic brings its own patient's slip to any session
        return [fixed["session_hc_b"]] if a_side else [fixed["session_hc_a"], fixed["session_y"]]
    return {
        "patient": [fixed["patient_b"] if a_side else fixed["patient"]],
        "clinic": [fixed["clinic_z"] if a_side else fixed["clinic_x"]],
        "settlement": [extra["settlement_b"] if a_side else fixed["settlement_a"]],
        "transaction": [extra["tx_b"] if a_side else extra["tx_a"]],
        "key": [extra["key_city"], extra["key_b"] if a_side else extra["key_a"]],
        "district": [B if a_side else A],
    }[kind]


def missing(kind: str) -> str:
    if kind == "transaction":
        return str(random.randint(10**12, 10**13))
    if kind == "district":
        return "99999"
    prefix = {"patient": "pat", "clinic": "cln", "session": "edu", "settlement": "stl"}
    return new_id(prefix.get(kind, kind))


# ---- the property --------------------------------------------------------------------------


def test_every_operation_with_an_id_is_known() -> None:
    """Every served operation that takes an id is one this module can send (a new one fails
    here until its bodies are added), and the list is not accidentally empty."""
    assert len(OPERATIONS) >= 20
    known = _bodies(defaultdict(str))
    for operation in OPERATIONS:
        for name, _where, _required in operation.others:
            assert name in NOT_IDS, f"{operation}: is {name!r} an id? say so in ID_KINDS"
        assert len(operation.ids) == 1, f"{operation}: more than one id; extend the test"
        if operation.has_body:
            assert (operation.method, operation.path) in known, f"{operation}: add its bodies"


def _url(operation: Operation, ids: dict[str, str], others: dict[str, str]) -> str:
    values = {**others, **ids}
    path = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], operation.path)
    query = [
        (name, values[name])
        for name, where in (*operation.ids, *((n, w) for n, w, _ in operation.others))
        if where == "query" and name in values
    ]
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_an_id_outside_the_callers_scope_answers_as_a_missing_one(
    world: World, extra: dict[str, str], operation: Operation
) -> None:
    client = world.client
    ((name, where),) = operation.ids
    kind = ID_KINDS[name]
    bodies = _bodies(world.fixed)
    body_strategy = (
        _any_body(bodies[(operation.method, operation.path)]) if operation.has_body else JSON
    )
    others = {
        n: (QUERY_VALUES[n] if required else st.none() | QUERY_VALUES[n])
        for n, _, required in operation.others
    }

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        body=body_strategy,
        values=st.fixed_dictionaries(others),
        pick=st.randoms(use_true_random=False),
    )
    def same_answer(body: Any, values: dict[str, str | None], pick: random.Random) -> None:
        params = {k: v for k, v in values.items() if v is not None}
        for role in LIMITED:
            candidates = outside(world, extra, role, kind)
            if not candidates:
                continue
            seen, none = (
                client.request(
                    operation.method,
                    _url(operation, {name: value}, params),
                    headers=world.headers[role],
                    json=body,
                )
                for value in (pick.choice(candidates), missing(kind))
            )
            said = (seen.status_code, seen.json().get("code") if seen.content else None)
            unknown = (none.status_code, none.json().get("code") if none.content else None)
            if said == NARROWED.get((operation.method, operation.path)):
                assert unknown == (404, "not_found"), (role, body, none.text)
                assert_says_nothing_about_patients(world, seen.json())
                continue
            assert said == unknown, (str(operation), role, body, seen.text, none.text)
            if where == "path":  # (a district in a query may filter a public list)
                assert seen.status_code >= 400, (role, body, seen.text)

    same_answer()


def assert_says_nothing_about_patients(world: World, problem: dict[str, Any]) -> None:
    text = repr(problem)
    for secret in (
        world.fixed["patient"],
        world.fixed["patient_b"],
        world.fixed["patient_name"],
        world.fixed["patient_b_name"],
        A,
        B,
        "2024-06-01",  # their enrolment
        "강동",
        "광진",
    ):
        assert secret not in text, (secret, problem)


# ---- the narrowed answers say nothing about the patient ------------------------------------


def test_spending_outside_the_patients_district_says_nothing_about_the_patient(
    world: World,
) -> None:
    """Clinic Z (district B) spending for patients of district A: one answer, whoever the
    patient (active or gone, enrolled when), whatever the spend (future, too much, a purpose
    the clinic does not offer), and nothing in it about them."""
    client, headers = world.client, world.headers
    enrolled_later = register(client, headers[X], enrolled_on="2024-06-10")
    gone = register(client, headers[X])
    left = client.post(
        f"/v1/patients/{gone['id']}/leaving", headers=headers[X], json={"status": "deceased"}
    )
    assert left.status_code == 200, left.text
    answers = set()
    for patient in (world.fixed["patient"], enrolled_later["id"], gone["id"]):
        for spend in (
            {"amount": 1_000, "purpose": "treatment", "spent_on": "2024-06-12"},
            {"amount": 9_999_999, "purpose": "treatment", "spent_on": "2024-06-12"},
            {"amount": 1_000, "purpose": "eye_exam", "spent_on": "2024-06-05"},
            {"amount": 1_000, "purpose": "test", "spent_on": "2024-06-20"},
            {"amount": 1_000, "purpose": "test", "spent_on": "2013-01-02"},
        ):
            response = client.post(
                f"/v1/patients/{patient}/redemptions", headers=headers[Z], json=spend
            )
            assert response.status_code == 422, response.text
            problem = response.json()
            assert problem["code"] == "out_of_district"
            assert patient not in response.text
            assert_says_nothing_about_patients(world, problem)
            answers.add(response.text)
    assert len(answers) == 1, answers


def _person(world: World, which: str) -> dict[str, Any]:
    name, phone = world.fixed[f"{which}_name"], world.fixed[f"{which}_phone"]
    return patient_body(name=name, phone=phone, birth_date="1956-09-30")


def test_registering_a_person_of_another_district_says_nothing_about_them(
    world: World, sessions: sessionmaker[Session]
) -> None:
    """Clinic Z registers a person already registered in district A: 409 ``duplicate_patient``
    without their id, the same answer whoever the person, and audited."""
    client, headers = world.client, world.headers
    other = register(client, headers[Y], enrolled_on="2024-06-02")
    other_person = {**patient_body(), "name": other["name"], "phone": other["phone"]}
    answers = []
    for person, existing in (
        (_person(world, "patient"), world.fixed["patient"]),
        (other_person, other["id"]),
    ):
        response = client.post("/v1/patients", headers=headers[Z], json=person)
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["code"] == "duplicate_patient" and "id" not in problem
        assert existing not in response.text
        answers.append(problem)
    assert answers[0] == answers[1]
    with session_scope(sessions) as session:
        probes = session.execute(
            select(AuditEvent.action, AuditEvent.label).where(
                AuditEvent.patient_id == world.fixed["patient"]
            )
        ).all()
    assert ("patient.create.duplicate", "test clinic") in probes


def test_a_probe_sent_with_an_idempotency_key_is_audited_too(
    world: World, sessions: sessionmaker[Session]
) -> None:
    """The idempotency layer rolls a refusal back and stores its answer: the attempt's audit
    row is kept with it, and a replay of the stored answer adds none."""
    client, headers = world.client, world.headers

    def probes() -> int:
        with session_scope(sessions) as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(
                        AuditEvent.patient_id == world.fixed["patient_b"],
                        AuditEvent.action == "patient.create.duplicate",
                    )
                ).scalar_one()
            )

    before = probes()
    once = {**headers[Y], "Idempotency-Key": f"probe-{new_id('key')}"}
    for _ in range(2):
        response = client.post("/v1/patients", headers=once, json=_person(world, "patient_b"))
        assert response.status_code == 409 and "id" not in response.json(), response.text
    assert probes() == before + 1


def test_a_duplicate_is_answered_only_once_every_other_check_has_passed(world: World) -> None:
    """A probe must be a registration the clinic could make: anything else wrong with it is
    answered as for a person nobody registered."""
    client, headers = world.client, world.headers
    known, unknown = _person(world, "patient"), patient_body(phone=random_phone())
    for change, code in (
        ({"enrolled_on": "2024-06-20"}, "future_date"),
        ({"enrolled_on": "2023-01-02"}, "late_entry"),
        ({"conditions": []}, "invalid"),
        ({"sms_consent": "maybe"}, "invalid"),
    ):
        for person in (known, unknown):
            response = client.post("/v1/patients", headers=headers[Z], json={**person, **change})
            assert (response.status_code, response.json()["code"]) == (422, code), response.text
    eye = new_clinic(client, world.city, world.key_for, district=B, kind="ophthalmology")
    for person in (known, unknown):
        response = client.post("/v1/patients", headers=eye.headers, json=person)
        assert (response.status_code, response.json()["code"]) == (422, "invalid")


def test_the_patients_own_clinic_hears_the_existing_id(world: World) -> None:
    client, headers = world.client, world.headers
    again = client.post("/v1/patients", headers=headers[X], json=_person(world, "patient"))
    assert again.status_code == 409
    assert again.json()["id"] == world.fixed["patient"]
    # another clinic of the district may spend the patient's mileage, not read their record
    elsewhere = client.post("/v1/patients", headers=headers[Y], json=_person(world, "patient"))
    assert elsewhere.status_code == 409 and "id" not in elsewhere.json()


def test_a_phone_change_onto_another_districts_patient_says_nothing_about_them(
    world: World,
) -> None:
    """Z's patient takes the phone of A's patient of the same name and birth date."""
    client, headers = world.client, world.headers
    twin = register(client, headers[Z], name=world.fixed["patient_name"], birth_date="1956-09-30")
    response = client.patch(
        f"/v1/patients/{twin['id']}",
        headers=headers[Z],
        json={"phone": world.fixed["patient_phone"]},
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "duplicate_patient" and "id" not in response.json()
    assert world.fixed["patient"] not in response.text


# ---- the other oracles of the issue --------------------------------------------------------


def test_a_clinics_class_books_nothing_on_another_districts_budget(
    world: World, sessions: sessionmaker[Session]
) -> None:
    """Clinic Y's own class (district A) and district B's patient: answered as a missing
    patient, and nothing booked on B's budget."""
    client, headers = world.client, world.headers
    url = f"/v1/education-sessions/{world.fixed['session_y']}/attendance"
    before = _transactions(sessions)
    answers = []
    for patient in (world.fixed["patient_b"], new_id("pat")):
        response = client.post(url, headers=headers[Y], json={"patient_id": patient})
        assert response.status_code == 404, response.text
        answers.append(
            {**response.json(), "detail": response.json()["detail"].replace(patient, "<id>")}
        )
    assert answers[0] == answers[1]
    assert _transactions(sessions) == before
    # and district A's health centre at its own session, likewise
    url = f"/v1/education-sessions/{world.fixed['session_hc_a']}/attendance"
    response = client.post(
        url, headers=headers[HC_A], json={"patient_id": world.fixed["patient_b"]}
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert _transactions(sessions) == before


def test_a_patient_moves_only_to_a_clinic_of_their_district(world: World) -> None:
    """A clinic (or its health centre) moving its patient to another district's clinic is
    answered as for a clinic that does not exist; nothing changes."""
    client, headers = world.client, world.headers
    patient = register(client, headers[X])
    for role in (X, HC_A):
        answers = []
        for clinic in (world.fixed["clinic_z"], new_id("cln")):
            response = client.post(
                f"/v1/patients/{patient['id']}/moves",
                headers=headers[role],
                json={"clinic_id": clinic},
            )
            assert (response.status_code, response.json()["code"]) == (404, "not_found")
            answers.append(response.json()["detail"].replace(clinic, "<id>"))
        assert answers[0] == answers[1]
    still = client.get(f"/v1/patients/{patient['id']}", headers=headers[X]).json()
    assert (still["clinic_id"], still["district"]) == (world.fixed["clinic_x"], A)


def test_a_move_cannot_be_dated_in_the_future(world: World) -> None:
    client, headers = world.client, world.headers
    patient = register(client, headers[X])
    response = client.post(
        f"/v1/patients/{patient['id']}/moves",
        headers=headers[X],
        json={"clinic_id": world.fixed["clinic_y"], "on": "2024-07-01"},
    )
    assert (response.status_code, response.json()["code"]) == (422, "future_date")
    still = client.get(f"/v1/patients/{patient['id']}", headers=headers[X]).json()
    assert still["clinic_id"] == world.fixed["clinic_x"]


def test_revoking_a_key_of_a_higher_role_answers_as_a_missing_key(
    world: World, key_for: Any
) -> None:
    client, headers = world.client, world.headers
    city = key_for("city")
    for role, expected in ((X, (403, "forbidden")), (HC_A, (404, "not_found"))):
        for key in (key_id(city), new_id("key")):
            response = client.post(f"/v1/keys/{key}/revocation", headers=headers[role])
            assert (response.status_code, response.json()["code"]) == expected, response.text
    assert client.get("/v1/districts", headers=city).status_code == 200  # still alive


def test_an_insufficient_balance_names_no_ledger_account(world: World) -> None:
    client, headers = world.client, world.headers
    patient = register(client, headers[X])  # 3,000 M
    for amount, code in ((3_001, "insufficient_balance"), (3_000, None), (1, "below_threshold")):
        response = client.post(
            f"/v1/patients/{patient['id']}/redemptions",
            headers=headers[Y],
            json={"amount": amount, "purpose": "treatment", "spent_on": "2024-06-12"},
        )
        if code is None:
            assert response.status_code == 201, response.text
            continue
        problem = response.json()
        assert (response.status_code, problem["code"]) == (422, code)
        assert "account" not in problem["detail"], problem
        assert "the patient's balance is" in problem["detail"], problem


def _transactions(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return int(session.execute(select(func.count()).select_from(Transaction)).scalar_one())
