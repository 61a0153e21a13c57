"""The clinic's desk (접수) over HTTP with a browser's cookies: finding, registering, the
patient's page, visits, attendance slips and payments, each award and refusal in Korean;
scopes, CSRF and the one-time form token on every booking form, and bad input."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from ledger.db import session_scope
from ledger.models import AuditEvent, Clinic, Redemption, Visit
from ledger.services import earning
from ledger.services.registry import CONSENT_WORDING
from ledger.settings import Settings
from tests.api.conftest import TODAY, StrictClient
from tests.api.test_console import csrf, member
from tests.factories import make_clinic, make_patient, random_mobile

A, B = "11740", "11215"


@pytest.fixture(scope="module")
def app(engine: Engine, database_url: str) -> FastAPI:
    settings = Settings(
        database_url=database_url,
        sign_ins_per_account=100,
        sign_ins_per_address=10_000,
        lookups_per_minute=1_000,
    )
    return create_app(settings, engine=engine)


@dataclass
class Desk:
    """A receptionist signed in at a clinic of their own."""

    browser: StrictClient
    clinic_id: str
    sessions: sessionmaker[Session]
    seen: dict[str, str] = field(default_factory=dict)

    def page(self, url: str, status: int = 200) -> httpx.Response:
        answer = self.browser.get(url)
        assert answer.status_code == status, answer.text
        return answer

    def send(self, url: str, fields: dict[str, str], page: httpx.Response) -> httpx.Response:
        """Post the form whose action is ``url`` on ``page``, with its hidden fields."""
        return self.browser.post(
            url, data={**hidden(page.text, url), **fields}, follow_redirects=False
        )

    def register(self, **fields: str) -> tuple[str, httpx.Response]:
        """Register a new person; their patient id and the page the answer leads to."""
        person = {
            "name": f"김{uuid.uuid4().hex[:4]}",
            "birth_date": "1957. 3. 21.",
            "phone": random_mobile(),
            "hypertension": "on",
            "sms_consent": "yes",
            **fields,
        }
        answer = self.send("/console/patients", person, self.page("/console/patients/new"))
        assert answer.status_code == 303, answer.text
        patient_id = re.search(r"/console/patients/([^/?]+)\?done=", answer.headers["location"])
        assert patient_id, answer.headers["location"]
        return patient_id.group(1), self.browser.get(answer.headers["location"])


def hidden(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert found, f"no form for {action}"
    return {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found.group(0)
        )
    }


def text(answer: httpx.Response) -> str:
    """The page's words, without tags."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text)))


@contextmanager
def new_desk(app: FastAPI, sessions: sessionmaker[Session], district: str = A) -> Iterator[Desk]:
    with session_scope(sessions) as session:
        clinic_id = make_clinic(session, district=district).id
    with StrictClient(app) as browser:
        member(browser, sessions, clinic_id=clinic_id)
        yield Desk(browser, clinic_id, sessions)


@pytest.fixture
def desk(app: FastAPI, sessions: sessionmaker[Session]) -> Iterator[Desk]:
    with new_desk(app, sessions) as opened:
        yield opened


@pytest.fixture
def other_desk(app: FastAPI, sessions: sessionmaker[Session]) -> Iterator[Desk]:
    """A receptionist at another clinic of the same district."""
    with new_desk(app, sessions) as opened:
        yield opened


def count(sessions: sessionmaker[Session], model: type[Visit] | type[Redemption], pid: str) -> int:
    with session_scope(sessions) as session:
        query = select(func.count()).select_from(model).where(model.patient_id == pid)
        return int(session.scalar(query) or 0)


# -- pages ---------------------------------------------------------------------------------


def test_a_clinic_home_page_leads_to_the_desk_and_registration(desk: Desk) -> None:
    home = desk.page("/console/")
    assert 'href="/console/desk"' in home.text and 'href="/console/patients/new"' in home.text
    find = desk.page("/console/desk")
    assert "환자 찾기" in text(find)
    assert re.search(r'id="name"[^>]* autofocus', find.text)
    form = desk.page("/console/patients/new")
    assert f"동의 문구 판: {CONSENT_WORDING}" in text(form)
    assert re.search(r'id="name"[^>]* autofocus', form.text)


def test_registering_shows_the_enrolment_award_and_records_the_consent_wording(
    desk: Desk,
) -> None:
    patient_id, page = desk.register()
    words = text(page)
    assert "환자 등록이 끝났습니다" in words
    assert "환자 등록 마일리지 3,000 M 적립" in words
    assert "의원 등록 마일리지 10,000 M 적립" in words
    assert "잔액 3,000 M" in words
    with session_scope(desk.sessions) as session:
        from ledger.services.registry import get_patient

        patient = get_patient(session, patient_id)
        assert patient.consent_wording == CONSENT_WORDING and patient.sms_consent


def test_a_registration_refused_comes_back_as_typed_with_the_reason_beside_the_field(
    desk: Desk,
) -> None:
    form = desk.page("/console/patients/new")
    answer = desk.send(
        "/console/patients",
        {"name": "박하늘", "birth_date": "1957-13-40", "phone": "02-123", "sms_consent": "yes"},
        form,
    )
    assert answer.status_code == 422
    words = text(answer)
    assert "날짜를 확인해 주세요" in words or "날짜를 2025-03-05처럼" in words
    assert "질환을 하나 이상 골라 주세요" in words or "하나 이상 골라 주세요" in words
    assert 'value="박하늘"' in answer.text and 'value="02-123"' in answer.text
    assert re.search(r'id="birth_date"[^>]* autofocus', answer.text)
    # the same token goes on: corrected, the form books once
    token = hidden(form.text, "/console/patients")["form_token"]
    assert hidden(answer.text, "/console/patients")["form_token"] == token


def test_registering_the_same_person_twice_is_refused_in_words(desk: Desk) -> None:
    phone = random_mobile()
    desk.register(name="이중복", phone=phone)
    form = desk.page("/console/patients/new")
    answer = desk.send(
        "/console/patients",
        {
            "name": "이중복",
            "birth_date": "19570321",
            "phone": phone,
            "diabetes": "on",
            "sms_consent": "no",
        },
        form,
    )
    assert answer.status_code == 409
    assert "이미 등록된 분입니다" in text(answer)
    assert "이미 등록된 환자 화면 열기" in text(answer)


def test_a_consent_given_under_other_wording_is_refused(desk: Desk) -> None:
    form = desk.page("/console/patients/new")
    fields = {
        "name": "최문구",
        "birth_date": "1960-01-01",
        "phone": random_mobile(),
        "hypertension": "on",
        "sms_consent": "yes",
        "consent_wording": "2019-old",
    }
    answer = desk.send("/console/patients", fields, form)
    assert answer.status_code == 422
    assert "동의 문구가 바뀌었습니다" in text(answer)


def test_finding_a_patient_leads_to_their_page(desk: Desk) -> None:
    phone = random_mobile()
    patient_id, _ = desk.register(name="정찾기", birth_date="1949-07-02", phone=phone)
    found = desk.send(
        "/console/desk/find",
        {"name": "정찾기", "birth_date": "1949. 7. 2.", "phone": phone.replace("-", "")},
        desk.page("/console/desk"),
    )
    assert found.status_code == 200
    assert f'href="/console/patients/{patient_id}"' in found.text
    assert "잔액 3,000 M" in text(found)
    missing = desk.send(
        "/console/desk/find",
        {"name": "정찾기", "birth_date": "1949-07-03", "phone": phone},
        desk.page("/console/desk"),
    )
    assert missing.status_code == 404
    assert "환자를 찾지 못했습니다" in text(missing)
    assert 'value="정찾기"' in missing.text


def test_a_receptionists_look_ups_are_limited_per_account_with_a_clear_message(
    engine: Engine, database_url: str, sessions: sessionmaker[Session]
) -> None:
    limited = create_app(
        Settings(database_url=database_url, sign_ins_per_address=10_000, lookups_per_minute=2),
        engine=engine,
    )
    fields = {"name": "없는이", "birth_date": "1950-01-01", "phone": random_mobile()}
    with new_desk(limited, sessions) as desk:
        answers = [
            desk.send("/console/desk/find", fields, desk.page("/console/desk")) for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert "환자 찾기를 너무 자주 했습니다." in text(answers[2])
    assert 'value="없는이"' in answers[2].text


def test_the_patient_page_shows_balance_earnings_and_what_the_cap_leaves(desk: Desk) -> None:
    patient_id, _ = desk.register()
    words = text(desk.page(f"/console/patients/{patient_id}"))
    assert "잔액 3,000 M" in words
    assert "올해 적립 3,000 M" in words
    assert "올해 더 받을 수 있는 한도 32,000 M" in words
    assert "등록 적립" in words  # the latest entries
    assert (
        f'href="/console/patients/{patient_id}/statement"'
        in desk.page(f"/console/patients/{patient_id}").text
    )


# -- visits, attendance, payments -----------------------------------------------------------


def visit(desk: Desk, patient_id: str, **fields: str) -> httpx.Response:
    url = f"/console/patients/{patient_id}"
    return desk.send(f"{url}/visits", fields, desk.page(url))


def test_a_visit_at_target_credits_visit_and_control_then_a_second_is_withheld_in_words(
    desk: Desk,
) -> None:
    patient_id, _ = desk.register()
    first = visit(desk, patient_id, visited_on="2024-06-14", systolic="128", diastolic="82")
    assert first.status_code == 303
    words = text(desk.page(first.headers["location"]))
    assert "진료 기록이 끝났습니다" in words
    assert "환자 진료 마일리지 1,000 M 적립" in words
    assert "환자 혈압·혈당 조절 마일리지 2,000 M 적립" in words
    assert "지금 잔액 6,000 M" in words
    second = visit(desk, patient_id, visited_on="2024-06-14", systolic="150", diastolic="95")
    words = text(desk.page(second.headers["location"]))
    assert "환자 진료 마일리지 적립 안 됨: 이번 달 진료 마일리지는 이미 적립되었습니다." in words
    assert (
        "환자 혈압·혈당 조절 마일리지 적립 안 됨: 혈압·혈당이 목표 범위 안에 들지 않았습니다."
        in words
    )


def test_control_once_a_half_year_is_said_in_words(desk: Desk) -> None:
    with session_scope(desk.sessions) as session:
        clinic = session.get(Clinic, desk.clinic_id)
        assert clinic is not None
        may_10 = dt.date(2024, 5, 10)
        patient_id = make_patient(session, clinic, enrolled_on=may_10).patient.id
    may = visit(
        desk, patient_id, visited_on="2024. 5. 20.", systolic="120", diastolic="80", hba1c="6.5"
    )
    assert "환자 혈압·혈당 조절 마일리지 2,000 M 적립" in text(desk.page(may.headers["location"]))
    june = visit(
        desk, patient_id, visited_on="20240614", systolic="120", diastolic="80", hba1c="6.5"
    )
    words = text(desk.page(june.headers["location"]))
    assert "환자 진료 마일리지 1,000 M 적립" in words
    assert (
        "환자 혈압·혈당 조절 마일리지 적립 안 됨: "
        "혈압·혈당 조절 마일리지는 반기에 한 번이며, 이번 반기에는 이미 적립되었습니다." in words
    )


def test_a_refused_visit_keeps_its_values_and_says_why_beside_the_date(desk: Desk) -> None:
    patient_id, _ = desk.register()
    answer = visit(desk, patient_id, visited_on="2024-06-20", systolic="128", diastolic="82")
    assert answer.status_code == 422
    assert "오늘보다 뒤의 날짜는 기록할 수 없습니다" in text(answer)
    assert 'value="2024-06-20"' in answer.text and 'value="128"' in answer.text
    assert re.search(r'id="visit-visited_on"[^>]* autofocus', answer.text)
    assert count(desk.sessions, Visit, patient_id) == 0


def test_a_double_submitted_visit_form_books_once(desk: Desk) -> None:
    patient_id, _ = desk.register()
    url = f"/console/patients/{patient_id}"
    page = desk.page(url)
    fields = {"visited_on": "2024-06-14", "systolic": "128", "diastolic": "82"}
    first = desk.send(f"{url}/visits", fields, page)
    again = desk.send(f"{url}/visits", fields, page)  # the same form: a double press
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert count(desk.sessions, Visit, patient_id) == 1
    reloaded = desk.page(again.headers["location"])
    assert "환자 진료 마일리지 1,000 M 적립" in text(reloaded)  # the first booking's outcome
    assert "잔액 6,000 M" in text(reloaded)


def test_a_payment_form_sent_twice_at_once_books_once(desk: Desk) -> None:
    """Two presses in flight together: the second waits for the first and answers as it."""
    patient_id, _ = desk.register()
    url = f"/console/patients/{patient_id}"
    page = desk.page(url)
    fields = {"amount": "3000", "purpose": "vaccination"}
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: desk.send(f"{url}/payments", fields, page), range(2)))
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert count(desk.sessions, Redemption, patient_id) == 1


def test_the_audit_trail_names_the_receptionist_for_each_desk_action(desk: Desk) -> None:
    patient_id, _ = desk.register()
    visit(desk, patient_id, visited_on="2024-06-14", systolic="128", diastolic="82")
    pay(desk, patient_id, "3000")
    with session_scope(desk.sessions) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id))
        done = {(row.action, row.label) for row in rows}
    for action in ("patient.create", "patient.read", "visit.create", "redemption.create"):
        assert (action, "정접수") in done


def pay(desk: Desk, patient_id: str, amount: str, purpose: str = "treatment") -> httpx.Response:
    url = f"/console/patients/{patient_id}"
    return desk.send(f"{url}/payments", {"amount": amount, "purpose": purpose}, desk.page(url))


def test_a_double_submitted_payment_form_books_once(desk: Desk) -> None:
    patient_id, _ = desk.register()
    url = f"/console/patients/{patient_id}"
    page = desk.page(url)
    fields = {"amount": "3,000", "purpose": "test"}
    first = desk.send(f"{url}/payments", fields, page)
    again = desk.send(f"{url}/payments", fields, page)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert count(desk.sessions, Redemption, patient_id) == 1
    words = text(desk.page(again.headers["location"]))
    assert "마일리지 사용이 끝났습니다" in words and "3,000 M 사용 (용도: 검사비)" in words
    assert "지금 잔액 0 M" in words


@pytest.mark.parametrize(
    ("amount", "purpose", "said"),
    [
        ("5000", "treatment", "잔액(3,000 M)보다 많이 쓸 수 없습니다"),
        ("1000", "eye_exam", "이 종류의 의원에서는 이 용도로 마일리지를 쓸 수 없습니다"),
        ("-100", "treatment", "0보다 커야 합니다"),
        ("", "treatment", "꼭 적어 주세요"),
        ("99999999999999999999", "treatment", "10,000,000 이하여야 합니다"),
        ("1000", "", "목록에서 골라 주세요"),
    ],
)
def test_a_refused_payment_says_why_beside_the_field_and_keeps_the_values(
    desk: Desk, amount: str, purpose: str, said: str
) -> None:
    patient_id, _ = desk.register()
    answer = pay(desk, patient_id, amount, purpose)
    assert answer.status_code == 422
    assert said in text(answer)
    assert f'value="{amount}"' in answer.text
    assert count(desk.sessions, Redemption, patient_id) == 0


def test_a_payment_below_the_threshold_is_refused_in_words(desk: Desk) -> None:
    patient_id, _ = desk.register()
    assert pay(desk, patient_id, "1000").status_code == 303
    answer = pay(desk, patient_id, "1000")
    assert answer.status_code == 422
    assert (
        "잔액이 2,000 M이라 아직 쓸 수 없습니다. "
        "마일리지는 잔액이 3,000 M 이상일 때부터 쓸 수 있습니다." in text(answer)
    )


def test_another_clinic_of_the_district_takes_a_payment_on_its_payment_page(
    desk: Desk, other_desk: Desk
) -> None:
    phone = random_mobile()
    patient_id, _ = desk.register(name="한이웃", birth_date="1950-05-05", phone=phone)
    found = other_desk.send(
        "/console/desk/find",
        {"name": "한이웃", "birth_date": "1950-05-05", "phone": phone},
        other_desk.page("/console/desk"),
    )
    payment = f"/console/patients/{patient_id}/payment"
    assert f'href="{payment}"' in found.text
    page = other_desk.page(payment)
    assert "한이웃" not in page.text and "잔액 3,000 M" in text(page)
    answer = other_desk.send(
        f"/console/patients/{patient_id}/payments", {"amount": "3000", "purpose": "test"}, page
    )
    assert answer.headers["location"].startswith(payment + "?done=")
    assert "지금 잔액 0 M" in text(other_desk.page(answer.headers["location"]))
    today = text(other_desk.page("/console/desk"))
    assert "마일리지 사용 1건 다른 의원 환자 · 3,000 M (검사비)" in today
    assert "한이웃" not in today


def test_todays_desk_lists_the_clinics_registrations_visits_and_payments(desk: Desk) -> None:
    assert "등록 0명 아직 없습니다." in text(desk.page("/console/desk"))
    patient_id, _ = desk.register(name="오늘이")
    visit(desk, patient_id, visited_on="2024-06-14", systolic="128", diastolic="82")
    visit(desk, patient_id, visited_on="2024-06-10", systolic="128", diastolic="82")
    pay(desk, patient_id, "4,000", "vaccination")
    page = desk.page("/console/desk")
    words = text(page)
    assert "오늘의 접수 (2024. 6. 14.)" in words
    assert "등록 1명 오늘이" in words
    assert "진료 기록 1건 오늘이" in words  # the visit dated 10 June is not today's
    assert "마일리지 사용 1건 오늘이 · 4,000 M (예방접종)" in words
    assert f'href="/console/patients/{patient_id}"' in page.text


def test_a_clinic_of_another_district_is_told_the_patient_spends_elsewhere(
    app: FastAPI, sessions: sessionmaker[Session], desk: Desk
) -> None:
    patient_id, _ = desk.register()
    with new_desk(app, sessions, district=B) as far:
        answer = far.browser.get(f"/console/patients/{patient_id}/payment")
    assert answer.status_code == 422
    assert "이 환자의 마일리지는 이 의원에서 쓸 수 없습니다" in text(answer)


def test_an_attendance_slip_credits_education_once(desk: Desk) -> None:
    patient_id, _ = desk.register()
    with session_scope(desk.sessions) as session:
        education = earning.create_education_session(
            session,
            district=A,
            held_on=TODAY,
            condition="hypertension",
            title="혈압 바로 알기",
        )
        session_id = education.id
    url = f"/console/patients/{patient_id}"
    page = desk.page(url)
    assert "혈압 바로 알기" in page.text
    answer = desk.send(f"{url}/attendance", {"session_id": session_id}, page)
    assert answer.status_code == 303, text(answer)
    words = text(desk.page(answer.headers["location"]))
    assert "교육 참석 기록이 끝났습니다" in words
    assert "환자 건강 교육 마일리지 3,000 M 적립" in words
    again = desk.send(f"{url}/attendance", {"session_id": session_id}, desk.page(url))
    assert again.status_code == 409
    assert "이 환자의 이 교육 참석은 이미 기록되었습니다" in text(again)
    nothing = desk.send(f"{url}/attendance", {"session_id": ""}, desk.page(url))
    assert "참석한 교육을 골라 주세요" in text(nothing)


# -- scope ----------------------------------------------------------------------------------


def test_another_clinics_patient_answers_exactly_as_a_missing_one(
    desk: Desk, other_desk: Desk
) -> None:
    with session_scope(desk.sessions) as session:
        clinic = make_clinic(session)
        theirs = make_patient(session, clinic, enrolled_on=TODAY, today=TODAY).patient.id
    missing = "pat_" + uuid.uuid4().hex[:20]
    for suffix in ("", "/statement"):
        if suffix:
            continue  # the statement page is the records pages'
        a = desk.browser.get(f"/console/patients/{theirs}{suffix}")
        b = desk.browser.get(f"/console/patients/{missing}{suffix}")
        assert a.status_code == b.status_code == 404
        assert a.text == b.text
    page = desk.page("/console/desk")
    for path in ("visits", "attendance"):
        fields = {"csrf_token": csrf(page), "form_token": "x.y", "systolic": "120"}
        a = desk.browser.post(f"/console/patients/{theirs}/{path}", data=fields)
        b = desk.browser.post(f"/console/patients/{missing}/{path}", data=fields)
        assert a.status_code == b.status_code == 404
        assert a.text == b.text


def test_a_clinic_cannot_reach_staff_pages_and_staff_cannot_use_the_desk(
    app: FastAPI, sessions: sessionmaker[Session], desk: Desk
) -> None:
    assert desk.browser.get("/console/staff").status_code == 403
    with StrictClient(app) as browser:
        member(browser, sessions, role="health_center", district=A)
        for url in ("/console/desk", "/console/patients/new"):
            answer = browser.get(url)
            assert answer.status_code == 403
            assert "이 계정으로는 할 수 없는 일입니다" in text(answer)
        # the district's health centre reads a patient's page, without the desk's forms
        patient_id, _ = desk.register(name="구보건")
        read = browser.get(f"/console/patients/{patient_id}")
        assert read.status_code == 200 and "구보건" in read.text
        assert "/visits" not in read.text and "/payments" not in read.text


# -- CSRF and the one-time token --------------------------------------------------------------


def booking_forms(desk: Desk, patient_id: str) -> list[tuple[str, httpx.Response, dict[str, str]]]:
    url = f"/console/patients/{patient_id}"
    page = desk.page(url)
    return [
        ("/console/desk/find", desk.page("/console/desk"), {"name": "누구", "phone": "010"}),
        ("/console/patients", desk.page("/console/patients/new"), {"name": "누구"}),
        (f"{url}/visits", page, {"visited_on": "2024-06-14", "systolic": "120"}),
        (f"{url}/attendance", page, {"session_id": "edu_x"}),
        (f"{url}/payments", page, {"amount": "3000", "purpose": "test"}),
    ]


def test_every_desk_form_sent_without_its_csrf_token_is_refused(desk: Desk) -> None:
    patient_id, _ = desk.register()
    for action, page, fields in booking_forms(desk, patient_id):
        sent = {k: v for k, v in hidden(page.text, action).items() if k != "csrf_token"}
        answer = desk.browser.post(action, data={**sent, **fields}, follow_redirects=False)
        assert answer.status_code == 403, action
        assert "이 양식은 만료되었거나" in text(answer)
    assert count(desk.sessions, Visit, patient_id) == 0
    assert count(desk.sessions, Redemption, patient_id) == 0


def test_a_booking_form_without_its_own_sessions_token_is_refused(
    desk: Desk, other_desk: Desk
) -> None:
    patient_id, _ = desk.register()
    url = f"/console/patients/{patient_id}"
    page = desk.page(url)
    fields = {"visited_on": "2024-06-14", "systolic": "120", "diastolic": "80"}
    for token in ("", "made-up.token", hidden(page.text, f"{url}/payments")["form_token"]):
        sent = {**hidden(page.text, f"{url}/visits"), "form_token": token, **fields}
        answer = desk.browser.post(f"{url}/visits", data=sent, follow_redirects=False)
        assert answer.status_code == 403
    assert count(desk.sessions, Visit, patient_id) == 0


# -- bad input: never a 5xx ------------------------------------------------------------------

GARBAGE = [
    "",
    " ",
    "0000-00-00",
    "2024-02-30",
    "9999-99-99",
    "-1",
    "-3000",
    "1e309",
    "NaN",
    "99999999999999999999999999999999",
    "３０００",
    "\x00",
    "a\u202eb",
    "a\nb",
    "x" * 5000,
    "'; DROP TABLE patients; --",
    "<script>alert(1)</script>",
    "😀",
]


def test_no_desk_form_answers_5xx_under_bad_input(desk: Desk) -> None:
    patient_id, _ = desk.register()
    for action, page, fields in booking_forms(desk, patient_id):
        names = [*fields, "birth_date", "phone", "visited_on", "next_visit_on", "hba1c"]
        names += ["fasting_glucose", "diastolic", "amount", "purpose", "sms_consent"]
        for bad in GARBAGE:
            sent = {**hidden(page.text, action), **{name: bad for name in names}}
            answer = desk.browser.post(action, data=sent, follow_redirects=False)
            assert answer.status_code in (200, 303, 403, 404, 409, 422, 429), (action, bad)
            assert "<script>alert(1)</script>" not in answer.text
        missing = desk.browser.post(action, data=hidden(page.text, action))
        assert missing.status_code < 500
    assert count(desk.sessions, Redemption, patient_id) == 0
