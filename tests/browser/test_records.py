"""In a real browser (Debian's headless Chromium, driven by Playwright): a receptionist voids
a mistaken visit from the patient's statement, and prints a receipt on A4 and on an 80 mm
receipt printer."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from actions import staff
from actions.context import system_context
from ledger import clock
from ledger.db import make_session_factory, session_scope
from ledger.models import Clinic
from ledger.programme import Readings
from ledger.services import earning, spending
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar
from tests.factories import make_clinic, make_patient

POINTS_PER_MM = 72 / 25.4
NEW_PASSWORD = "접수-비밀번호-2024!"


@dataclass(frozen=True)
class Desk:
    """A clinic with a patient (enrolled today, a visit today), and a receptionist's page."""

    page: Page
    patient_id: str
    visit_id: int


def sign_in(chromium: Browser, served: str, login: str, password: str) -> Page:
    page = chromium.new_page()
    page.goto(served + "/console/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_url("**/console/password")
    page.fill("#current", password)
    page.fill("#new", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.press("#confirm", "Enter")
    page.wait_for_url("**/console/")
    return page


@pytest.fixture
def desk(chromium: Browser, served: str, engine: Engine) -> Iterator[Desk]:
    today = clock.today()
    ctx = system_context("command line", SendingCalendar.from_settings(get_settings()))
    login = f"r{uuid.uuid4().hex[:8]}"
    with session_scope(make_session_factory(engine)) as session:
        clinic: Clinic = make_clinic(session)
        patient = make_patient(session, clinic, name="김영수", enrolled_on=today).patient
        visit = earning.record_visit(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            visited_on=today,
            readings=Readings(systolic=150, diastolic=95),
            recorded_by="test",
        )
        password = staff.create_account(
            session, ctx, login=login, name="이접수", role="clinic", clinic_id=clinic.id
        ).password
        patient_id, visit_id = patient.id, visit.transaction_id
    found = Desk(sign_in(chromium, served, login, password), patient_id, visit_id)
    yield found
    found.page.close()


def shot(page: Page, tmp_path: Path, name: str) -> None:
    """A screenshot of the page, kept with the test's files for a person to look at."""
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


@pytest.mark.engine("sqlite")
def test_a_receptionist_voids_a_mistaken_visit_and_sees_the_balance_restored(
    desk: Desk, served: str, tmp_path: Path
) -> None:
    page = desk.page
    page.goto(f"{served}/console/patients/{desk.patient_id}/statement")
    assert page.locator("h1").inner_text() == "마일리지 거래 내역"
    assert page.locator("#closing").inner_text() == "4,000 M"  # enrolment 3,000 + visit 1,000
    shot(page, tmp_path, "statement-before")

    page.click(f"tr[data-transaction='{desk.visit_id}'] a:has-text('영수증')")
    page.click("a:has-text('이 항목 취소')")
    page.wait_for_url(f"**/console/receipts/{desk.visit_id}/void")
    expect(page.locator("#reason")).to_be_focused()
    page.fill("#reason", "다른 환자의 진료를 잘못 입력했습니다")
    page.press("#reason", "Enter")
    page.wait_for_url(f"**/console/patients/{desk.patient_id}/statement?year=*")

    voided = page.locator(f"tr[data-transaction='{desk.visit_id}']")
    assert voided.get_attribute("class") == "voided"
    assert voided.locator(".badge").inner_text() == "취소됨"
    last = page.locator("tbody tr").last
    assert last.locator("td").nth(1).inner_text() == "취소 (진료)"
    assert last.locator("td").nth(2).inner_text() == "-1,000 M"
    assert page.locator("#closing").inner_text() == "3,000 M"
    shot(page, tmp_path, "statement-voided")

    page.click(f"tr[data-transaction='{desk.visit_id}'] a:has-text('영수증')")
    assert "이 거래는 취소되었습니다" in page.locator("#voided").inner_text()
    assert page.locator("a:has-text('이 항목 취소')").count() == 0


def media_box(pdf: bytes) -> tuple[float, float]:
    """The first page's width and height in points."""
    found = re.search(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", pdf)
    assert found, "no MediaBox in the PDF"
    return float(found.group(1)), float(found.group(2))


@pytest.mark.engine("sqlite")
def test_a_receipt_prints_on_a4_and_on_an_80mm_receipt_printer(
    desk: Desk, served: str, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(make_session_factory(engine)) as session:
        clinic_id = make_clinic(session).id  # an ophthalmology-free district clinic: any
        spent = spending.redeem(
            session,
            patient_id=desk.patient_id,
            clinic_id=clinic_id,
            amount=3_000,
            purpose="test",
            spent_on=clock.today(),
            recorded_by="test",
        ).redemption.transaction_id
    page = desk.page
    page.goto(f"{served}/console/patients/{desk.patient_id}/statement")
    page.click(f"tr[data-transaction='{spent}'] a:has-text('영수증')")
    assert page.locator("#patient").inner_text() == "김*수"
    assert page.locator("#purpose").inner_text() == "사용 (검사비)"
    assert page.locator("#amount").inner_text() == "-3,000 M"
    assert page.locator("#balance").inner_text() == "1,000 M"
    assert page.locator("#number").inner_text() == str(spent)
    # the 인쇄 button works under the page's CSP: its script is the app's own file
    page.evaluate("window.print = () => { window.printed = true; }")
    page.click("button:has-text('인쇄')")
    assert page.evaluate("window.printed") is True
    shot(page, tmp_path, "receipt-screen")

    page.emulate_media(media="print")
    assert page.locator("header.bar").is_hidden()
    assert page.locator("button:has-text('인쇄')").is_hidden()
    assert page.locator("#amount").is_visible()
    a4 = page.pdf(prefer_css_page_size=True, print_background=True)
    (tmp_path / "receipt-a4.pdf").write_bytes(a4)
    width, height = media_box(a4)
    assert (round(width), round(height)) == (595, 842)  # A4 in points

    page.goto(page.url.split("?")[0] + "?width=80mm")
    page.emulate_media(media="print")
    narrow = page.pdf(prefer_css_page_size=True, print_background=True)
    (tmp_path / "receipt-80mm.pdf").write_bytes(narrow)
    width, _ = media_box(narrow)
    assert abs(width - 80 * POINTS_PER_MM) < 1
    assert page.locator(".receipt").bounding_box()["width"] <= 80 * 96 / 25.4  # type: ignore[index]
    shot(page, tmp_path, "receipt-80mm-print")
