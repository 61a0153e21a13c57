"""Bounds on what a caller may send, enforced before anything reads a request body whole.

:class:`BodyLimitMiddleware` sits outside the idempotency layer (which reads every POST body
before it authenticates anyone) and so outside every route, dependency and webhook signature
check:

- a body over ``MILEAGE_MAX_BODY_BYTES`` is refused with 413 ``body_too_large``: at once when
  its Content-Length says so (nothing of it is read), else as soon as the bytes counted from
  ``receive`` pass the limit. The answer closes the connection, so the server neither keeps
  nor drains what the client is still sending;
- a body nested deeper than :data:`MAX_JSON_DEPTH` arrays and objects is refused with 422
  ``invalid`` before any JSON parser recurses into it (Python's ``json`` raises
  RecursionError some thousand levels down). Every body is counted, whatever its declared
  type: the idempotency layer reads any POST body as JSON to compare repeats.

Starlette's ``RequestBodyLimitMiddleware`` (FastAPI's ``max_body_size``) counts the same bytes,
but only once something reads them, and answers in plain text rather than problem+json.
"""

from __future__ import annotations

import re
from array import array
from itertools import accumulate

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, BodyTooLarge, InvalidRequest, from_exception

__all__ = ["MAX_JSON_DEPTH", "BodyLimitMiddleware", "nested_deeper_than"]

MAX_JSON_DEPTH = 32

# A JSON string, escapes included; one left open runs to the end of the text, so that no
# start is scanned twice (the whole pass stays linear whatever the input).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]++")
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def nested_deeper_than(body: bytes, depth: int) -> bool:
    """Whether the JSON text ``body`` opens more than ``depth`` arrays or objects one inside
    another, brackets in strings aside. Regular expressions and ``accumulate`` do the work,
    so even a megabyte of brackets is counted in milliseconds, with no recursion."""
    if body.count(b"[") + body.count(b"{") <= depth:
        return False
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", body))
    return max(accumulate(array("b", brackets.translate(_STEP))), default=0) > depth


class BodyLimitMiddleware:
    """Refuse oversize and over-nested request bodies while they stream in (see above)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_over(Headers(scope=scope).get("content-length", ""), self.max_bytes):
            await _refuse(self.too_large(), scope, receive, send)
            return
        guard = _Guard(self, receive, send)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            # Whatever the app made of the refusal it met in `receive` (FastAPI turns it into
            # a 400, the idempotency layer lets it through), the refusal is the answer.
            if guard.refusal is None or guard.started:
                raise
        if guard.refusal is not None and not guard.started:
            await _refuse(guard.refusal, scope, receive, send)

    def too_large(self) -> BodyTooLarge:
        return BodyTooLarge(
            f"the request body is over {self.max_bytes} bytes; this service takes no more"
        )


class _Guard:
    """One request's ``receive`` and ``send``: counts the body in, holds back the app's
    answer once the body is refused."""

    def __init__(self, limits: BodyLimitMiddleware, receive: Receive, send: Send) -> None:
        self.limits = limits
        self._receive = receive
        self._send = send
        self.chunks: list[bytes] = []
        self.size = 0
        self.refusal: ApiError | None = None
        self.started = False

    async def receive(self) -> Message:
        if self.refusal is not None:
            raise self.refusal
        message = await self._receive()
        if message["type"] != "http.request":
            return message
        body = message.get("body", b"")
        self.size += len(body)
        if self.size > self.limits.max_bytes:
            self.refusal = self.limits.too_large()
            raise self.refusal
        self.chunks.append(body)
        depth = self.limits.max_depth
        if not message.get("more_body", False) and nested_deeper_than(b"".join(self.chunks), depth):
            self.refusal = InvalidRequest(
                f"the body nests arrays and objects more than {depth} deep", field="body"
            )
            raise self.refusal
        return message

    async def send(self, message: Message) -> None:
        if self.refusal is not None and not self.started:
            return  # the app's answer to a body it could not read: the refusal replaces it
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


def _declared_over(content_length: str, limit: int) -> bool:
    """Whether a Content-Length says the body is over ``limit``. One of 19 digits or more is,
    and is not handed to ``int()`` (which refuses 4,300 digits with an error)."""
    if not (content_length.isascii() and content_length.isdigit()):
        return False
    return len(content_length) > 18 or int(content_length) > limit


async def _refuse(refusal: ApiError, scope: Scope, receive: Receive, send: Send) -> None:
    answer = from_exception(refusal)
    assert answer is not None, f"{type(refusal).__name__} has no entry in api.errors.MAPPING"
    if isinstance(refusal, BodyTooLarge):
        # The rest of the body is still on its way: close rather than read it to the end.
        answer.headers["Connection"] = "close"
    await answer(scope, receive, send)
