"""The browser tests' fixtures: Debian's headless Chromium driven by Playwright (never a
downloaded browser), and the app served on a free port over the test database."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from actions import staff
from actions.context import system_context
from api.app import create_app
from ledger.db import make_session_factory, session_scope
from ledger.services.staff import find_account
from ledger.settings import Settings, get_settings
from notifications.calendar import SendingCalendar
from tests.pgcluster import free_port

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def system_chromium() -> str | None:
    for name in ("chromium", "chromium-headless-shell"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    path = system_chromium()
    if path is None:  # never a skip: a browser test that does not run is a failure
        pytest.fail(
            "no system Chromium: `make test` installs Debian's chromium "
            "(tests/ensure-browser.sh), or run: sudo apt-get install -y chromium"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(engine: Engine, database_url: str) -> Iterator[str]:
    """The app served on a free port, in a thread, over the test database."""
    app = create_app(Settings(database_url=database_url), engine=engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def new_account(engine: Engine, name: str, role: str, **scope: object) -> tuple[str, str]:
    """A new staff account, made on the command line: its login and one-time password."""
    login = f"b{uuid.uuid4().hex[:8]}"
    ctx = system_context("command line", SendingCalendar.from_settings(get_settings()))
    with session_scope(make_session_factory(engine)) as session:
        issued = staff.create_account(
            session,
            ctx,
            login=login,
            name=name,
            role=role,
            **scope,  # type: ignore[arg-type]
        )
    return login, issued.password


def focused(page: Page, element_id: str) -> None:
    """Wait until the page has put the focus on ``element_id`` (its autofocus)."""
    page.wait_for_function(
        f"document.activeElement && document.activeElement.id === {element_id!r}"
    )


def sign_in_by_keyboard(page: Page, served: str, login: str, password: str, new: str) -> None:
    """Sign in with a one-time password and change it, by keyboard only (each form's first
    field has the focus; Tab moves on; Enter sends)."""
    page.goto(served + "/")
    focused(page, "login")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/console/password")
    focused(page, "current")
    page.keyboard.type(password)
    page.keyboard.press("Tab")
    page.keyboard.type(new)
    page.keyboard.press("Tab")
    page.keyboard.type(new)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/console/")


MEMBER_PASSWORD = "책상-앞의-비밀번호-2024"


def make_member(engine: Engine, name: str, role: str = "city", **scope: str) -> tuple[str, str]:
    """A new account whose one-time password is already changed: its login and password."""
    login, one_time = new_account(engine, name, role, **scope)
    ctx = system_context("command line", SendingCalendar.from_settings(get_settings()))
    with session_scope(make_session_factory(engine)) as session:
        account = find_account(session, login)
        assert account is not None
        staff.change_password(
            session,
            ctx,
            account,
            current=one_time,
            new=MEMBER_PASSWORD,
            confirm=MEMBER_PASSWORD,
            keep_session=None,
        )
    return login, MEMBER_PASSWORD


def sign_in(page: Page, served: str, login: str, password: str) -> None:
    """Sign in through the sign-in page, as a person types."""
    page.goto(served + "/console/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_load_state()
