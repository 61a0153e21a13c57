"""Request dependencies: the session (the transaction's edge), the caller, the clock, and the
action context built from them."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from actions.context import Context
from api.errors import BadSignature, Unauthenticated
from ledger import clock
from ledger.db import read_scope, run_in_transaction, session_scope
from ledger.errors import LedgerError
from ledger.services.access import Principal, authenticate
from notifications.calendar import SendingCalendar
from notifications.twilio import valid_signature

log = logging.getLogger("api.deps")

KEEP_REFUSALS = "keep_refusals"


def keep_refusals(session: Session) -> None:
    """Commit what the action writes even when it then refuses: for an action whose refusals
    are records themselves (a look-up that found nobody, or one past the caller's rate)."""
    session.info[KEEP_REFUSALS] = True


def keeps_refusals(session: Session) -> bool:
    return bool(session.info.get(KEEP_REFUSALS))


def get_session(request: Request) -> Iterator[Session]:
    """The request's session: committed after the route, before the answer is sent; rolled
    back when the route raises (unless it keeps its refusals, see ``keep_refusals``).

    A GET reads on a reader session, which waits for no writer; its audit rows are written
    after the route, in a short write transaction, still before the answer is sent. When the
    idempotency layer already opened a session (a POST with an Idempotency-Key), that one
    is used and the layer commits it together with the stored answer. A refusal rolls the
    work back; the audit rows of a refused attempt (``Context.audit_refusal``) are then
    written in a transaction of their own.
    """
    owned: Session | None = getattr(request.state, "session", None)
    if owned is not None:
        yield owned
        return
    state = request.app.state
    scope = (
        read_scope(state.readers, state.sessions)
        if request.method in ("GET", "HEAD")
        else session_scope(state.sessions)
    )
    yield from transaction(request, scope)


def transaction(request: Request, scope: AbstractContextManager[Session]) -> Iterator[Session]:
    """A request's transaction, for the API and the console alike: committed when the route
    returns; rolled back when it refuses, unless its refusals are records (``keep_refusals``),
    and then the audit rows of a refused attempt written in a transaction of their own."""
    try:
        with scope as session:
            try:
                yield session
            except LedgerError:
                if keeps_refusals(session):
                    session.commit()
                raise
    except LedgerError:
        sessions = request.app.state.sessions
        write_refused_attempts(sessions, getattr(request.state, "context", None))
        raise


def write_refused_attempts(sessions: sessionmaker[Session], ctx: Context | None) -> None:
    """Write the audit rows of the refused attempts ``ctx`` kept, after the rollback.

    The refusal is still the answer if they cannot be written (logged, never raised).
    """
    if ctx is None or not ctx.refusals:
        return
    try:
        run_in_transaction(sessions, ctx.write_refusals)
    except DBAPIError as error:  # its text may quote personal data: type and state only
        log.error(
            "api.audit.refusal_not_kept",
            extra={"error": f"{type(error.orig).__name__}", "request_id": ctx.request_id},
        )


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_recording_session(session: SessionDep) -> Session:
    """The request's session for an action whose refusals are records too: what the action
    wrote before it refused (its audit row, its count against the caller's rate) is kept."""
    keep_refusals(session)
    return session


RecordingSessionDep = Annotated[Session, Depends(get_recording_session)]

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthenticated("send the API key as `Authorization: Bearer <key>`")
    principal = authenticate(session, credentials.credentials)
    if principal is None:
        raise Unauthenticated("the API key is unknown or revoked")
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_now() -> dt.datetime:
    """Now, in Seoul; tests replace it to play a week of texts."""
    return clock.now()


NowDep = Annotated[dt.datetime, Depends(get_now)]


def get_today(now: NowDep) -> dt.date:
    """Today in Seoul; tests replace it to play a year."""
    return now.astimezone(clock.SEOUL).date()


TodayDep = Annotated[dt.date, Depends(get_today)]


def get_calendar(request: Request) -> SendingCalendar:
    calendar: SendingCalendar = request.app.state.calendar
    return calendar


CalendarDep = Annotated[SendingCalendar, Depends(get_calendar)]


def get_context(
    request: Request,
    principal: PrincipalDep,
    now: NowDep,
    today: TodayDep,
    calendar: CalendarDep,
) -> Context:
    """Who calls, when, and from where: handed to every action (and kept on the request,
    for the refusals it audits)."""
    ctx = Context(
        principal,
        now,
        today,
        calendar,
        # set by api.middleware, which believes forwarded headers from trusted proxies only
        client=getattr(request.state, "client", None),
        request_id=getattr(request.state, "request_id", None),
        safeguards=request.app.state.safeguards,
    )
    request.state.context = ctx
    return ctx


ContextDep = Annotated[Context, Depends(get_context)]


async def signed_twilio_form(request: Request) -> dict[str, str]:
    """The form Twilio posted, once its X-Twilio-Signature is checked against the service's
    public URL (with the query string) and the auth token."""
    # Twilio posts a form; read it without a multipart parser (it is never multipart).
    body = await request.body()
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    token = request.app.state.settings.twilio_auth_token
    query = f"?{request.url.query}" if request.url.query else ""
    url = f"{request.app.state.public_url.rstrip('/')}{request.url.path}{query}"
    signature = request.headers.get("x-twilio-signature", "")
    if token is None or not valid_signature(url, form, signature, token.get_secret_value()):
        raise BadSignature("the X-Twilio-Signature does not match this request")
    return form


SignedTwilioForm = Annotated[dict[str, str], Depends(signed_twilio_form)]


class PageParams:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
        cursor: Annotated[str | None, Query(description="from a previous page")] = None,
    ) -> None:
        self.limit, self.cursor = limit, cursor


PageDep = Annotated[PageParams, Depends()]
