"""An API client per engine, keys per role, and a clock the tests can set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.deps import get_now
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.services.access import create_key
from ledger.settings import Settings

TODAY = dt.date(2024, 6, 14)


class StrictClient(TestClient):
    """A test client for which any 5xx answer fails the test."""

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = super().request(*args, **kwargs)
        assert response.status_code < 500, f"{response.status_code}: {response.text}"
        return response


@pytest.fixture(scope="module")
def app(engine: Engine, database_url: str) -> FastAPI:
    return create_app(Settings(database_url=database_url), engine=engine)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with StrictClient(app) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[Callable[[dt.date | dt.datetime], None]]:
    """Set the service's clock: a day (noon in Seoul) or a moment; 14 June 2024 by default."""
    if "app" not in request.fixturenames:
        yield lambda _moment: None
        return
    app: FastAPI = request.getfixturevalue("app")

    def set_now(moment: dt.date | dt.datetime) -> None:
        if not isinstance(moment, dt.datetime):
            moment = dt.datetime.combine(moment, dt.time(12), SEOUL)
        app.dependency_overrides[get_now] = lambda: moment

    set_now(TODAY)
    yield set_now
    app.dependency_overrides.pop(get_now, None)


KeyMaker = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
def key_for(sessions: sessionmaker[Session]) -> KeyMaker:
    """``key_for("clinic", clinic_id=...)``: the Authorization header of a new key."""

    def make(role: str, **scope: Any) -> dict[str, str]:
        with session_scope(sessions) as session:
            issued = create_key(
                session,
                role=role,
                label=scope.pop("label", f"test {role}"),
                created_by="tests",
                **scope,
            )
        return {"Authorization": f"Bearer {issued.token}"}

    return make


@pytest.fixture(scope="module")
def city(key_for: KeyMaker) -> dict[str, str]:
    return key_for("city")
