"""``Idempotency-Key`` on every POST, safe across processes and across a crash.

1. A repeat whose key already has an answer is answered from it (a replay, or 422
   ``idempotency_key_reused`` for another body), read without taking any lock.
2. Otherwise the key is *claimed* for this request, in a way that lives exactly as long as
   the request (``ledger/services/idempotency.py`` says how, per engine): on PostgreSQL in
   the request's own transaction under an advisory lock that dies with the connection; on
   SQLite in a committed row naming the serving process, which a repeat takes over at once
   when that process is gone. A twin that arrives while the request truly runs, in this
   process or another, gets 409 ``request_in_flight``.
3. The request then runs on a session this layer owns, after a savepoint. A success is
   committed *together with* the stored answer, so a crash can never leave work done
   without its answer (which a retry would do again). A refusal (4xx) is rolled back to the
   savepoint (it books nothing) and its answer is stored in the same transaction, for
   replays; an action whose refusals are records themselves (``api.deps.keep_refusals``: a
   look-up that found nobody) keeps what it wrote.
4. A failure (5xx, or a commit that fails: 503 ``retry``) and a "not now" (429) leave no
   claim and no stored answer, so the client can send the same request again later.

A repeat with the same key and body gets the stored status and body, as its caller may read
it now (``actions.replays``; stored answers also lose their personal fields after a
retention period, ``ledger.services.retention``); the same key with another body gets 422
``idempotency_key_reused``. Killed mid-request, the server leaves nothing that blocks the
key: the first repeat after the restart gets the request's answer if it was committed, or
runs the request now.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actions import replays
from actions.context import Context
from api.deps import keeps_refusals
from api.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    NotSaved,
    RequestInFlight,
    from_exception,
)
from ledger.db import make_reader_factory, run_in_transaction
from ledger.pseudonyms import Pseudonyms
from ledger.services import idempotency as claims
from ledger.services.access import Principal, authenticate
from ledger.services.idempotency import Decision

log = logging.getLogger("api.idempotency")

MAX_KEY_LENGTH = 200
# Refusals that say "not now" rather than "no": not stored, so that the same request sent
# again after its Retry-After runs (a 5xx is not stored either).
COME_BACK_LATER = frozenset({429})


class IdempotencyMiddleware:
    def __init__(
        self, app: ASGIApp, sessions: sessionmaker[Session], pseudonyms: Pseudonyms
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.pseudonyms = pseudonyms
        bind = sessions.kw["bind"]
        self.readers = make_reader_factory(bind)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay_receive = _replayer(body, receive)
        principal = await run_in_threadpool(self._principal, headers.get("authorization", ""))
        if principal is None or principal.key_id is None:  # the app itself answers 401
            await self.app(scope, replay_receive, send)
            return
        key_id = principal.key_id
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            refused = InvalidRequest(
                f"Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
            )
            await _answer(refused)(scope, replay_receive, send)
            return
        fingerprint = _fingerprint(scope, body, self.pseudonyms)
        decision = await run_in_threadpool(self._peek, key_id, key, fingerprint)
        if decision is None:
            session = self.sessions()
            decision = await run_in_threadpool(self._claim, session, key_id, key, fingerprint)
            if decision.action == "proceed":
                await self._run(scope, replay_receive, send, session, key_id, key)
                return
        if decision.action in ("reused", "in_flight"):
            await _refusal(decision.action)(scope, replay_receive, send)
            return
        body = await run_in_threadpool(self._readable_now, principal, decision, scope["path"])
        await _send(send, decision.status or 200, decision.content_type, body, replayed=True)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, session: Session, key_id: str, key: str
    ) -> None:
        scope.setdefault("state", {})["session"] = session
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        try:
            work = await run_in_threadpool(session.begin_nested)
            await self.app(scope, receive, capture)
        except BaseException:
            await run_in_threadpool(self._abandon, session, key_id, key)
            raise
        start = next(m for m in captured if m["type"] == "http.response.start")
        status = int(start["status"])
        content_type = Headers(raw=start.get("headers", [])).get("content-type")
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        ctx = scope["state"].get("context")  # set by the request's context dependency
        try:
            stored = await run_in_threadpool(
                self._finish, session, work, key_id, key, status, content_type, body, ctx
            )
        except DBAPIError as error:  # its text may quote personal data: type and state only
            log.error(
                "api.idempotency.commit_failed",
                extra={
                    "error": f"{type(error.orig).__name__} "
                    f"sqlstate={getattr(error.orig, 'sqlstate', None)}"
                },
            )
            stored = False
        except Exception as error:  # the claim was taken over meanwhile: nothing was kept
            log.error("api.idempotency.not_kept", extra={"error": type(error).__name__})
            stored = False
        if not stored:
            refused = NotSaved(
                "the request could not be saved; send it again with the same Idempotency-Key"
            )
            await _answer(refused)(scope, receive, send)
            return
        for message in captured:
            await send(message)

    def _peek(self, key_id: str, key: str, fingerprint: str) -> Decision | None:
        """The decision for a key already claimed, read without taking a write lock.

        On SQLite the first request holds the only write lock while it works: a twin must
        learn that it is in flight from a read, not wait for the lock to claim.
        """
        with self.readers() as session:
            return claims.peek(session, key_id, key, fingerprint)

    def _claim(self, session: Session, key_id: str, key: str, fingerprint: str) -> Decision:
        """Claim the key in ``session``'s transaction (PostgreSQL) or in a committed
        transaction of its own (SQLite); ``session`` is closed unless the request proceeds."""
        try:
            if claims.claims_in_request_transaction(session):
                decision = claims.claim(session, key_id, key, fingerprint)
            else:
                decision = claims.claim_and_hold(
                    key_id,
                    key,
                    lambda: run_in_transaction(
                        self.sessions, lambda s: claims.claim(s, key_id, key, fingerprint)
                    ),
                )
        except BaseException:
            session.rollback()
            session.close()
            raise
        if decision.action != "proceed":
            session.rollback()
            session.close()
        return decision

    def _principal(self, authorization: str) -> Principal | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        with self.readers() as session:
            return authenticate(session, token.strip())

    def _readable_now(self, principal: Principal, decision: Decision, path: str) -> bytes:
        """The stored answer as the caller may read it now: a patient in it may have moved
        away from the caller, or been erased, since it was first given."""
        with self.readers() as session:
            return replays.as_readable_now(
                session, principal, decision.status or 200, decision.body, path=path
            )

    def _finish(
        self,
        session: Session,
        work: SessionTransaction,
        key_id: str,
        key: str,
        status: int,
        content_type: str | None,
        body: bytes,
        ctx: Context | None = None,
    ) -> bool:
        """Commit the work with its answer, or a refusal's answer alone with the audit rows
        of the refused attempt (``Context.audit_refusal``); False when nothing was kept."""
        try:
            if status >= 500:
                session.rollback()
                self._release(key_id, key)
                return True
            if status >= 400 and not keeps_refusals(session):
                work.rollback()
            elif work.is_active:
                work.commit()
            if status in COME_BACK_LATER:
                claims.release(session, key_id, key)
            else:
                claims.store(session, key_id, key, status, content_type, body)
            if status >= 400 and ctx is not None:
                ctx.write_refusals(session)  # a refused attempt's audit rows
            session.commit()
            return True
        except Exception:
            session.rollback()
            self._release(key_id, key)
            raise
        finally:
            session.close()
            claims.let_go(key_id, key)

    def _abandon(self, session: Session, key_id: str, key: str) -> None:
        session.rollback()
        session.close()
        try:
            self._release(key_id, key)
        finally:
            claims.let_go(key_id, key)

    def _release(self, key_id: str, key: str) -> None:
        """Drop a claim committed apart (SQLite); on PostgreSQL the rollback already has."""
        run_in_transaction(self.sessions, lambda s: claims.release(s, key_id, key))


def _answer(error: Exception) -> Response:
    answer = from_exception(error)
    assert answer is not None, f"{type(error).__name__} has no entry in api.errors.MAPPING"
    return answer


def _refusal(action: str) -> Response:
    """The answer to a repeat that may not run: its key was reused, or its twin still runs."""
    if action == "reused":
        return _answer(
            IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request; use a new key"
            )
        )
    return _answer(
        RequestInFlight(
            "the first request with this Idempotency-Key is still being processed; "
            "repeat it in a moment to get its answer"
        )
    )


def _fingerprint(scope: Scope, body: bytes, pseudonyms: Pseudonyms) -> str:
    """The request's keyed hash; JSON bodies are compared by content, not by spacing."""
    try:
        canonical: Any = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError):
        canonical = body.hex()
    target = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}"
    return pseudonyms.request(f"{target}\n{canonical}")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replayer(body: bytes, original: Receive) -> Receive:
    """Hand the already-read body to the app once, then listen to the real connection."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


async def _send(
    send: Send, status: int, content_type: str | None, body: bytes, *, replayed: bool
) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
