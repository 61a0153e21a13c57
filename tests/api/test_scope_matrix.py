"""Who may do what: every role against every endpoint, as one table (``shared/docs/api.md``).

Roles: the city; the health centres of district A (강동구) and district B (광진구); clinic X
(patient P's home clinic, in A); clinic Y (another clinic in A); clinic Z (in B). No key or a
bad key is 401; a role that may not do the action is 403; a resource outside the caller's
district or clinic is 404, and that answer must be the very answer for an id that does not
exist (checked for every 404 row against a random unknown id); anything else succeeds.

Paths and bodies are templates: ``{patient}``, ``{clinic_x}`` ... name the module's fixed
world; ``{fresh_*}`` makes a new resource for the one row (a patient, a transaction, a clinic,
a key) where the action changes or uses up what it touches, so rows never depend on each
other.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import get_today
from ledger.ids import new_id
from tests.api.conftest import TODAY
from tests.api.helpers import new_clinic, new_patient, patient_body

A, B = "11740", "11215"  # 강동구, 광진구

CITY, HC_A, HC_B = "city", "hc_a", "hc_b"
X, Y, Z = "clinic_x", "clinic_y", "clinic_z"
ROLES = (CITY, HC_A, HC_B, X, Y, Z)
NOBODY = ("no_key", "garbage_key", "wrong_secret", "revoked_key", "basic_scheme")

EARLIER = "2024-06-10"  # within the late-entry window of TODAY, after the enrolments


@dataclass(frozen=True)
class Row:
    role: str
    method: str
    path: str
    body: dict[str, Any] | None
    expected: int
    hidden: str | None = None  # the placeholder a 404 hides: compared with an unknown one

    @property
    def id(self) -> str:
        return f"{self.role} {self.method} {self.path} {self.expected}"


def who(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    hidden: str | None = None,
    **expected: int,
) -> list[Row]:
    """One endpoint's line of the matrix: ``who("GET", path, city=200, hc_a=200, ...)``."""
    assert set(expected) <= set(ROLES), set(expected) - set(ROLES)
    return [
        Row(role, method, path, body, status, hidden if status == 404 else None)
        for role, status in expected.items()
    ]


NEW_PERSON = {
    "name": "{new_name}",
    "birth_date": "1950-03-01",
    "phone": "{new_phone}",
    "conditions": ["hypertension"],
    "sms_consent": True,
    "enrolled_on": "2024-06-01",
}
P_PERSON = {"name": "{patient_name}", "birth_date": "1956-09-30", "phone": "{patient_phone}"}
Q_PERSON = {"name": "{patient_b_name}", "birth_date": "1956-09-30", "phone": "{patient_b_phone}"}
EDUCATION = {"held_on": EARLIER, "condition": "hypertension", "title": "혈압 교실"}
SPEND = {"amount": 3_000, "purpose": "treatment", "spent_on": EARLIER}
OWN_CLINIC_KEY = {"role": "clinic", "label": "new clinic key", "clinic_id": "{clinic_x}"}

# fmt: off
MATRIX: list[Row] = [
    # ---- registry
    *who("GET", "/v1/districts", city=200, hc_a=200, hc_b=200, clinic_x=200, clinic_y=200,
         clinic_z=200),
    *who("GET", f"/v1/clinics?district={A}", city=200, hc_a=200, hc_b=200, clinic_x=200,
         clinic_y=200, clinic_z=200),
    *who("POST", "/v1/clinics", {"name": "새 의원", "kind": "chronic", "district": A},
         city=201, hc_a=201, hc_b=403, clinic_x=403, clinic_y=403, clinic_z=403),
    *who("POST", "/v1/clinics", {"name": "새 의원", "kind": "chronic", "district": B},
         city=201, hc_a=403, hc_b=201, clinic_z=403),
    *who("POST", "/v1/patients", NEW_PERSON,
         city=403, hc_a=403, hc_b=403, clinic_x=201, clinic_y=201, clinic_z=201),
    *who("GET", "/v1/patients/{patient}", hidden="patient",
         city=200, hc_a=200, hc_b=404, clinic_x=200, clinic_y=404, clinic_z=404),
    *who("GET", "/v1/patients/{patient_b}", hidden="patient_b",
         city=200, hc_a=404, hc_b=200, clinic_x=404, clinic_y=404, clinic_z=200),
    *who("PATCH", "/v1/patients/{patient}", {"sms_consent": True}, hidden="patient",
         city=403, hc_a=200, hc_b=404, clinic_x=200, clinic_y=404, clinic_z=404),
    # a lookup: any clinic where the patient may spend (2024: their district), health centre
    # (of the patient's district), city
    *who("POST", "/v1/patient-lookups", P_PERSON, hidden="patient_name",
         city=200, hc_a=200, hc_b=404, clinic_x=200, clinic_y=200, clinic_z=404),
    *who("POST", "/v1/patient-lookups", Q_PERSON, hidden="patient_b_name",
         city=200, hc_a=404, hc_b=200, clinic_x=404, clinic_y=404, clinic_z=200),
    # moves and leaving: the patient's clinic or its district's health centre, not the city
    *who("POST", "/v1/patients/{fresh_patient}/moves", {"clinic_id": "{clinic_y}"},
         hidden="fresh_patient",
         city=403, hc_a=200, hc_b=404, clinic_x=200, clinic_y=404, clinic_z=404),
    *who("POST", "/v1/patients/{fresh_patient}/leaving", {"status": "withdrawn"},
         hidden="fresh_patient",
         city=403, hc_a=200, hc_b=404, clinic_x=200, clinic_y=404, clinic_z=404),
    # erasing a patient's personal data (PIPA): the city only
    *who("POST", "/v1/patients/{fresh_patient}/erasure", {"reason": "본인 요청"},
         city=201, hc_a=403, hc_b=403, clinic_x=403, clinic_y=403, clinic_z=403),
    # ---- earning
    *who("POST", "/v1/patients/{patient}/visits", {"visited_on": EARLIER}, hidden="patient",
         city=403, hc_a=403, hc_b=403, clinic_x=201, clinic_y=404, clinic_z=404),
    *who("POST", "/v1/education-sessions", EDUCATION,
         city=403, hc_a=201, hc_b=201, clinic_x=201, clinic_y=201, clinic_z=201),
    # the session's health centre or clinic, or the patient's home clinic (X)
    *who("POST", "/v1/education-sessions/{session_hc_a}/attendance",
         {"patient_id": "{fresh_patient}"}, hidden="session_hc_a",
         city=403, hc_a=201, hc_b=404, clinic_x=201, clinic_y=404, clinic_z=404),
    *who("POST", "/v1/education-sessions/{session_y}/attendance",
         {"patient_id": "{fresh_patient}"}, hidden="session_y",
         city=403, hc_a=404, hc_b=404, clinic_x=201, clinic_y=201, clinic_z=404),
    # X's patient (district A) at district B's session: on the slip X records, A's budget pays;
    # B's health centre may not book its class on A's budget, and learns nothing of A's patient
    *who("POST", "/v1/education-sessions/{session_hc_b}/attendance",
         {"patient_id": "{fresh_patient}"}, hidden="session_hc_b",
         city=403, hc_a=404, clinic_x=201, clinic_y=404, clinic_z=404),
    *who("POST", "/v1/education-sessions/{session_hc_b}/attendance",
         {"patient_id": "{fresh_patient}"}, hidden="fresh_patient", hc_b=404),
    # ---- ledger
    *who("GET", "/v1/patients/{patient}/statement?year=2024", hidden="patient",
         city=200, hc_a=200, hc_b=404, clinic_x=200, clinic_y=404, clinic_z=404),
    *who("GET", "/v1/clinics/{clinic_x}/statement?year=2024", hidden="clinic_x",
         city=200, hc_a=200, hc_b=404, clinic_x=200, clinic_y=404, clinic_z=404),
    *who("GET", "/v1/clinics/{clinic_x}/statement?year=2024&quarter=2", hidden="clinic_x",
         city=200, hc_a=200, hc_b=404, clinic_x=200, clinic_y=404, clinic_z=404),
    *who("GET", "/v1/clinics/{clinic_z}/statement?year=2024", hidden="clinic_z",
         city=200, hc_a=404, hc_b=200, clinic_x=404, clinic_y=404, clinic_z=200),
    *who("POST", "/v1/transactions/{fresh_transaction}/reversal", {"reason": "입력 오류"},
         hidden="fresh_transaction",
         city=201, hc_a=201, hc_b=404, clinic_x=403, clinic_y=403, clinic_z=403),
    # ---- access: the audit trail (city), keys (city; a health centre: its clinics' keys)
    *who("GET", "/v1/audit",
         city=200, hc_a=403, hc_b=403, clinic_x=403, clinic_y=403, clinic_z=403),
    *who("POST", "/v1/keys", OWN_CLINIC_KEY, hidden="clinic_x",
         city=201, hc_a=201, hc_b=404, clinic_x=403, clinic_y=403, clinic_z=403),
    *who("POST", "/v1/keys", {"role": "health_center", "label": "보건소", "district": A},
         city=201, hc_a=403, hc_b=403, clinic_x=403),
    *who("POST", "/v1/keys", {"role": "city", "label": "시청"},
         city=201, hc_a=403, clinic_x=403),
    *who("POST", "/v1/keys/{fresh_key_x}/revocation", hidden="fresh_key_x",
         city=200, hc_a=200, hc_b=404, clinic_x=403, clinic_y=403, clinic_z=403),
    *who("POST", "/v1/keys/{fresh_key_city}/revocation", hidden="fresh_key_city",
         city=200, hc_a=404, hc_b=404),
    # a clinic's participation ends: its health centre, or the city; never a clinic, not
    # even the clinic itself
    *who("POST", "/v1/clinics/{fresh_clinic}/leaving", {"on": "2024-12-31"},
         hidden="fresh_clinic",
         city=200, hc_a=200, hc_b=404, clinic_x=403, clinic_y=403, clinic_z=403),
    *who("POST", "/v1/clinics/{clinic_x}/leaving", {"on": "2024-12-31"}, clinic_x=403),
    # ---- spending: a clinic where the patient may spend (their district, by the rules)
    *who("POST", "/v1/patients/{fresh_patient}/redemptions", SPEND, hidden="fresh_patient",
         city=403, hc_a=403, hc_b=403, clinic_x=201, clinic_y=201, clinic_z=422),
    # a clinic voids its own entry while its quarter is open
    *who("POST", "/v1/transactions/{fresh_transaction}/void", {"reason": "잘못 입력"},
         hidden="fresh_transaction",
         city=403, hc_a=403, hc_b=403, clinic_x=201, clinic_y=404, clinic_z=404),
    # ---- settlement: the district's health centre settles; the city reads
    *who("POST", "/v1/settlements", {"district": A, "year": 2024, "quarter": 1},
         city=403, hc_a=201, hc_b=403, clinic_x=403),
    *who("GET", "/v1/settlements/{settlement_a}", hidden="settlement_a",
         city=200, hc_a=200, hc_b=404, clinic_x=403, clinic_z=403),
    *who("POST", "/v1/settlements/{settlement_a}/close", hidden="settlement_a",
         city=403, hc_a=200, hc_b=404, clinic_x=403),
    # ---- reports: a health centre its own district, the city all
    *who("GET", "/v1/reports/districts?year=2024",
         city=200, hc_a=200, hc_b=200, clinic_x=403, clinic_z=403),
    *who("GET", f"/v1/reports/clinics?year=2024&district={A}",
         city=200, hc_a=200, hc_b=403, clinic_x=403),
    *who("GET", "/v1/reports/annual?through=2024", city=200, hc_a=403, clinic_x=403),
    # ---- messages
    *who("GET", "/v1/patients/{patient}/messages", hidden="patient",
         city=200, hc_a=200, hc_b=404, clinic_x=200, clinic_y=404, clinic_z=404),
    *who("PUT", f"/v1/districts/{A}/messaging", {"paused": False, "reason": ""},
         city=200, hc_a=200, hc_b=403, clinic_x=403, clinic_z=403),
    *who("GET", f"/v1/reports/messages?district={A}&start=2024-06-01&end=2024-06-14",
         city=200, hc_a=200, hc_b=403, clinic_x=403),
]
# fmt: on

# One request per endpoint for the callers without a valid key.
ENDPOINTS = list({(r.method, r.path, repr(r.body)): r for r in MATRIX}.values())
UNAUTHENTICATED = [
    Row(nobody, r.method, r.path, r.body, 401) for r in ENDPOINTS for nobody in NOBODY
]


@dataclass
class World:
    client: TestClient
    headers: dict[str, dict[str, str]]
    fixed: dict[str, str]
    key_for: Callable[..., dict[str, str]]
    city: dict[str, str]

    def values(self, hidden: str | None = None) -> Values:
        values = Values(self)
        if hidden is not None:
            values[hidden] = missing(hidden)
        return values


def missing(placeholder: str) -> str:
    """A value of the placeholder's kind that names nothing that exists."""
    if placeholder.endswith("transaction"):
        return str(random.randint(10**12, 10**13))
    if placeholder.endswith("_name"):
        return f"없는사람{uuid.uuid4().hex[:8]}"
    prefix = {
        "patient": "pat",
        "settlement": "stl",
        "session": "edu",
        "clinic": "cln",
        "key": "key",
    }
    kind = next(k for k in prefix if k in placeholder)
    return new_id(prefix[kind])


class Values(dict[str, str]):
    """The placeholders of one row: the fixed world, plus fresh resources made on demand."""

    def __init__(self, world: World) -> None:
        super().__init__(world.fixed)
        self.world = world

    def __missing__(self, name: str) -> str:
        self[name] = value = self._make(name)
        return value

    def _make(self, name: str) -> str:
        world, client = self.world, self.world.client
        if name == "new_name":
            return f"신규{uuid.uuid4().hex[:8]}"
        if name == "new_phone":
            return random_phone()
        if name == "fresh_patient":
            return register(client, world.headers[X])["id"]
        if name == "fresh_transaction":
            return register(client, world.headers[X])["transaction_id"]
        if name == "fresh_clinic":
            created = client.post(
                "/v1/clinics",
                headers=world.city,
                json={"name": "떠날 의원", "kind": "chronic", "district": A},
            )
            assert created.status_code == 201, created.text
            return created.json()["id"]
        if name == "fresh_key_x":
            return key_id(world.key_for("clinic", clinic_id=world.fixed["clinic_x"]))
        if name == "fresh_key_city":
            return key_id(world.key_for("city"))
        raise KeyError(name)


def random_phone() -> str:
    # 010-5970-0000 to 010-5999-9999 are not valid mobile numbers (phonenumbers' metadata)
    return f"010-{random.randint(2000, 5969)}-{random.randint(0, 9999):04d}"


def key_id(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ").partition(".")[0]


def register(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = patient_body(**{"phone": random_phone(), **overrides})
    response = client.post("/v1/patients", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def fill(template: Any, values: Values) -> Any:
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


@pytest.fixture(scope="module")
def world(app: FastAPI, client: TestClient, city: dict[str, str], key_for: Any) -> Iterator[World]:
    """Two districts, three clinics, a patient in each district, sessions, keys: once."""
    app.dependency_overrides[get_today] = lambda: TODAY  # module fixtures precede `clock`
    x = new_clinic(client, city, key_for, district=A)
    y = new_clinic(client, city, key_for, district=A)
    z = new_clinic(client, city, key_for, district=B)
    headers = {
        CITY: city,
        HC_A: key_for("health_center", district=A),
        HC_B: key_for("health_center", district=B),
        X: x.headers,
        Y: y.headers,
        Z: z.headers,
    }
    p_name, p_phone = f"김환자{uuid.uuid4().hex[:6]}", random_phone()
    q_name, q_phone = f"이환자{uuid.uuid4().hex[:6]}", random_phone()
    p = new_patient(client, x, name=p_name, phone=p_phone)
    q = new_patient(client, z, name=q_name, phone=q_phone)
    fixed = {
        "clinic_x": x.id,
        "clinic_y": y.id,
        "clinic_z": z.id,
        "patient": p["id"],
        "patient_name": p_name,
        "patient_phone": p_phone,
        "patient_b": q["id"],
        "patient_b_name": q_name,
        "patient_b_phone": q_phone,
    }
    for name, holder in (("session_hc_a", HC_A), ("session_hc_b", HC_B), ("session_y", Y)):
        created = client.post("/v1/education-sessions", headers=headers[holder], json=EDUCATION)
        assert created.status_code == 201, created.text
        fixed[name] = created.json()["id"]

    draft = client.post(
        "/v1/settlements", headers=headers[HC_A], json={"district": A, "year": 2024, "quarter": 1}
    )
    assert draft.status_code == 201, draft.text
    fixed["settlement_a"] = draft.json()["id"]

    revoked = key_for("clinic", clinic_id=x.id)
    gone = client.post(f"/v1/keys/{key_id(revoked)}/revocation", headers=city)
    assert gone.status_code == 200, gone.text
    headers.update(
        {
            "no_key": {},
            "garbage_key": {"Authorization": "Bearer not-a-key"},
            "wrong_secret": {"Authorization": f"Bearer {key_id(city)}.{'A' * 43}"},
            "revoked_key": revoked,
            "basic_scheme": {"Authorization": city["Authorization"].replace("Bearer", "Basic")},
        }
    )
    app.dependency_overrides.pop(get_today, None)
    yield World(client, headers, fixed, key_for, city)


def send(world: World, row: Row, values: Values) -> Any:
    return world.client.request(
        row.method,
        fill(row.path, values),
        headers=world.headers[row.role],
        json=fill(row.body, values) if row.body is not None else None,
    )


@pytest.mark.parametrize("row", MATRIX + UNAUTHENTICATED, ids=lambda r: r.id)
def test_scope(world: World, row: Row) -> None:
    values = world.values()
    response = send(world, row, values)
    assert response.status_code == row.expected, response.text
    if row.expected >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        expected_code = {
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            422: "out_of_district",
        }
        assert problem["code"] == expected_code[row.expected], problem
        assert problem["status"] == row.expected
    if row.expected == 404:
        assert row.hidden is not None, "a 404 row names the resource it hides"
        unknown = world.values(hidden=row.hidden)
        for name, value in values.items():  # the same fresh resources, bar the hidden one
            unknown.setdefault(name, value)
        answer = send(world, row, unknown)
        assert answer.status_code == 404, answer.text
        # Same answer as for something that does not exist: code, title, type and the detail
        # (which may quote the id asked for, nothing more).
        seen = {**problem, "detail": problem["detail"].replace(values[row.hidden], "<id>")}
        none = answer.json()
        none["detail"] = none["detail"].replace(unknown[row.hidden], "<id>")
        assert seen == none


def test_clinic_lists_only_itself(world: World) -> None:
    """GET /v1/clinics: any key; a clinic's key sees its own clinic only."""
    ids = {world.fixed["clinic_x"], world.fixed["clinic_y"]}
    for role in (CITY, HC_A, HC_B):
        response = world.client.get(f"/v1/clinics?district={A}", headers=world.headers[role])
        listed = {c["id"] for c in response.json()["items"]}
        assert ids <= listed, role
        assert world.fixed["clinic_z"] not in listed
    for role, own in ((X, "clinic_x"), (Y, "clinic_y"), (Z, "clinic_z")):
        for query in ("", f"?district={A}", f"?district={B}"):
            response = world.client.get(f"/v1/clinics{query}", headers=world.headers[role])
            listed = {c["id"] for c in response.json()["items"]}
            assert listed <= {world.fixed[own]}, (role, query, listed)


def test_unknown_ids_answer_not_found_for_every_role_that_may_act(world: World) -> None:
    """A missing resource is 404 ``not_found`` for a role allowed to act on such resources."""
    for row in MATRIX:
        if row.hidden is None and row.expected < 300 and row.path.count("{"):
            placeholder = row.path.split("{")[1].split("}")[0]
            response = send(world, row, world.values(hidden=placeholder))
            assert response.status_code == 404, (row.id, response.text)
            assert response.json()["code"] == "not_found"
