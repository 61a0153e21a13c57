"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ledger.db import make_engine, make_session_factory
from ledger.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    app = FastAPI(
        title="건강관리 마일리지 (health-management mileage) ledger",
        version="1",
        description="Mileage and incentive ledger for Seoul's hypertension and diabetes "
        "programme. 1 M is paid out as 1 KRW.",
    )
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "database down"}})
    def readyz() -> JSONResponse:
        """The database answers."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app
