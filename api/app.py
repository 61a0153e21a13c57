"""The FastAPI application: thin routes over the ``ledger`` services."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from actions.context import Safeguards
from api import docs, errors, web
from api.errors import redirect
from api.idempotency import IdempotencyMiddleware
from api.limits import BodyLimitMiddleware
from api.middleware import RequestLogMiddleware
from api.routes import (
    access,
    earning,
    messages,
    patients,
    registry,
    reports,
    settlements,
    spending,
    statements,
)
from api.schemas import problems
from ledger.db import make_engine, make_reader_factory, make_session_factory
from ledger.services.events import rule_book
from ledger.settings import Settings, get_settings
from notifications.calendar import SendingCalendar

DESCRIPTION = """
Mileage and incentive ledger of Seoul's hypertension and diabetes programme (건강관리 마일리지).
Amounts are whole M; 1 M is paid out as 1 KRW. Dates are Asia/Seoul calendar days.

Authenticate with `Authorization: Bearer <api key>` (`mileage keys create`). Every POST
accepts `Idempotency-Key`. Errors are `application/problem+json` with a stable `code`.
"""


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    rule_book()  # a malformed rule file stops the service at start-up
    engine = engine or make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    app = FastAPI(
        title="건강관리 마일리지 ledger",
        version="1",
        description=DESCRIPTION,
        responses={404: problems(404)[404], 405: problems(405)[405]},
        docs_url=None,  # served by api.docs from the package's own files
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.readers = make_reader_factory(engine)
    app.state.settings = settings
    app.state.calendar = SendingCalendar.from_settings(settings)
    app.state.safeguards = Safeguards.from_settings(settings)
    app.state.public_url = settings.public_url or "http://127.0.0.1:8000"
    errors.install(app)
    docs.install(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        responses={503: {"description": "the database does not answer"}},
    )
    def readyz() -> JSONResponse:
        """The database answers."""
        try:  # a reader's transaction: the probe never waits behind SQLite's writer
            with engine.execution_options(sqlite_begin="DEFERRED").connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """People open the console: the sign-in page when signed out."""
        return redirect(f"{web.PREFIX}/")

    app.mount(web.PREFIX, web.create_console(app))
    routers = (registry, patients, earning, spending, statements, settlements, reports, messages)
    for module in (*routers, access):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # The last added runs first: the request log (which never reads a body) sees every
    # answer, refusals included; the body limit comes before anything that reads a body.
    app.add_middleware(
        IdempotencyMiddleware, sessions=sessions, pseudonyms=app.state.safeguards.pseudonyms
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware, trusted_proxies=settings.trusted_proxies)
    return app


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a repeat safe: the same key and body answer as the first time and "
    "book nothing; the same key with another body is 422 `idempotency_key_reused`; a repeat "
    "while the first is in flight is 409 `request_in_flight`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with what the idempotency layer adds to every POST."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path in schema.get("paths", {}).values():
        operation = path.get("post")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
        responses = operation.setdefault("responses", {})
        responses.setdefault(
            "409",
            {
                "description": "the same request is still in flight (`request_in_flight`), "
                "or it conflicts with what is recorded",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        )
    app.openapi_schema = schema
    return schema
