"""The console's sign-in, over HTTP with a browser's cookies: forms, cookies, CSRF, limits,
forced password change, sign-out, idle timeout, and a disabled account signed out at once."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from collections.abc import Callable, Iterator

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from actions import staff
from actions.context import Context, system_context
from api.app import create_app
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import AuditEvent
from ledger.services.staff import find_account
from ledger.settings import Settings, get_settings
from notifications.calendar import SendingCalendar
from tests.api.conftest import StrictClient
from tests.factories import make_clinic

PER_ACCOUNT = 3
PER_ADDRESS = 8
NEW_PASSWORD = "새비밀번호-correct-horse"
_hours = itertools.count(1)


@pytest.fixture(scope="module")
def app(engine: Engine, database_url: str) -> FastAPI:
    settings = Settings(
        database_url=database_url,
        sign_ins_per_account=PER_ACCOUNT,
        sign_ins_per_address=PER_ADDRESS,
        web_idle_minutes=30,
    )
    return create_app(settings, engine=engine)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[StrictClient]:
    """A fresh browser (its own cookies) per test."""
    with StrictClient(app) as client:
        yield client


@pytest.fixture(autouse=True)
def own_window(clock: Callable[[dt.datetime], None]) -> dt.datetime:
    """Each test at its own hour, so the sign-in limits' windows do not carry over."""
    moment = dt.datetime(2024, 6, 14, 0, 0, tzinfo=SEOUL) + dt.timedelta(hours=next(_hours))
    clock(moment)
    return moment


def command_line() -> Context:
    return system_context("command line", SendingCalendar.from_settings(get_settings()))


def make_person(
    sessions: sessionmaker[Session], role: str = "clinic", **scope: object
) -> tuple[str, str]:
    """A new account (a clinic's receptionist unless told): its login and one-time password."""
    login = f"p{uuid.uuid4().hex[:10]}"
    with session_scope(sessions) as session:
        if role == "clinic" and "clinic_id" not in scope:
            scope["clinic_id"] = make_clinic(session).id
        issued = staff.create_account(
            session,
            command_line(),
            login=login,
            name="정접수",
            role=role,
            **scope,  # type: ignore[arg-type]
        )
    return login, issued.password


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(browser: StrictClient, login: str, password: str) -> httpx.Response:
    form = browser.get("/console/login")
    return browser.post(
        "/console/login",
        data={"csrf_token": csrf(form), "login": login, "password": password},
        follow_redirects=False,
    )


def member(browser: StrictClient, sessions: sessionmaker[Session], **scope: object) -> str:
    """Sign a new person in and change their one-time password; their login."""
    login, password = make_person(sessions, **scope)
    sign_in(browser, login, password)
    page = browser.get("/console/password")
    answer = browser.post(
        "/console/password",
        data={
            "csrf_token": csrf(page),
            "current": password,
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return login


def test_opening_the_service_signed_out_shows_the_sign_in_page(browser: StrictClient) -> None:
    page = browser.get("/")
    assert page.status_code == 200
    assert str(page.url).endswith("/console/login")
    assert "로그인" in page.text and 'lang="ko"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "style-src 'self'" in page.headers["content-security-policy"]


def test_the_stylesheet_is_served_by_the_app(browser: StrictClient) -> None:
    css = browser.get("/console/static/console.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_a_new_account_must_change_its_password_before_anything_else(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    login, password = make_person(sessions)
    answer = sign_in(browser, login, password)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/password")
    home = browser.get("/console/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/console/password")
    page = browser.get("/console/password")
    refused = browser.post(
        "/console/password",
        data={"csrf_token": csrf(page), "current": password, "new": "short", "confirm": "short"},
    )
    assert refused.status_code == 422
    assert "10자 이상" in refused.text
    mismatch = browser.post(
        "/console/password",
        data={
            "csrf_token": csrf(page),
            "current": password,
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD + "x",
        },
    )
    assert mismatch.status_code == 422 and "서로 다릅니다" in mismatch.text
    done = browser.post(
        "/console/password",
        data={
            "csrf_token": csrf(page),
            "current": password,
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert done.status_code == 200 and "정접수님" in done.text and "의원 계정" in done.text


def test_the_home_page_names_the_person_and_their_scope(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    member(browser, sessions, role="health_center", district="11740")
    home = browser.get("/console/")
    assert "정접수님" in home.text and "강동구 보건소" in home.text and "로그아웃" in home.text


def test_the_session_cookie_is_httponly_lax_and_rotated_at_sign_in(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    login = member(browser, sessions)
    first = browser.cookies["mileage_session"]
    answer = sign_in(browser, login, NEW_PASSWORD)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    second = browser.cookies["mileage_session"]
    assert second != first
    with StrictClient(browser.app) as thief:
        thief.cookies.set("mileage_session", first)
        stale = thief.get("/console/", follow_redirects=False)
    assert stale.headers["location"] == "/console/login"
    assert browser.get("/console/").status_code == 200


def test_the_cookie_is_secure_when_the_public_url_is_https(
    engine: Engine, database_url: str, sessions: sessionmaker[Session]
) -> None:
    app = create_app(
        Settings(database_url=database_url, public_url="https://mileage.example"), engine=engine
    )
    login, password = make_person(sessions)
    with StrictClient(app, base_url="https://testserver") as browser:
        answer = sign_in(browser, login, password)
    assert "secure" in answer.headers["set-cookie"].lower()


def test_a_form_without_its_csrf_token_is_refused(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    member(browser, sessions)
    refused = browser.post("/console/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert "양식" in refused.text and "application/problem+json" not in refused.headers.get(
        "content-type", ""
    )
    assert browser.get("/console/").status_code == 200  # still signed in
    no_token = browser.post("/console/logout")
    assert no_token.status_code == 403


def test_a_sign_in_form_not_from_the_sign_in_page_is_refused(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    login, password = make_person(sessions)
    refused = browser.post("/console/login", data={"login": login, "password": password})
    assert refused.status_code == 403
    assert "mileage_session" not in browser.cookies


def test_a_wrong_password_is_refused_in_korean_and_audited(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    login, _ = make_person(sessions)
    refused = sign_in(browser, login, "not-the-password")
    assert refused.status_code == 401
    assert "아이디 또는 비밀번호가 맞지 않거나" in refused.text
    with session_scope(sessions) as session:
        account = find_account(session, login)
        assert account is not None
        outcomes = session.execute(
            select(AuditEvent.outcome).where(
                AuditEvent.action == "staff.sign_in", AuditEvent.account_id == account.id
            )
        ).scalars()
        assert list(outcomes) == ["failed"]


def test_sign_in_is_limited_per_account_with_a_clear_message(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    login, password = make_person(sessions)
    for _ in range(PER_ACCOUNT):
        assert sign_in(browser, login, "not-the-password").status_code == 401
    limited = sign_in(browser, login.upper(), password)
    assert limited.status_code == 429
    assert "로그인 시도가 너무 많습니다" in limited.text and "초 뒤에" in limited.text
    assert "mileage_session" not in browser.cookies


def test_sign_in_is_limited_per_address(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    for _ in range(PER_ADDRESS):
        assert sign_in(browser, f"nobody{uuid.uuid4().hex[:6]}", "guess-guess").status_code == 401
    login, password = make_person(sessions)
    assert sign_in(browser, login, password).status_code == 429


def test_a_disabled_account_is_signed_out_at_its_next_request(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    login = member(browser, sessions)
    assert browser.get("/console/").status_code == 200
    with session_scope(sessions) as session:
        account = find_account(session, login)
        assert account is not None
        staff.disable_account(session, command_line(), account)
    gone = browser.get("/console/", follow_redirects=False)
    assert (gone.status_code, gone.headers["location"]) == (303, "/console/login")
    assert sign_in(browser, login, NEW_PASSWORD).status_code == 401


def test_an_idle_session_expires(
    browser: StrictClient,
    sessions: sessionmaker[Session],
    clock: Callable[[dt.datetime], None],
    own_window: dt.datetime,
) -> None:
    member(browser, sessions)
    clock(own_window + dt.timedelta(minutes=29))
    assert browser.get("/console/").status_code == 200  # a request moves the expiry on
    clock(own_window + dt.timedelta(minutes=58))
    assert browser.get("/console/").status_code == 200
    clock(own_window + dt.timedelta(minutes=89))
    assert browser.get("/console/", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    member(browser, sessions)
    home = browser.get("/console/")
    token = browser.cookies["mileage_session"]
    out = browser.post("/console/logout", data={"csrf_token": csrf(home)}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/console/login")
    with StrictClient(browser.app) as again:
        again.cookies.set("mileage_session", token)
        assert again.get("/console/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"login=%ff%fe&password=\x00&csrf_token=",
        b"a" * 5000,
        b"&".join(b"f%d=x" % n for n in range(200)),
        b'{"login": "json"}',
    ],
)
def test_bad_form_bodies_never_fail_the_pages(
    browser: StrictClient, sessions: sessionmaker[Session], body: bytes
) -> None:
    member(browser, sessions)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    for path in ("/console/login", "/console/password", "/console/logout"):
        answer = browser.post(path, content=body, headers=headers)
        assert answer.status_code in (403, 422), (path, answer.status_code)
    assert browser.get("/console/nowhere").status_code == 404


def issued_password(page: httpx.Response) -> str:
    found = re.search(r'<output id="one-time-password">([^<]+)</output>', page.text)
    assert found, page.text
    return found.group(1)


def test_the_city_creates_a_health_centre_account_in_the_console(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    member(browser, sessions, role="city")
    form = browser.get("/console/staff")
    assert form.status_code == 200 and "강동구" in form.text
    login = f"hc{uuid.uuid4().hex[:8]}"
    created = browser.post(
        "/console/staff",
        data={"csrf_token": csrf(form), "login": login, "name": "오보건", "where": "11740"},
    )
    assert created.status_code == 200
    password = issued_password(created)
    with StrictClient(browser.app) as newcomer:
        assert sign_in(newcomer, login, password).headers["location"] == "/console/password"
    with session_scope(sessions) as session:
        account = find_account(session, login)
        assert account is not None
        assert (account.role, account.district, account.created_by) == (
            "health_center",
            "11740",
            "정접수",
        )
    assert login in browser.get("/console/staff").text


def test_a_health_centre_creates_accounts_only_at_its_districts_clinics(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        own, elsewhere = make_clinic(session).id, make_clinic(session, district="11215").id
    member(browser, sessions, role="health_center", district="11740")
    form = browser.get("/console/staff")
    assert own in form.text and elsewhere not in form.text
    refused = browser.post(
        "/console/staff",
        data={
            "csrf_token": csrf(form),
            "login": f"x{uuid.uuid4().hex[:8]}",
            "name": "x",
            "where": elsewhere,
        },
    )
    assert refused.status_code == 404
    lead = browser.post(
        "/console/staff",
        data={
            "csrf_token": csrf(form),
            "login": f"l{uuid.uuid4().hex[:8]}",
            "name": "한원장",
            "where": own,
            "lead": "on",
        },
    )
    assert lead.status_code == 200 and "임시 비밀번호" in lead.text


def test_a_receptionist_may_not_manage_accounts(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    member(browser, sessions)
    assert "계정 관리" not in browser.get("/console/").text
    assert browser.get("/console/staff").status_code == 403
    home = browser.get("/console/")
    refused = browser.post(
        "/console/staff", data={"csrf_token": csrf(home), "login": "zzz-x", "name": "x"}
    )
    assert refused.status_code == 403


def test_a_clinic_lead_disables_a_receptionist_who_is_then_signed_out(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        clinic_id = make_clinic(session).id
    with StrictClient(browser.app) as desk:
        receptionist = member(desk, sessions, clinic_id=clinic_id)
        lead_login = member(browser, sessions, clinic_id=clinic_id, clinic_lead=True)
        listing = browser.get("/console/staff")
        assert receptionist in listing.text and lead_login not in listing.text
        with session_scope(sessions) as session:
            account = find_account(session, receptionist)
            assert account is not None
            account_id = account.id
        done = browser.post(
            f"/console/staff/{account_id}/disable",
            data={"csrf_token": csrf(listing)},
            follow_redirects=False,
        )
        assert (done.status_code, done.headers["location"]) == (303, "/console/staff")
        gone = desk.get("/console/", follow_redirects=False)
        assert gone.headers["location"] == "/console/login"


def test_an_account_outside_the_managers_scope_answers_as_a_missing_one(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    other_login, _ = make_person(sessions, role="health_center", district="11215")
    member(browser, sessions, role="health_center", district="11740")
    with session_scope(sessions) as session:
        other = find_account(session, other_login)
        assert other is not None
        other_id = other.id
    token = csrf(browser.get("/console/staff"))
    for target in (other_id, "stf_nobody", "../../etc"):
        answer = browser.post(f"/console/staff/{target}/reset-password", data={"csrf_token": token})
        assert answer.status_code == 404, target
    forged = browser.post(f"/console/staff/{other_id}/disable", data={"csrf_token": "x"})
    assert forged.status_code == 403


def test_good_sign_ins_do_not_use_up_the_limits(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    """Colleagues behind one address, and one person signing in all day, are never braked."""
    login, password = make_person(sessions)
    for _ in range(PER_ADDRESS + PER_ACCOUNT):
        assert sign_in(browser, login, password).status_code == 303
    for _ in range(PER_ACCOUNT):
        assert sign_in(browser, login, "not-the-password").status_code == 401
    assert sign_in(browser, login, password).status_code == 429
