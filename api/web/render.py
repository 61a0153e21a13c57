"""Rendering the console's pages: Jinja2 templates (escaped), Korean, served with a CSP that
lets a page load the app's own stylesheets and scripts and post its forms to the app only."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from api.web.formats import FILTERS
from api.web.words import entry_words, kind_words

__all__ = ["PAGE_CSP", "ROLE_NAMES", "render"]

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ROLE_NAMES = {"city": "서울시", "health_center": "보건소", "clinic": "의원"}

_templates = Environment(
    loader=PackageLoader("api.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.globals["ROLE_NAMES"] = ROLE_NAMES
_templates.filters.update(FILTERS, entry_words=entry_words, kind_words=kind_words)


def render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page from ``template``; personal and per-session, so never cached."""
    html = _templates.get_template(template).render(**values)
    response = HTMLResponse(html, status_code=status)
    response.headers["content-security-policy"] = PAGE_CSP
    response.headers["cache-control"] = "no-store"
    return response
