"""Schemathesis against the served OpenAPI document: no 5xx, nothing the document does not say.

Every operation of ``/openapi.json`` is fuzzed through the ASGI app with schemathesis' default
checks (no server error; status codes, content types, headers and bodies as documented;
schema-violating requests refused; ``Allow`` on 405; ...), once with a city key and once with
a clinic key. A failure names the operation and the check: an undocumented 4xx is fixed in
``api/schemas/common.py: problems()`` or the route's ``responses=``, never by switching the check
off here.

The document is read at collection time from an app on a throwaway in-memory engine (the
document does not depend on the database); each case is then sent to the module's app on the
engine under test. Half of the schema-valid cases have their path ids replaced by ids that
exist (the clinic's patient, the clinic, a session, a transaction, a key), so that success
answers and the conflicts of real records are checked against the document too.

(``schemathesis.pytest.from_fixture`` would load the schema from the ``app`` fixture, but it
sets ``Node._nodeid``, which pytest 9.2 no longer has.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.app import create_app
from api.deps import get_today
from ledger.db import make_engine
from ledger.settings import Settings
from tests.api.conftest import TODAY
from tests.api.helpers import new_clinic, new_patient

MAX_EXAMPLES = 8
A = "11740"

served = create_app(Settings(database_url="sqlite://"), engine=make_engine("sqlite://"))
schema = schemathesis.openapi.from_asgi("/openapi.json", served)
# The test sends a real key with every case (``headers=``); the fuzzer must not also generate,
# drop or mangle the Authorization header, or a "negative" case it built reaches the app with
# a valid key. (On every success the default ``ignored_auth`` check sends the same request
# again without a key and with a bad one, and wants a 401.)
schema.config.generation.update(max_examples=MAX_EXAMPLES, with_security_parameters=False)
# The contract refuses some schema-valid requests with a documented 422 by its own rules
# (future_date, late_entry, a phone number that is no Korean mobile, a cursor it did not give
# out, ...), which no JSON Schema can say. A schema-valid request must still never get a 400.
acceptance = schema.config.checks.positive_data_acceptance
acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]


@pytest.fixture(scope="module")
def world(app: FastAPI, client: TestClient, city: dict[str, str], key_for: Any) -> dict[str, Any]:
    """A clinic in district A with a patient, a session of its own, and their ids."""
    app.dependency_overrides[get_today] = lambda: TODAY  # module fixtures precede `clock`
    clinic = new_clinic(client, city, key_for, district=A)
    patient = new_patient(client, clinic, phone="010-3141-5926")
    session = client.post(
        "/v1/education-sessions",
        headers=clinic.headers,
        json={"held_on": "2024-06-10", "condition": "diabetes", "title": "당뇨 교실"},
    )
    assert session.status_code == 201, session.text
    spare = key_for("clinic", clinic_id=clinic.id)
    app.dependency_overrides.pop(get_today, None)
    return {
        "keys": {"city": city, "clinic": clinic.headers},
        "ids": {
            "patient_id": patient["id"],
            "clinic_id": clinic.id,
            "session_id": session.json()["id"],
            "transaction_id": patient["transaction_id"],
            "key_id": spare["Authorization"].removeprefix("Bearer ").partition(".")[0],
        },
    }


@pytest.fixture(scope="module", params=["city", "clinic"])
def auth(request: pytest.FixtureRequest, world: dict[str, Any]) -> dict[str, str]:
    return dict(world["keys"][request.param])


def with_known_ids(case: schemathesis.Case, ids: dict[str, str]) -> None:
    """Point about half of the schema-valid cases at records that exist."""
    if case.meta is None or case.meta.generation.mode != schemathesis.GenerationMode.POSITIVE:
        return
    for name, value in list((case.path_parameters or {}).items()):
        if name in ids and len(str(value)) % 2 == 0:
            case.path_parameters[name] = ids[name]


@schema.parametrize()
# The fixtures are keys and ids; the autouse `clock` only sets "today": nothing for
# Hypothesis to reset between examples. PostgreSQL answers are slower than the default deadline.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_openapi(
    case: schemathesis.Case, app: FastAPI, auth: dict[str, str], world: dict[str, Any]
) -> None:
    with_known_ids(case, world["ids"])
    case.call_and_validate(app=app, headers=auth)


def test_every_post_documents_idempotency() -> None:
    """Every POST takes ``Idempotency-Key``, and may answer 409 (in flight) and 422 (reused)."""
    missing = []
    for path, operations in served.openapi()["paths"].items():
        post = operations.get("post")
        if post is None:
            continue
        headers = {p["name"].lower() for p in post.get("parameters", []) if p["in"] == "header"}
        if "idempotency-key" not in headers:
            missing.append(f"POST {path}: no Idempotency-Key header parameter")
        for status in ("409", "422"):
            if status not in post["responses"]:
                missing.append(f"POST {path}: {status} not documented")
    assert not missing, "\n".join(missing)


# Found by the fuzzer (or next to what it found), pinned as plain requests.
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/education-sessions", {"held_on": 0, "condition": "diabetes", "title": "교실"}),
        ("/v1/patients/{patient_id}/visits", {"visited_on": 1718150400}),
        ("/v1/patients/{patient_id}/visits", {"visited_on": "2024-06-12T10:00:00"}),
    ],
    ids=["held_on-number", "visited_on-number", "visited_on-naive-timestamp"],
)
def test_schema_invalid_body_is_refused(
    client: TestClient, world: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    """A date is a ``YYYY-MM-DD`` string, a timestamp carries its offset: else 422 ``invalid``."""
    response = client.post(path.format(**world["ids"]), headers=world["keys"]["clinic"], json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid"


def test_audit_refuses_a_number_for_a_moment(client: TestClient, city: dict[str, str]) -> None:
    response = client.get("/v1/audit?until=0.5", headers=city)
    assert response.status_code == 422, response.text


def test_unreadable_body_is_a_documented_answer(
    app: FastAPI, client: TestClient, world: dict[str, Any]
) -> None:
    """A body that is not UTF-8 JSON: 422 ``invalid`` like any unreadable body, or a 400 the
    document declares."""
    response = client.post(
        "/v1/education-sessions",
        headers={**world["keys"]["clinic"], "Content-Type": "application/json"},
        content=b"\xff\xfe{",
    )
    documented = app.openapi()["paths"]["/v1/education-sessions"]["post"]["responses"]
    assert str(response.status_code) in documented, (response.status_code, response.text)


def test_405_lists_every_method_of_the_path(client: TestClient, city: dict[str, str]) -> None:
    """RFC 9110: a 405 names in ``Allow`` all the methods the resource supports."""
    response = client.request("DELETE", "/v1/clinics", headers=city)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_hba1c_is_documented_as_a_number() -> None:
    """HbA1c is a number of 3.0 to 20.0 (one decimal); the document must not offer any string."""
    hba1c = served.openapi()["components"]["schemas"]["VisitCreate"]["properties"]["hba1c"]
    strings = [s for s in hba1c["anyOf"] if s.get("type") == "string" and "pattern" not in s]
    assert not strings, hba1c
