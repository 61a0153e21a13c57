"""Every route is thin: it parses, authorises through a dependency, calls one action and
presents the answer, in under 15 lines of body (docs/architecture.md)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap

from fastapi.routing import APIRoute

import api.routes

MAX_BODY_LINES = 15


def _body_lines(function: object) -> int:
    source = textwrap.dedent(inspect.getsource(function))  # type: ignore[arg-type]
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    end = body[-1].end_lineno or body[-1].lineno
    return end - body[0].lineno + 1


def test_every_route_body_is_under_fifteen_lines() -> None:
    modules = [
        importlib.import_module(f"api.routes.{info.name}")
        for info in pkgutil.iter_modules(api.routes.__path__)
    ]
    routes = [r for m in modules for r in m.router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 30
    long = {
        f"{sorted(r.methods)} {r.path}": n
        for r in routes
        if (n := _body_lines(r.endpoint)) >= MAX_BODY_LINES
    }
    assert long == {}


def test_every_console_page_body_is_under_fifteen_lines() -> None:
    from api.web import audit, centre, classes, clinics, desk, pages, records

    modules = (pages, desk, records, centre, classes, clinics, audit)
    routes = [r for m in modules for r in m.router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 30
    long = {
        f"{sorted(r.methods)} {r.path}": n
        for r in routes
        if (n := _body_lines(r.endpoint)) >= MAX_BODY_LINES
    }
    assert long == {}
