"""In Chromium, a health-centre officer: records a class's attendance by ticking patients
found in the district, and pauses the district's texts with a reason, then resumes them."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from ledger.clock import today
from ledger.db import make_session_factory, session_scope
from tests.browser.conftest import make_member, sign_in
from tests.factories import make_clinic, make_patient

pytestmark = pytest.mark.engine("sqlite")
DISTRICT = "11260"  # 중랑구


def officer_page(chromium: Browser, served: str, engine: Engine) -> Page:
    """A health-centre officer of the district, signed in."""
    login, password = make_member(engine, "한보건", "health_center", district=DISTRICT)
    page = chromium.new_page()
    sign_in(page, served, login, password)
    page.wait_for_url("**/console/")
    return page


def test_a_class_is_recorded_by_ticking(chromium: Browser, served: str, engine: Engine) -> None:
    family = f"도{uuid.uuid4().hex[:4]}"  # a surname part the three share
    with session_scope(make_session_factory(engine)) as session:
        clinic = make_clinic(session, district=DISTRICT)
        for n in range(3):
            make_patient(session, clinic, name=f"{family}환자{n}")
    page = officer_page(chromium, served, engine)
    page.click("a:has-text('건강 교육')")
    page.fill("#held_on", today().isoformat())
    page.select_option("#condition", "hypertension")
    page.fill("#title", "혈압 바로 알기")
    page.press("#title", "Enter")
    page.wait_for_url("**/console/education/edu_*")
    page.fill("#q", family)
    page.press("#q", "Enter")
    page.wait_for_load_state()
    boxes = page.locator("table.ticks input[type=checkbox]")
    assert boxes.count() == 3
    for n in range(3):
        boxes.nth(n).check()
    page.click("button:has-text('고른 환자 출석 기록')")
    page.wait_for_load_state()
    assert "3명의 출석을 기록했습니다" in page.locator("p.done").inner_text()
    recorded = page.locator("table.ticks td span:has-text('기록됨')")
    assert recorded.count() == 3  # the same search shows them recorded
    page.close()


def test_the_pause_switch_needs_a_reason_and_can_be_undone(
    chromium: Browser, served: str, engine: Engine
) -> None:
    page = officer_page(chromium, served, engine)
    page.click("a:has-text('문자 발송')")
    page.click("button:has-text('문자 발송 멈추기')")
    assert "이유를 적어 주세요" in page.locator("#reason-error").inner_text()
    page.fill("#reason", "문자 문구 점검")
    page.click("button:has-text('문자 발송 멈추기')")
    page.wait_for_load_state()
    status = page.locator("p[role=status]").first.inner_text()
    assert "멈춤" in status and "문자 문구 점검" in status and "한보건" in status
    page.click("button:has-text('다시 보내기')")
    page.wait_for_load_state()
    assert "보내는 중" in page.locator("p[role=status]").first.inner_text()
    page.close()
