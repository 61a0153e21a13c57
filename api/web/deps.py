"""The console's request dependencies: the transaction, the signed-in person, the forms.

A console page's session is always a writer's: every request moves its session's idle
expiry on. A page is for a signed-in person (``VisitorDep``) who has changed their one-time
password (``MemberDep``); every form carries the session's CSRF token, checked before the
form is used (``CheckedFormDep``). The sign-in form, sent before any session exists, carries
a token that must match its own cookie (double submit) instead.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from actions import policy
from actions.context import Context
from api.deps import (
    CalendarDep,
    NowDep,
    TodayDep,
    get_session,
    keep_refusals,
    transaction,
)
from api.errors import CsrfRefused, InvalidRequest, PasswordChangeRequired, SignedOut
from ledger.db import session_scope
from ledger.services import clinics, staff

if TYPE_CHECKING:
    from ledger.models import StaffAccount

__all__ = [
    "COOKIE",
    "LOGIN_CSRF_COOKIE",
    "CheckedFormDep",
    "FormDep",
    "LoginFormDep",
    "ManagedAccountDep",
    "MemberDep",
    "PageSessionDep",
    "Person",
    "RecordingPageSessionDep",
    "Visitor",
    "VisitorDep",
    "login_csrf",
]

COOKIE = "mileage_session"
LOGIN_CSRF_COOKIE = "mileage_login_csrf"
FORM_LIMIT = 64  # fields; the body's size is already bounded by api.limits


def get_page_session(request: Request) -> Iterator[Session]:
    """The page's transaction: committed after the route; rolled back when it raises, unless
    its refusals are records (``keep_refusals``: a refused sign-in keeps its count and audit)."""
    yield from transaction(request, session_scope(request.app.state.sessions))


# Named through the API's ``get_session``, which the console overrides with
# ``get_page_session``: FastAPI shares a dependency by the callable a route names, so the
# API's authorisation dependencies (``api.authorise``, taking ``SessionDep``) and the page
# then work in one transaction, not two (two would wait on each other on SQLite).
PageSessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_recording_page_session(session: PageSessionDep) -> Session:
    keep_refusals(session)
    return session


RecordingPageSessionDep = Annotated[Session, Depends(get_recording_page_session)]


async def get_form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first value of each; unreadable bytes replaced)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        fields = parse_qsl(body, keep_blank_values=True, max_num_fields=FORM_LIMIT)
    except ValueError as error:
        raise InvalidRequest(f"a form has at most {FORM_LIMIT} fields") from error
    form: dict[str, str] = {}
    for name, value in fields:
        form.setdefault(name, value)
    return form


FormDep = Annotated[dict[str, str], Depends(get_form)]


def login_csrf(request: Request) -> str:
    """The sign-in form's token: its cookie's, or a new one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def _same(sent: str | None, expected: str | None) -> bool:
    return bool(sent and expected) and hmac.compare_digest(str(sent), str(expected))


def get_login_form(request: Request, form: FormDep) -> dict[str, str]:
    """The sign-in form, whose token must match its cookie's (double submit)."""
    if not _same(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise CsrfRefused("the sign-in form was not sent from this site's page")
    return form


LoginFormDep = Annotated[dict[str, str], Depends(get_login_form)]


@dataclass(frozen=True)
class Person:
    """What the pages show of the signed-in person, read while the transaction is open (an
    error page is rendered after its rollback)."""

    name: str
    role: str
    scope: str
    clinic_lead: bool
    must_change_password: bool

    @property
    def manages_accounts(self) -> bool:
        """The city, a health centre and a clinic's lead manage others' accounts."""
        return self.role != "clinic" or self.clinic_lead


@dataclass(frozen=True)
class Visitor:
    """A signed-in person: their account (for the actions), what the pages show of them, this
    session (its cookie's token, its hash and its CSRF token) and their context."""

    account: StaffAccount
    person: Person
    token: str
    token_hash: str
    csrf_token: str
    ctx: Context


def _scope_in_words(session: Session, account: StaffAccount) -> str:
    """서울시, a district's health centre, or the clinic's name."""
    if account.clinic_id is not None:
        return clinics.get_clinic(session, account.clinic_id).name
    if account.district is not None:
        return f"{clinics.get_district(session, account.district).name} 보건소"
    return "서울시"


def get_visitor(
    request: Request,
    session: PageSessionDep,
    now: NowDep,
    today: TodayDep,
    calendar: CalendarDep,
) -> Visitor:
    """The person whose live session the cookie names; else the sign-in page."""
    state = request.app.state
    token = request.cookies.get(COOKIE, "")
    idle = state.safeguards.sign_in.idle
    found = staff.authenticate_session(session, token, now=now, idle=idle) if token else None
    if found is None:
        raise SignedOut("sign in first")
    account, row = found
    ctx = Context(
        staff.principal_of(account),
        now,
        today,
        calendar,
        client=getattr(request.state, "client", None),
        request_id=getattr(request.state, "request_id", None),
        safeguards=state.safeguards,
    )
    request.state.context = ctx
    person = Person(
        account.name,
        account.role,
        _scope_in_words(session, account),
        account.clinic_lead,
        account.must_change_password,
    )
    visitor = Visitor(account, person, token, row.token_hash, row.csrf_token, ctx)
    request.state.visitor = visitor
    return visitor


VisitorDep = Annotated[Visitor, Depends(get_visitor)]


def get_member(visitor: VisitorDep) -> Visitor:
    """A signed-in person who has changed their one-time password."""
    if visitor.person.must_change_password:
        raise PasswordChangeRequired("change the one-time password first")
    return visitor


MemberDep = Annotated[Visitor, Depends(get_member)]


def get_checked_form(request: Request, visitor: VisitorDep, form: FormDep) -> dict[str, str]:
    """A form sent with this session's CSRF token (checked before anything in it is used)."""
    if not _same(form.get("csrf_token"), visitor.csrf_token):
        raise CsrfRefused("the form's CSRF token is not this session's")
    return form


CheckedFormDep = Annotated[dict[str, str], Depends(get_checked_form)]


def get_managed_account(
    session: PageSessionDep, visitor: MemberDep, account_id: str
) -> StaffAccount:
    """An account the person manages: the role first, then the account's scope (one outside
    it answers as a missing one)."""
    policy.creates_role(visitor.ctx.principal)
    account = staff.get_account(session, account_id)
    policy.check_staff_manage(visitor.ctx.principal, account)
    return account


ManagedAccountDep = Annotated["StaffAccount", Depends(get_managed_account)]
