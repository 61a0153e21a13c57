"""What every answer says about itself, and where a request is taken to come from.

- Every ``/v1/`` answer (they carry patients, balances, money; errors too) is ``no-store``;
  every answer has the usual security headers; a JSON answer's policy loads nothing.
- ``/docs`` and ``/redoc`` load only this service's own files, which it serves.
- The audit's client address and request id come from ``X-Forwarded-For`` and
  ``X-Request-Id`` only when the connection is from a configured proxy.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.headers import API_CSP
from ledger.ids import new_id
from ledger.settings import Settings
from tests.api.helpers import new_clinic, patient_body

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def secured(response: Any) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_every_v1_answer_is_no_store_and_secured(
    app: FastAPI, client: TestClient, city: dict[str, str], key_for: Any
) -> None:
    clinic = new_clinic(client, city, key_for)
    once = {**clinic.headers, "Idempotency-Key": "headers-registration"}
    body = patient_body(enrolled_on="2024-06-14")
    answers = {
        "read": client.get("/v1/districts", headers=city),
        "created": client.post("/v1/patients", headers=once, json=body),
        "replayed": client.post("/v1/patients", headers=once, json=body),
        "not found": client.get(f"/v1/patients/{new_id('pat')}", headers=city),
        "no key": client.get("/v1/districts"),
        "invalid": client.post("/v1/clinics", headers=city, json={}),
        "too large": client.post(
            "/v1/clinics", headers=city, content=b"x" * (app.state.settings.max_body_bytes + 1)
        ),
    }
    assert answers["replayed"].headers.get("idempotent-replayed") == "true"
    assert {k: r.status_code for k, r in answers.items()} == {
        "read": 200,
        "created": 201,
        "replayed": 201,
        "not found": 404,
        "no key": 401,
        "invalid": 422,
        "too large": 413,
    }
    for response in answers.values():
        assert response.headers["cache-control"] == "no-store", response.request.url
        assert response.headers["content-security-policy"] == API_CSP
        secured(response)


def test_answers_outside_v1_are_secured_and_may_be_cached(client: TestClient) -> None:
    for path in ("/healthz", "/openapi.json", "/nowhere"):
        response = client.get(path)
        secured(response)
        assert "cache-control" not in response.headers, path


# -- the docs pages ---------------------------------------------------------------------------

TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_docs_page_loads_only_this_services_own_files(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html and "https://" not in html  # no CDN, no fonts, no badge
    urls = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html) + re.findall(
        r"url: '([^']+)'", html
    )
    assert any(u.endswith(".js") for u in urls) and any(u == "/openapi.json" for u in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        kind = TYPES[url[url.rindex(".") :]]
        assert asset.headers["content-type"].startswith(kind), (url, asset.headers)
        assert len(asset.content) > 100, url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_docs_page_runs_only_its_own_scripts(client: TestClient, page: str) -> None:
    response = client.get(page)
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    scripts = policy["script-src"].split()
    assert "'self'" in scripts and "'unsafe-inline'" not in scripts
    assert not any(s.startswith(("http", "*", "data:")) for s in [*scripts, policy["connect-src"]])
    for inline in re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts


def test_the_docs_assets_ship_with_the_package() -> None:
    """Named in pyproject's package data, so an installed service has them too."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    shipped = project["tool"]["setuptools"]["package-data"]["api"]
    assert {"static/swagger-ui/*", "static/redoc/*"} <= set(shipped)


# -- where a request comes from ----------------------------------------------------------------


@pytest.fixture(scope="module")
def behind_proxy(engine: Engine, database_url: str) -> FastAPI:
    settings = Settings(database_url=database_url, trusted_proxies="10.0.0.0/8, 192.168.1.1")
    return create_app(settings, engine=engine)


@pytest.fixture
def connect(behind_proxy: FastAPI) -> Iterator[Any]:
    opened: list[TestClient] = []

    def from_address(address: str) -> TestClient:
        opened.append(TestClient(behind_proxy, client=(address, 40000)))
        return opened[-1]

    yield from_address
    for one in opened:
        one.close()


def last_audit(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """The audit row of a first read, as a second read shows it."""
    first = client.get("/v1/audit?limit=1", headers=headers)
    assert first.status_code == 200, first.text
    entry: dict[str, Any] = client.get("/v1/audit?limit=1", headers=headers).json()["items"][0]
    assert entry["action"] == "audit.read"
    return {**entry, "answered_id": first.headers["x-request-id"]}


FORWARDED = {"X-Forwarded-For": "198.51.100.9, 10.0.0.7", "X-Request-Id": "lb-4f2a9c"}


def test_a_trusted_proxy_names_the_client_and_the_request_id(
    connect: Any, city: dict[str, str]
) -> None:
    """Behind two of our proxies (10.0.0.7, then 10.0.0.2) the client is the address before
    them; the proxy's request id is kept, in the audit and in the answer."""
    entry = last_audit(connect("10.0.0.2"), {**city, **FORWARDED})
    assert (entry["client"], entry["request_id"]) == ("198.51.100.9", "lb-4f2a9c")
    assert entry["answered_id"] == "lb-4f2a9c"


def test_a_client_cannot_hide_behind_an_address_it_wrote_itself(
    connect: Any, city: dict[str, str]
) -> None:
    """The client wrote 6.6.6.6 into X-Forwarded-For; our proxy appended what it saw."""
    forged = {"X-Forwarded-For": "6.6.6.6, 203.0.113.4"}
    assert last_audit(connect("192.168.1.1"), {**city, **forged})["client"] == "203.0.113.4"


def test_forwarded_headers_from_anyone_else_are_ignored(connect: Any, city: dict[str, str]) -> None:
    entry = last_audit(connect("192.0.2.50"), {**city, **FORWARDED})
    assert entry["client"] == "192.0.2.50"
    assert entry["request_id"] == entry["answered_id"] != "lb-4f2a9c"


def test_no_proxy_is_trusted_by_default(client: TestClient, city: dict[str, str]) -> None:
    entry = last_audit(client, {**city, **FORWARDED})
    assert entry["client"] == "testclient"  # the test client's own peer name
    assert entry["request_id"] != "lb-4f2a9c"
