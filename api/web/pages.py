"""The console's pages: sign-in, sign-out, the password change, the home page, and the
management of the accounts a person manages (계정 관리).

Each page parses, authorises through a dependency, calls one action and presents; forms
answer with a redirect (post-redirect-get), except those that issue a one-time password,
which is shown on their answer only and never stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from actions import policy, staff
from api.deps import NowDep
from api.errors import redirect
from api.web.deps import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    CheckedFormDep,
    LoginFormDep,
    ManagedAccountDep,
    MemberDep,
    PageSessionDep,
    RecordingPageSessionDep,
    Visitor,
    VisitorDep,
    login_csrf,
)
from api.web.render import render
from ledger.services import clinics

__all__ = ["login_page", "page", "router"]

router = APIRouter(include_in_schema=False)


def page(visitor: Visitor, template: str, status: int = 200, **values: object) -> HTMLResponse:
    """A signed-in person's page: their name, scope and the sign-out form in its header."""
    return render(
        template,
        status,
        account=visitor.person,
        scope=visitor.person.scope,
        csrf_token=visitor.csrf_token,
        **values,
    )


def login_page(request: Request, status: int = 200, **values: object) -> HTMLResponse:
    """The sign-in form, with its double-submit token set in a cookie of its own."""
    token = login_csrf(request)
    response = render("login.html", status, login_csrf=token, **values)
    secure = request.app.state.public_url.startswith("https:")
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/console"
    )
    return response


def signed_in(request: Request, url: str, token: str) -> RedirectResponse:
    response = redirect(url)
    secure = request.app.state.public_url.startswith("https:")
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")
    return response


@router.get("/")
def home(session: PageSessionDep, visitor: MemberDep) -> HTMLResponse:
    """The person's home page: who they are, their scope and where they may go."""
    principal = visitor.ctx.principal
    districts = (
        clinics.list_districts(session, after=None, limit=25) if principal.role == "city" else []
    )
    return page(visitor, "home.html", district=principal.district, districts=districts)


@router.get("/login")
def sign_in_form(request: Request) -> HTMLResponse:
    """The sign-in form (로그인)."""
    return login_page(request)


@router.post("/login")
def sign_in(
    request: Request, session: RecordingPageSessionDep, form: LoginFormDep, now: NowDep
) -> RedirectResponse:
    """Sign in: a new session (any the browser had ends), then home or the password page."""
    done = staff.sign_in(
        session,
        login=form.get("login", ""),
        password=form.get("password", ""),
        now=now,
        safeguards=request.app.state.safeguards,
        client=getattr(request.state, "client", None),
        request_id=getattr(request.state, "request_id", None),
        replacing=request.cookies.get(COOKIE),
    )
    target = "/console/password" if done.account.must_change_password else "/console/"
    return signed_in(request, target, done.token)


@router.get("/password")
def password_form(session: PageSessionDep, visitor: VisitorDep) -> HTMLResponse:
    """The password change (required after a new or reset password)."""
    return page(visitor, "password.html", errors={})


@router.post("/password")
def change_password(
    session: PageSessionDep, visitor: VisitorDep, form: CheckedFormDep
) -> RedirectResponse:
    """Change one's own password; the person's other sessions end."""
    staff.change_password(
        session,
        visitor.ctx,
        visitor.account,
        current=form.get("current", ""),
        new=form.get("new", ""),
        confirm=form.get("confirm", ""),
        keep_session=visitor.token_hash,
    )
    return redirect("/console/")


def creation_choices(session: Session, visitor: Visitor) -> list[tuple[str, str]]:
    """Where a new account may be: districts for the city, the district's clinics for a
    health centre; a clinic's lead creates at its own clinic, with no choice to make."""
    if visitor.person.role == "city":
        return [(d.code, d.name) for d in clinics.list_districts(session, after=None, limit=25)]
    if visitor.person.role == "health_center":
        district = visitor.ctx.principal.district
        found = clinics.list_clinics(
            session, district=district, clinic_id=None, after=None, limit=500
        )
        return [(c.id, c.name) for c in found]
    return []


def new_account_fields(form: dict[str, str], visitor: Visitor) -> dict[str, Any]:
    """The create form's fields as the action takes them (the role is the creator's to give)."""
    principal = visitor.ctx.principal
    choice = form.get("where") or None
    return {
        "login": form.get("login", ""),
        "name": form.get("name", ""),
        "role": policy.creates_role(principal),
        "district": choice if principal.role == "city" else None,
        "clinic_id": choice if principal.role == "health_center" else principal.clinic_id,
        "clinic_lead": form.get("lead") == "on",
    }


@router.get("/staff")
def accounts(session: PageSessionDep, visitor: MemberDep) -> HTMLResponse:
    """The accounts the person manages (계정 관리), and the form that creates one."""
    found = staff.list_accounts(session, visitor.ctx)
    choices = creation_choices(session, visitor)
    return page(visitor, "staff.html", accounts=found, choices=choices)


@router.post("/staff")
def create_account(
    session: PageSessionDep, visitor: MemberDep, form: CheckedFormDep
) -> HTMLResponse:
    """Create an account; its one-time password is shown on this page only."""
    fields = new_account_fields(form, visitor)
    issued = staff.create_account(session, visitor.ctx, **fields)
    return page(visitor, "issued.html", issued=issued.account, password=issued.password)


@router.post("/staff/{account_id}/disable")
def disable_account(
    session: PageSessionDep, form: CheckedFormDep, account: ManagedAccountDep, visitor: MemberDep
) -> RedirectResponse:
    """Disable an account at once: it is signed out at its next request."""
    staff.disable_account(session, visitor.ctx, account)
    return redirect("/console/staff")


@router.post("/staff/{account_id}/reset-password")
def reset_password(
    session: PageSessionDep, form: CheckedFormDep, account: ManagedAccountDep, visitor: MemberDep
) -> HTMLResponse:
    """A new one-time password for an account, shown on this page only."""
    issued = staff.reset_password(session, visitor.ctx, account)
    return page(visitor, "issued.html", issued=issued.account, password=issued.password)


@router.post("/logout")
def sign_out(session: PageSessionDep, visitor: VisitorDep, form: CheckedFormDep) -> Response:
    """Sign out: the session ends and its cookie is cleared."""
    staff.sign_out(session, visitor.ctx, visitor.token)
    response = redirect("/console/login")
    response.delete_cookie(COOKIE, path="/")
    return response
