"""The headers every answer carries, added on the way out by ``api.middleware``.

- ``Cache-Control: no-store`` on every ``/v1/`` answer: nearly all of them name a patient,
  a balance or a clinic's money, and deciding route by route would fail open on the next
  route; errors too (a 409 ``duplicate_patient`` carries an id). The documents and the docs'
  own files outside ``/v1/`` may be cached.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (with CSP
  ``frame-ancestors 'none'`` for current browsers), ``Referrer-Policy: no-referrer``.
- ``Content-Security-Policy``: a JSON answer may load nothing at all. The docs pages set their
  own, narrower than a browser's default (``api/docs.py``), which is kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message

__all__ = ["API_CSP", "secure"]

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
PERSONAL = "/v1/"


def secure(message: Message, path: str) -> None:
    """Add the headers above to an ``http.response.start`` message."""
    headers = MutableHeaders(scope=message)
    for name, value in ALWAYS.items():
        headers[name] = value
    headers.setdefault("content-security-policy", API_CSP)
    if path.startswith(PERSONAL):
        headers["cache-control"] = "no-store"
