"""``/docs`` (Swagger UI) and ``/redoc``, served with the package's own copies of their files.

FastAPI's defaults load both from a CDN: blank pages where the service runs offline, and
third-party code in the pages. Here the files come from ``api/static/`` (see its README), and
each page carries a Content-Security-Policy that lets it load from this origin only, with its
one inline script allowed by hash (FastAPI's "Self-hosting JavaScript and CSS for docs").
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "install"]

STATIC = Path(__file__).parent / "static"
ASSETS = "/static"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _source(script: str) -> str:
    """A CSP source that admits exactly this inline script."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"


def _policy(page: HTMLResponse, *, worker: str = "") -> HTMLResponse:
    """Give ``page`` a policy that admits this origin's files and its own inline scripts."""
    inline = [_source(s) for s in _INLINE_SCRIPT.findall(bytes(page.body).decode())]
    scripts = " ".join(["'self'", *inline])
    page.headers["Content-Security-Policy"] = "; ".join(
        part
        for part in (
            "default-src 'none'",
            f"script-src {scripts}",
            # Both bundles set styles at run time (style attributes, injected <style> tags).
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            f"worker-src {worker}" if worker else "",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        )
        if part
    )
    return page


def install(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their files (build the app with ``docs_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=None,  # keys are bearer tokens; there is no OAuth2 flow
            swagger_ui_parameters={"validatorUrl": None},  # no badge from swagger.io
        )
        return _policy(page)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
        # ReDoc runs its search index in a worker made from a blob. (It also shows a logo from
        # its makers' CDN at the foot of the menu: the policy blocks it, nothing else is lost.)
        return _policy(page, worker="blob:")
