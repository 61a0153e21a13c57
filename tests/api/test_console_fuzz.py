"""No console page answers 5xx, whatever a person (or someone posing as one) types.

Every page of the console, found from its routes (so a new page is covered the day it is
added), is opened by a signed-in person of each role; every form found on those pages is then
sent with the bad inputs the API's tests use in each visible field, keeping the form's own
hidden fields (its CSRF and one-time tokens), so the values reach the page's validation.
Each answer must be a page or a refusal, never a server error (``StrictClient``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount

from api.web import PREFIX
from ledger.db import session_scope
from tests.api.conftest import StrictClient
from tests.api.test_console import member
from tests.factories import make_clinic, make_patient

BAD = [
    "",
    " ",
    "0",
    "-1",
    "-3000",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "１２３",
    "2025-02-30",
    "9999-12-31",
    "0001-01-01",
    "25. 3. 5.",
    "a\x00b",
    "\u202eevil",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "가" * 5000,
]
# Signing in and out, and the password, have their own tests (tests/api/test_console.py).
OWN_TESTS = {"/console/login", "/console/logout", "/console/password"}


@dataclass
class Form:
    action: str
    method: str
    hidden: dict[str, str] = field(default_factory=dict)
    visible: list[str] = field(default_factory=list)


class Forms(HTMLParser):
    """The forms of a page: where each posts, its hidden fields and its visible ones."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.found.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif tag in ("input", "select", "textarea") and self.found and "name" in values:
            form = self.found[-1]
            if values.get("type") == "hidden":
                form.hidden[values["name"]] = values.get("value", "")
            else:
                form.visible.append(values["name"])


def forms_of(html: str) -> list[Form]:
    parser = Forms()
    parser.feed(html)
    return [f for f in parser.found if f.method == "post" and f.action not in OWN_TESTS]


def console_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """The console's pages, each with its path under the console."""
    console = next(r for r in app.routes if isinstance(r, Mount) and r.path == PREFIX)

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, APIRoute]]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield prefix + route.path, route
            elif hasattr(route, "original_router"):  # a router included in the console
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)

    return list(walk(console.app.routes, ""))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def world(sessions: sessionmaker[Session]) -> dict[str, str]:
    """A clinic with a patient: the ids the pages' paths take."""
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        patient = make_patient(session, clinic)
        return {
            "clinic_id": clinic.id,
            "district": clinic.district,
            "code": clinic.district,
            "patient_id": patient.patient.id,
        }


@pytest.fixture(params=["city", "health_center", "clinic"])
def person(
    request: pytest.FixtureRequest,
    app: FastAPI,
    sessions: sessionmaker[Session],
    world: dict[str, str],
) -> Iterator[StrictClient]:
    """A signed-in person of each role, over the world's district and clinic."""
    role = request.param
    scopes: dict[str, dict[str, object]] = {
        "city": {},
        "health_center": {"district": world["district"]},
        "clinic": {"clinic_id": world["clinic_id"], "clinic_lead": True},
    }
    scope = scopes[role]
    with StrictClient(app) as browser:
        member(browser, sessions, role=role, **scope)
        yield browser


def pages(app: FastAPI, world: dict[str, str]) -> list[str]:
    """Every GET page of the console, its path's ids taken from the world (or made up)."""
    found = []
    for template, route in console_routes(app):
        if "GET" not in route.methods:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: world.get(m[1], "missing-id"), template)
        found.append(PREFIX + path.rstrip("/") + ("/" if path == "/" else ""))
    return found


def test_every_page_and_form_survives_bad_input(
    app: FastAPI, person: StrictClient, world: dict[str, str]
) -> None:
    opened = sent = 0
    for path in pages(app, world):
        page = person.get(path)  # StrictClient fails the test on any 5xx
        person.get(path, params={"quarter": "2025Q9", "year": "-1", "after": "!!", "q": "\x00"})
        if page.status_code != 200:
            continue
        opened += 1
        for form in forms_of(page.text):
            for value in BAD:
                fresh = forms_of(person.get(path).text)  # new one-time tokens for each try
                same = next((f for f in fresh if f.action == form.action), form)
                data = {**same.hidden, **dict.fromkeys(same.visible, value)}
                person.post(same.action, data=data, follow_redirects=False)
                sent += 1
            missing = {**form.hidden}
            person.post(form.action, data=missing, follow_redirects=False)
    assert opened >= 2, "the person opened fewer pages than their home page and one more"
    assert sent >= len(BAD), "every person here has at least one form to send"
