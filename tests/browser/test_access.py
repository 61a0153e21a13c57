"""In Chromium: what keeps a person's session theirs and their scope theirs. A form posted
without its CSRF token is refused, repeated wrong passwords are braked with a clear message,
a disabled account is signed out at its next click, and another clinic's patient or a health
centre's page is out of a clinic's reach."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser
from sqlalchemy import Engine

from actions import staff
from actions.context import system_context
from ledger.db import make_session_factory, session_scope
from ledger.services.staff import find_account
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar
from tests.browser.conftest import make_member, sign_in
from tests.factories import make_clinic, make_patient

pytestmark = pytest.mark.engine("sqlite")


def test_a_form_without_its_csrf_token_is_refused(
    chromium: Browser, served: str, engine: Engine
) -> None:
    login, password = make_member(engine, "최보안")
    page = chromium.new_page()
    sign_in(page, served, login, password)
    page.goto(served + "/console/staff")
    page.fill("#login", f"n{uuid.uuid4().hex[:8]}")
    page.fill("#name", "한위조")
    # a page of another site would post this form without the session's token
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.click("button:has-text('계정 만들기')")
    assert (
        "이 양식은 만료되었거나 이 사이트에서 보낸 것이 아닙니다"
        in page.locator("p.error").inner_text()
    )
    page.goto(served + "/console/staff")
    assert "한위조" not in page.content()
    page.close()


def test_repeated_wrong_passwords_are_braked_with_a_clear_message(
    chromium: Browser, served: str, engine: Engine
) -> None:
    login, password = make_member(engine, "최보안")
    page = chromium.new_page()
    for _ in range(get_settings().sign_ins_per_account):
        sign_in(page, served, login, "틀린-비밀번호")
        assert "아이디 또는 비밀번호가 맞지 않거나" in page.locator("p.error").inner_text()
    sign_in(page, served, login, password)
    message = page.locator("p.error").inner_text()
    assert "로그인 시도가 너무 많습니다" in message and "초 뒤에 다시 시도해 주세요" in message
    assert page.url.endswith("/console/login")
    page.close()


def test_a_disabled_account_is_signed_out_at_its_next_click(
    chromium: Browser, served: str, engine: Engine
) -> None:
    login, password = make_member(engine, "최보안")
    page = chromium.new_page()
    sign_in(page, served, login, password)
    assert page.url.endswith("/console/")
    ctx = system_context("command line", SendingCalendar.from_settings(get_settings()))
    with session_scope(make_session_factory(engine)) as session:
        account = find_account(session, login)
        assert account is not None
        staff.disable_account(session, ctx, account)
    page.click("a:has-text('계정 관리')")
    page.wait_for_url("**/console/login")
    assert page.locator("h1").inner_text() == "로그인"
    page.close()


def test_another_clinics_patient_reads_as_a_missing_one_and_centre_pages_are_closed(
    chromium: Browser, served: str, engine: Engine
) -> None:
    with session_scope(make_session_factory(engine)) as session:
        ours, theirs = make_clinic(session), make_clinic(session)
        patient_id = make_patient(session, theirs).patient.id
    login, password = make_member(engine, "문범위", "clinic", clinic_id=ours.id)
    page = chromium.new_page()
    sign_in(page, served, login, password)
    page.goto(f"{served}/console/patients/{patient_id}")
    theirs_shown = (page.locator("h1").inner_text(), page.locator("main").inner_text())
    page.goto(f"{served}/console/patients/pat_{'0' * 26}")
    missing_shown = (page.locator("h1").inner_text(), page.locator("main").inner_text())
    assert theirs_shown == missing_shown
    assert theirs_shown[0] == "찾을 수 없습니다"
    answer = page.goto(f"{served}/console/districts/{ours.district}/texts")
    assert answer is not None and answer.status == 403
    assert page.locator("h1").inner_text() == "할 수 없는 일입니다"
    page.close()
