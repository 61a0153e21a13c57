"""In a real browser (Debian's headless Chromium, driven by Playwright): a clinic's
receptionist at the desk (접수) finds, registers, records a visit and an attendance slip and
takes a payment (refused, then taken); and registers a patient by keyboard alone."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from ledger import clock
from ledger.db import make_session_factory, session_scope
from ledger.services import earning
from tests.browser.conftest import focused, new_account, sign_in_by_keyboard
from tests.factories import make_clinic, random_mobile

DISTRICT = "11740"
PASSWORD = "접수-비밀번호-2024"


def receptionist(engine: Engine) -> tuple[str, str, str]:
    """A clinic, today's education class in its district, and its receptionist's account:
    (login, one-time password, the class's title)."""
    title = f"혈압 교실 {uuid.uuid4().hex[:4]}"
    with session_scope(make_session_factory(engine)) as session:
        clinic_id = make_clinic(session, district=DISTRICT).id
        earning.create_education_session(
            session,
            district=DISTRICT,
            held_on=clock.today(),
            condition="hypertension",
            title=title,
        )
    login, password = new_account(engine, "정접수", "clinic", clinic_id=clinic_id)
    return login, password, title


def outcome(page: Page) -> str:
    return page.locator(".outcome").inner_text()


def balance(page: Page) -> str:
    return page.locator(".summary dd").first.inner_text()


def test_a_receptionist_finds_registers_records_and_takes_a_payment(
    chromium: Browser, served: str, engine: Engine
) -> None:
    login, password, title = receptionist(engine)
    page = chromium.new_page()
    sign_in_by_keyboard(page, served, login, password, PASSWORD)
    name, phone = f"김{uuid.uuid4().hex[:3]}", random_mobile()

    # find: nobody yet, said beside the form, the values kept
    page.click("a:has-text('오늘의 접수')")
    page.wait_for_url("**/console/desk")
    page.fill("#name", name)
    page.fill("#birth_date", "1957. 3. 21.")
    page.fill("#phone", phone)
    with page.expect_navigation():
        page.press("#phone", "Enter")
    assert "환자를 찾지 못했습니다" in page.locator(".form-error").inner_text()
    assert page.input_value("#name") == name

    # register, with the consent wording's version shown
    page.click("a:has-text('새 환자 등록')")
    page.wait_for_url("**/console/patients/new")
    assert "동의 문구 판: 2024-v1" in page.inner_text("main form")
    page.fill("#name", name)
    page.fill("#birth_date", "19570321")
    page.fill("#phone", phone)
    page.check("#hypertension")
    page.check("#sms_consent_yes")
    page.click("button:has-text('등록하기')")
    page.wait_for_url(re.compile(r".*/console/patients/[^/]+\?done=.*"))
    assert "환자 등록이 끝났습니다" in outcome(page)
    assert "환자 등록 마일리지 3,000 M 적립" in outcome(page)
    patient_url = page.url.split("?")[0]

    # a visit with values at target
    page.fill("#visit-systolic", "128")
    page.fill("#visit-diastolic", "82")
    with page.expect_navigation():
        page.press("#visit-diastolic", "Enter")
    assert "환자 진료 마일리지 1,000 M 적립" in outcome(page)
    assert "환자 혈압·혈당 조절 마일리지 2,000 M 적립" in outcome(page)

    # the attendance slip of today's class
    chosen = page.locator("#slip-session_id option", has_text=title).get_attribute("value")
    page.select_option("#slip-session_id", chosen)
    with page.expect_navigation():
        page.click("button:has-text('참석 기록하기')")
    assert "환자 건강 교육 마일리지 3,000 M 적립" in outcome(page)
    assert balance(page) == "9,000 M"

    # a payment over the balance is refused beside the amount, the values kept; then taken
    page.fill("#pay-amount", "20,000")
    page.select_option("#pay-purpose", "treatment")
    with page.expect_navigation():
        page.press("#pay-amount", "Enter")
    error = page.locator("#pay-amount-error").inner_text()
    assert "잔액(9,000 M)보다 많이 쓸 수 없습니다" in error
    assert page.input_value("#pay-amount") == "20,000"
    assert page.input_value("#pay-purpose") == "treatment"
    assert page.evaluate("document.activeElement.id") == "pay-amount"
    page.fill("#pay-amount", "5000")
    with page.expect_navigation():
        page.press("#pay-amount", "Enter")
    assert "5,000 M 사용 (용도: 진료비)" in outcome(page)
    assert balance(page) == "4,000 M"

    # a reload of the answer books nothing more
    page.reload()
    assert balance(page) == "4,000 M"
    assert page.locator(".latest tbody tr").count() == 5  # 등록, 진료, 조절, 교육, 사용

    # found again, the patient's page is one link away
    page.goto(served + "/console/desk")
    page.fill("#name", name)
    page.fill("#birth_date", "1957-03-21")
    page.fill("#phone", phone)
    with page.expect_navigation():
        page.press("#phone", "Enter")
    page.click("a:has-text('환자 화면 열기')")
    page.wait_for_url(patient_url)
    assert page.url == patient_url

    # the statement, with its running balance, and the payment's receipt
    page.click("a:has-text('거래 내역(통장) 보기')")
    page.wait_for_url(patient_url + "/statement")
    rows = page.locator("table tbody tr")
    assert "4,000 M" in rows.last.inner_text()  # the closing balance
    page.locator("a:has-text('영수증')").last.click()
    page.wait_for_url("**/console/receipts/*")
    receipt = page.locator("main").inner_text()
    assert "5,000 M" in receipt and "4,000 M" in receipt and "진료비" in receipt
    page.close()


@pytest.mark.engine("sqlite")
def test_a_patient_is_registered_by_keyboard_alone(
    chromium: Browser, served: str, engine: Engine
) -> None:
    login, password, _ = receptionist(engine)
    page = chromium.new_page()
    sign_in_by_keyboard(page, served, login, password, PASSWORD)
    page.goto(served + "/console/patients/new")
    focused(page, "name")
    name = f"이{uuid.uuid4().hex[:3]}"
    for keys in (name, "1949-07-02", random_mobile()):
        page.keyboard.type(keys)
        page.keyboard.press("Tab")
    page.keyboard.type(" ")  # 고혈압
    page.keyboard.press("Tab")  # 당뇨병, left unticked
    page.keyboard.press("Tab")  # 문자 수신 동의: 동의함
    page.keyboard.type(" ")
    page.keyboard.press("Tab")  # 등록하기
    assert page.evaluate("document.activeElement.textContent") == "등록하기"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "?done=" in page.url
    assert page.locator("h1").inner_text() == name
    assert "환자 등록이 끝났습니다" in outcome(page)
    assert "고혈압" in page.locator(".facts").inner_text()
    assert "문자 동의" in page.locator(".facts").inner_text()
    page.close()
