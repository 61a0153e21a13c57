"""The console's pages: sign-in, sign-out, the password change, and the home page.

Each page parses, authorises through a dependency, calls one action and presents; forms
answer with a redirect (post-redirect-get).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from actions import staff
from api.deps import NowDep
from api.errors import redirect
from api.web.deps import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    CheckedFormDep,
    LoginFormDep,
    MemberDep,
    PageSessionDep,
    RecordingPageSessionDep,
    Visitor,
    VisitorDep,
    login_csrf,
)
from api.web.render import render

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
    """The person's home page: who they are and their scope."""
    return page(visitor, "home.html")


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


@router.post("/logout")
def sign_out(session: PageSessionDep, visitor: VisitorDep, form: CheckedFormDep) -> Response:
    """Sign out: the session ends and its cookie is cleared."""
    staff.sign_out(session, visitor.ctx, visitor.token)
    response = redirect("/console/login")
    response.delete_cookie(COOKIE, path="/")
    return response
