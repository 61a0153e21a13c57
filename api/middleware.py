"""Where a request comes from, its id, the headers of its answer, and the access log.

The client's address and the request id go into the audit trail, so they are taken from
``X-Forwarded-For`` and ``X-Request-Id`` only when the connection comes from one of the
proxies in ``MILEAGE_TRUSTED_PROXIES``; from anyone else those headers are the caller's say-so
and are ignored: the socket's peer is the client and the id is ours. (``mileage serve`` turns
uvicorn's own proxy-header handling off, so this is the one place that decides.)

The access log names the route template (``/v1/patients/{patient_id}``), never the path as
sent: a path can hold anything a caller typed, a name or a phone number included.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import unexpected
from api.headers import secure

log = logging.getLogger("api.request")

SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

Networks = Sequence[IPv4Network | IPv6Network]


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def _within(address: str | None, networks: Networks) -> bool:
    ip = _address(address) if address and networks else None
    if ip is None:
        return False
    parsed = ipaddress.ip_address(ip)
    return any(parsed.version == net.version and parsed in net for net in networks)


def origin(scope: Scope, trusted: Networks) -> tuple[str | None, str]:
    """The request's client address and id, believing forwarded headers from ``trusted`` only.

    Behind trusted proxies the client is the right-most ``X-Forwarded-For`` address that is
    not one of them: addresses further left were written by the client itself.
    """
    peer = scope.get("client")
    client: str | None = peer[0] if peer else None
    if not _within(client, trusted):
        return client, uuid.uuid4().hex
    headers = Headers(scope=scope)
    hops = [hop for field in headers.getlist("x-forwarded-for") for hop in field.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a garbled hop: nothing to its left can be believed
        client = address
        if not _within(address, trusted):
            break
    given = headers.get("x-request-id", "")
    return client, given if SANE_ID.match(given) else uuid.uuid4().hex


def route_template(scope: Scope) -> str | None:
    """The template of the route that served (or would serve) the request; None if none."""
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        return template
    # Answered before routing (a refused body, an idempotent replay): match the templates.
    app = scope.get("app")
    for pattern, template in _templates(app) if app is not None else ():
        if pattern.fullmatch(scope["path"]):
            return template
    return None


def _templates(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """The documented path templates as patterns, those with fewer parameters first."""
    found: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "route_patterns", None)
    if found is None:
        templates = sorted(app.openapi().get("paths", {}), key=lambda t: t.count("{"))
        found = [(re.compile(re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(t))), t) for t in templates]
        app.state.route_patterns = found
    return found


class RequestLogMiddleware:
    """Give each request its origin and id, secure its answer's headers, log it when done."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Networks = ()) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client, request_id = origin(scope, self.trusted)
        state = scope.setdefault("state", {})
        state["client"], state["request_id"] = client, request_id
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = int(message["status"]), True
                message.setdefault("headers", [])
                secure(message, scope["path"])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            # Answered here, not by Starlette's outermost handler, which would re-raise the
            # error for the server to log with its full (possibly personal) text.
            if started_response:
                raise
            await unexpected(error, request_id)(scope, receive, send_with_id)
        finally:
            principal = state.get("principal")
            log.info(
                "api.request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": route_template(scope),
                    "status": status,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                    "key_id": getattr(principal, "key_id", None),
                    "role": getattr(principal, "role", None),
                },
            )
