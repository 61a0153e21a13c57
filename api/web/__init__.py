"""The console: server-rendered Korean pages for the people who run the programme.

A second edge over the same actions, scopes and audit trail as the API, mounted on the same
app at ``/console`` with its own error pages (Korean HTML rather than problem+json); its
templates and its one stylesheet are in this package, served by the app itself.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from actions.context import Context
from api.deps import get_context, get_session
from api.web import audit, centre, classes, clinics, desk, errors, pages, records
from api.web.deps import MemberDep, get_page_session

__all__ = ["PREFIX", "create_console"]

PREFIX = "/console"


def create_console(parent: FastAPI) -> FastAPI:
    """The console's application, sharing ``parent``'s database, settings and safeguards."""
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # The API's authorisation dependencies (``api.authorise``) serve the pages too: here the
    # request's session is the page's and the caller's context is the signed-in person's.
    # The parent's overrides show through (tests move the clock of both edges alike).
    own: dict[Callable[..., Any], Callable[..., Any]] = {
        get_session: get_page_session,
        get_context: _member_context,
    }
    overrides = ChainMap(own, parent.dependency_overrides)
    console.dependency_overrides = overrides  # type: ignore[assignment]
    for name in ("engine", "sessions", "readers", "settings", "calendar", "safeguards"):
        setattr(console.state, name, getattr(parent.state, name))
    console.state.public_url = parent.state.public_url
    errors.install(console)
    console.include_router(pages.router)
    console.include_router(centre.router)
    console.include_router(classes.router)
    console.include_router(clinics.router)
    console.include_router(audit.router)
    console.include_router(desk.router)
    console.include_router(records.router)
    static = Path(__file__).parent / "static"
    console.mount("/static", StaticFiles(directory=static), name="static")
    return console


def _member_context(visitor: MemberDep) -> Context:
    """The signed-in person's context, where an API dependency asks for the caller's."""
    return visitor.ctx
