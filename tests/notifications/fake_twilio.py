"""A fake Twilio REST API on 127.0.0.1, for end-to-end tests of the real SDK.

It serves what ``notifications.twilio`` calls, in Twilio's own formats:

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: creates a message (form fields
  ``To``, ``Body``, ``From`` or ``MessagingServiceSid``, ``StatusCallback``) and answers 201
  with the message's JSON (``sid`` "SM" + 32 hex, dates in RFC 2822).
- ``GET`` on the same path: the message list, newest first, filtered by ``To``, ``From``,
  ``DateSent``, ``DateSent<``, ``DateSent>`` and paged (``PageSize``, ``Page``) with
  ``next_page_uri``.

Every request is recorded (``requests``: method, path, query, form, Basic-auth pair), and the
fake answers Twilio's 401 (20003) to wrong credentials. Behaviour is scripted per next request
(``script_next``) or per recipient (``script_for``):

- ``Refuse(21211)``: Twilio's error body for the code (``Refuse(20429)`` is a 429,
  ``Refuse(20500)`` a 500, ``Refuse(20503, raw_body="<html>")`` a load balancer's 503).
- ``Stall(seconds)``: take the message, then answer only after ``seconds`` (or when the
  fake closes), to provoke the client's read timeout.
- ``Drop()``: take the message and close the connection without answering, as when the
  process or the network dies after Twilio took it. The message is in the list afterwards.

Use the ``fake_twilio`` fixture (import ``fake_twilio_server`` from this module into a test
module or conftest to register it) or the ``running_fake_twilio()`` context manager.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

__all__ = [
    "ACCOUNT_SID",
    "AUTH_TOKEN",
    "ERRORS",
    "FROM_NUMBER",
    "SERVICE_SID",
    "Drop",
    "FakeTwilio",
    "Recorded",
    "Refuse",
    "Stall",
    "fake_twilio_server",
    "running_fake_twilio",
]

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token-0000000000"
FROM_NUMBER = "+15005550006"
SERVICE_SID = "MG" + "fedcba9876543210" * 2
API_VERSION = "2010-04-01"
_MESSAGES = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")

# Twilio's documented errors: code -> (HTTP status, message). ``{to}`` is the recipient.
ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by "
        "the 'To' number: {to}.",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number {to} is not a valid mobile number"),
}


@dataclass(frozen=True)
class Refuse:
    """Answer with Twilio's error body for ``code`` (its usual status unless ``status``)."""

    code: int
    status: int | None = None
    message: str | None = None
    raw_body: str | None = None


@dataclass(frozen=True)
class Stall:
    """Answer only after ``seconds``; with ``accept`` the message is taken before."""

    seconds: float
    accept: bool = True


@dataclass(frozen=True)
class Drop:
    """Close the connection without an answer; with ``accept`` the message is taken first."""

    accept: bool = True


Behaviour = Refuse | Stall | Drop


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    auth: tuple[str, str] | None
    headers: dict[str, str]


def rfc2822(moment: dt.datetime) -> str:
    """``Thu, 24 Aug 2023 05:01:45 +0000``, as Twilio writes its dates."""
    return email.utils.format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0))


@dataclass
class FakeTwilio:
    """The fake's state and script; ``start()`` serves it, ``close()`` stops it."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    # Through a Messaging Service, Twilio picks the sender from its pool.
    service_numbers: tuple[str, ...] = ("+15005550007", "+15005550008")
    # False: a message is sent at once (``date_sent`` set, listed as "sent"). True: it
    # stays queued at Twilio, with no ``date_sent``, as under a Messaging Service's queue.
    hold_in_queue: bool = False
    requests: list[Recorded] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    # Exceptions raised inside the server; the fixture fails the test if any.
    errors: list[BaseException] = field(default_factory=list)
    _next: deque[Behaviour] = field(default_factory=deque)
    _per_recipient: dict[str, Behaviour] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closing: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeTwilio:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        # serve_forever polls for shutdown(); its default half second would end each test.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-twilio"
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, release stalled requests and wait for every handler thread."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """What to set ``MILEAGE_TWILIO_API_BASE`` (``api_base``) to."""
        assert self._server is not None, "the fake is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- script

    def script_next(self, *behaviours: Behaviour) -> None:
        """The next requests (of any method, in order) behave so; then normally again."""
        with self._lock:
            self._next.extend(behaviours)

    def script_for(self, to: str, behaviour: Behaviour | None) -> None:
        """Every create for ``to`` behaves so (``None``: normally again)."""
        with self._lock:
            if behaviour is None:
                self._per_recipient.pop(to, None)
            else:
                self._per_recipient[to] = behaviour

    # -- what happened

    @property
    def creates(self) -> list[Recorded]:
        """The create (POST) requests, in order."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    @property
    def lists(self) -> list[Recorded]:
        """The list (GET) requests, in order."""
        with self._lock:
            return [r for r in self.requests if r.method == "GET"]

    def sent_to(self, to: str) -> list[dict[str, Any]]:
        """The messages Twilio holds for ``to``, oldest first."""
        with self._lock:
            return [m for m in self.messages if m["to"] == to]

    def add_message(
        self,
        *,
        to: str,
        body: str,
        sender: str = FROM_NUMBER,
        status: str = "delivered",
        at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Put a message in Twilio's history, as if sent at ``at`` (default now)."""
        moment = at or dt.datetime.now(dt.UTC)
        message = self._message(
            to=to, body=body, sender=sender, service=None, status=status, created=moment
        )
        message["date_sent"] = rfc2822(moment)
        with self._lock:
            self.messages.append(message)
        return message

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> None:
        """Move a message on (``sent``, ``delivered``, ``undelivered``, ``failed``)."""
        with self._lock:
            for message in self.messages:
                if message["sid"] == sid:
                    message["status"], message["error_code"] = status, error_code
                    message["date_updated"] = rfc2822(dt.datetime.now(dt.UTC))
                    if message["date_sent"] is None and status != "queued":
                        message["date_sent"] = message["date_updated"]
                    return
        raise KeyError(sid)

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """``X-Twilio-Signature`` for a request Twilio makes to ``url`` with ``params``.

        Twilio's documented scheme: HMAC-SHA1 with the auth token over the full URL followed
        by each POST parameter's name and value, sorted by name; base64.
        """
        payload = url + "".join(name + params[name] for name in sorted(params))
        digest = hmac.new(self.auth_token.encode(), payload.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

    # -- the server's side

    def _take(self, method: str, form: Mapping[str, str]) -> Behaviour | None:
        with self._lock:
            if self._next:
                return self._next.popleft()
            if method == "POST":
                return self._per_recipient.get(form.get("To", ""))
            return None

    def _message(
        self,
        *,
        to: str,
        body: str,
        sender: str | None,
        service: str | None,
        status: str,
        created: dt.datetime,
    ) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": rfc2822(created),
            "date_sent": None,
            "date_updated": rfc2822(created),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }

    def _create(self, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Store the message; returns (what the create answers, what the list will show)."""
        service = form.get("MessagingServiceSid")
        now = dt.datetime.now(dt.UTC)
        answer = self._message(
            to=form["To"],
            body=form["Body"],
            sender=None if service and "From" not in form else form.get("From"),
            service=service,
            status="accepted" if service else "queued",
            created=now,
        )
        stored = dict(answer)
        if not self.hold_in_queue:
            answer["date_sent"] = stored["date_sent"] = rfc2822(now)
            stored["status"] = "sent"
        with self._lock:
            if stored["from"] is None:
                pool = self.service_numbers
                stored["from"] = pool[len(self.messages) % len(pool)]
            self.messages.append(stored)
        return answer, stored

    def _list(self, path: str, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            found = [m for m in self.messages if _matches(m, query)]
        found.sort(key=lambda m: _parse_rfc2822(m["date_created"]), reverse=True)
        size = int(query.get("PageSize", "50"))
        page = int(query.get("Page", "0"))
        start = page * size
        items = found[start : start + size]
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def uri(number: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

        more = start + size < len(found)
        return {
            "end": start + max(len(items) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": (
                uri(page + 1) + f"&PageToken=PA{items[-1]['sid']}" if more and items else None
            ),
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "messages": items,
            "start": start,
            "uri": uri(page),
        }


def _parse_rfc2822(text: str) -> dt.datetime:
    return email.utils.parsedate_to_datetime(text)


def _parse_filter(text: str) -> dt.datetime:
    """A ``DateSent`` value: ``YYYY-MM-DD`` (midnight GMT) or an ISO 8601 date-time."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _matches(message: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    if "To" in query and message["to"] != query["To"]:
        return False
    if "From" in query and message["from"] != query["From"]:
        return False
    date_filters = [k for k in ("DateSent", "DateSent<", "DateSent>") if k in query]
    if not date_filters:
        return True
    if message["date_sent"] is None:  # not sent yet: no DateSent filter matches it
        return False
    sent = _parse_rfc2822(message["date_sent"])
    for key in date_filters:
        bound = _parse_filter(query[key])
        if key == "DateSent" and sent.date() != bound.date():
            return False
        if key == "DateSent<" and sent > bound:
            return False
        if key == "DateSent>" and sent < bound:
            return False
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins every handler thread
    fake: FakeTwilio

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        # A client that timed out and left makes the late answer fail; that is the point.
        if error is not None and not isinstance(error, ConnectionError):
            self.fake.errors.append(error)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection, closed after the answer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        auth = _basic_auth(self.headers.get("Authorization", ""))
        with fake._lock:
            fake.requests.append(
                Recorded(method, url.path, query, form, auth, dict(self.headers.items()))
            )
        route = _MESSAGES.match(url.path)
        if route is None or route["account"] != fake.account_sid:
            self._error(Refuse(20404), form)
            return
        if auth != (fake.account_sid, fake.auth_token):
            self._error(Refuse(20003), form)
            return
        behaviour = fake._take(method, form)
        if isinstance(behaviour, Refuse):
            self._error(behaviour, form)
            return
        accept = behaviour is None or behaviour.accept
        status, answer = 200, None
        if method == "GET":
            answer = fake._list(url.path, query)
        else:
            missing = next(
                (code for name, code in _REQUIRED if not _present(form, name)),
                None,
            )
            if missing is not None:
                self._error(Refuse(missing), form)
                return
            if accept:
                answer = fake._create(form)[0]
                status = 201
        if isinstance(behaviour, Drop):
            self.close_connection = True
            return
        if isinstance(behaviour, Stall):
            fake._closing.wait(behaviour.seconds)
        if answer is None:  # a stalled create that did not take the message
            self._error(Refuse(20500), form)
            return
        self._answer(status, json.dumps(answer))

    def _error(self, refusal: Refuse, form: Mapping[str, str]) -> None:
        status, template = ERRORS.get(refusal.code, (400, "Error {code}"))
        status = refusal.status or status
        if refusal.raw_body is not None:
            self._answer(status, refusal.raw_body, content_type="text/html")
            return
        message = refusal.message or template.format(
            to=form.get("To", ""), path=self.path, code=refusal.code
        )
        body = {
            "code": refusal.code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{refusal.code}",
            "status": status,
        }
        self._answer(status, json.dumps(body))

    def _answer(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


_REQUIRED = (("To", 21604), ("Body", 21602), ("From|MessagingServiceSid", 21603))


def _present(form: Mapping[str, str], names: str) -> bool:
    return any(form.get(name) for name in names.split("|"))


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


@contextmanager
def running_fake_twilio(**options: Any) -> Iterator[FakeTwilio]:
    """A started fake (``FakeTwilio(**options)``), closed on exit."""
    fake = FakeTwilio(**options)
    with fake:
        yield fake


@pytest.fixture(name="fake_twilio")
def fake_twilio_server() -> Iterator[FakeTwilio]:
    """A running fake Twilio; the test fails if the server itself raised."""
    with running_fake_twilio() as fake:
        yield fake
    assert not fake.errors, f"the fake Twilio raised: {fake.errors!r}"
