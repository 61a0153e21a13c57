"""The console: server-rendered Korean pages for the people who run the programme.

A second edge over the same actions, scopes and audit trail as the API, mounted on the same
app at ``/console`` with its own error pages (Korean HTML rather than problem+json); its
templates and its one stylesheet are in this package, served by the app itself.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from api.web import errors, pages

__all__ = ["PREFIX", "create_console"]

PREFIX = "/console"


def create_console(parent: FastAPI) -> FastAPI:
    """The console's application, sharing ``parent``'s database, settings and safeguards."""
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # One set of overrides for both (tests move the clock of the API and the console alike).
    console.dependency_overrides = parent.dependency_overrides
    for name in ("engine", "sessions", "readers", "settings", "calendar", "safeguards"):
        setattr(console.state, name, getattr(parent.state, name))
    console.state.public_url = parent.state.public_url
    errors.install(console)
    console.include_router(pages.router)
    static = Path(__file__).parent / "static"
    console.mount("/static", StaticFiles(directory=static), name="static")
    return console
