"""In a real browser (Debian's headless Chromium, driven by Playwright): a person opens the
service, signs in with a one-time password, changes it, sees their home page, signs out."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser
from sqlalchemy import Engine

from actions import staff
from actions.context import system_context
from ledger.db import make_session_factory, session_scope
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar


@pytest.mark.engine("sqlite")
def test_a_person_signs_in_changes_the_password_and_signs_out(
    chromium: Browser, served: str, engine: Engine
) -> None:
    login = f"b{uuid.uuid4().hex[:8]}"
    ctx = system_context("command line", SendingCalendar.from_settings(get_settings()))
    with session_scope(make_session_factory(engine)) as session:
        password = staff.create_account(
            session, ctx, login=login, name="김서울", role="city"
        ).password
    page = chromium.new_page()
    page.goto(served + "/")
    assert page.url.endswith("/console/login")
    assert page.locator("h1").inner_text() == "로그인"
    # the app's own stylesheet loaded under the page's CSP (large type at a desk)
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "18px"
    assert page.evaluate("document.activeElement.id") == "login"
    page.fill("#login", login.upper())
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_url("**/console/password")
    page.fill("#current", password)
    page.fill("#new", "새로운-비밀번호-2024")
    page.fill("#confirm", "새로운-비밀번호-2024")
    page.click("button:has-text('비밀번호 바꾸기')")
    page.wait_for_url("**/console/")
    assert "김서울님" in page.locator("h1").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "mileage_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("button:has-text('로그아웃')")
    page.wait_for_url("**/console/login")
    page.goto(served + "/console/")
    assert page.url.endswith("/console/login")
    page.close()
