"""The clinic's records in the console, over HTTP with a browser's cookies: a patient's
statement with the ledger's running balance, a receipt, voiding the clinic's own entry (and
its refusals), correcting a name, birth date or phone (audited with the person's name), the
clinic's quarter; scopes, CSRF and bad inputs."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from ledger.db import session_scope
from ledger.models import AuditEvent, Clinic, Patient, Transaction
from ledger.programme import Readings
from ledger.services import earning, settlement, spending, statements
from ledger.services.reading import balance
from ledger.settings import Settings
from tests.api.conftest import StrictClient
from tests.api.test_console import csrf, member
from tests.factories import make_clinic, make_patient, random_mobile

PERSON = "정접수"  # the name tests.api.test_console gives the people it signs in
AT_TARGET = Readings(systolic=128, diastolic=82, hba1c=Decimal("6.5"))
CLOSED_DISTRICT = "11545"  # 금천구: its 2024 Q1 is closed in one test of this module


@pytest.fixture(scope="module")
def app(engine: Engine, database_url: str) -> FastAPI:
    settings = Settings(database_url=database_url, sign_ins_per_address=1000)
    return create_app(settings, engine=engine)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[StrictClient]:
    with StrictClient(app) as client:
        yield client


@pytest.fixture
def clinic_id(browser: StrictClient, sessions: sessionmaker[Session]) -> str:
    """A clinic, with one of its receptionists signed in to ``browser``."""
    found = new_clinic(sessions)
    member(browser, sessions, clinic_id=found)
    return found


def new_clinic(sessions: sessionmaker[Session], district: str = "11740") -> str:
    with session_scope(sessions) as session:
        return make_clinic(session, district=district).id


def new_patient(
    sessions: sessionmaker[Session], clinic_id: str, name: str | None = None, **fields: object
) -> str:
    with session_scope(sessions) as session:
        clinic = session.get(Clinic, clinic_id)
        assert clinic is not None
        extra = {"name": name} if name else {}
        return make_patient(session, clinic, **extra, **fields).patient.id  # type: ignore[arg-type]


def visit(sessions: sessionmaker[Session], patient_id: str, clinic_id: str, day: dt.date) -> int:
    with session_scope(sessions) as session:
        done = earning.record_visit(
            session,
            patient_id=patient_id,
            clinic_id=clinic_id,
            visited_on=day,
            readings=AT_TARGET,
            recorded_by="test",
            today=day,
        )
        return done.transaction_id


def spend(sessions: sessionmaker[Session], patient_id: str, clinic_id: str, day: dt.date) -> int:
    with session_scope(sessions) as session:
        spent = spending.redeem(
            session,
            patient_id=patient_id,
            clinic_id=clinic_id,
            amount=3_000,
            purpose="test",
            spent_on=day,
            recorded_by="test",
            today=day,
        )
        return spent.redemption.transaction_id


def mileage(text: str) -> int:
    return int(text.strip().replace(",", "").removesuffix(" M"))


ROW = re.compile(
    r'<tr(?: class="voided")? data-transaction="(\d+)">\s*<td>(.*?)</td>\s*<td>(.*?)</td>'
    r'\s*<td class="num">(.*?)</td>\s*<td class="num">(.*?)</td>',
    re.S,
)


def rows(page: httpx.Response) -> list[tuple[int, str, str, int, int]]:
    """The statement's lines: (transaction, date, what, amount, balance)."""
    return [
        (int(t), d, re.sub(r"<[^>]+>", "", w).strip(), mileage(a), mileage(b))
        for t, d, w, a, b in ROW.findall(page.text)
    ]


def audits(sessions: sessionmaker[Session], action: str, **where: str) -> list[AuditEvent]:
    """The audit rows of ``action`` (``patient_id=...``, ``resource=...``)."""
    with session_scope(sessions) as session:
        return list(session.execute(select(AuditEvent).filter_by(action=action, **where)).scalars())


def stored_name(sessions: sessionmaker[Session], patient_id: str) -> str | None:
    with session_scope(sessions) as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        return patient.name


def count_transactions(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return int(session.execute(select(func.count()).select_from(Transaction)).scalar_one())


def test_the_statement_shows_every_entry_with_the_ledgers_running_balance(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id)
    visited = visit(sessions, patient_id, clinic_id, dt.date(2024, 3, 5))
    spent = spend(sessions, patient_id, clinic_id, dt.date(2024, 6, 10))

    page = browser.get(f"/console/patients/{patient_id}/statement")

    assert page.status_code == 200
    shown = rows(page)
    assert [(what, amount) for _, _, what, amount, _ in shown] == [
        ("등록", 3_000),
        ("진료", 1_000),
        ("조절 달성", 2_000),
        ("사용 (검사비)", -3_000),
    ]
    assert [(t, day) for t, day, *_ in shown][1:] == [
        (visited, "2024. 3. 5."),
        (visited, "2024. 3. 5."),
        (spent, "2024. 6. 10."),
    ]
    with session_scope(sessions) as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        ledger = statements.patient_statement(session, patient, 2024)
        assert [b for *_, b in shown] == [line.balance for line in ledger.lines]
        assert shown[-1][4] == balance(session, patient.account_id) == 3_000
    assert re.search(r'id="closing">3,000 M<', page.text)
    assert "data-print" in page.text and "/console/static/print.js" in page.text
    read = audits(sessions, "patient.statement", patient_id=patient_id)
    assert [(a.label, a.account_id is not None) for a in read] == [(PERSON, True)]


def test_the_statement_of_another_year_and_a_year_that_cannot_be(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id, enrolled_on=dt.date(2023, 11, 2))
    earlier = browser.get(f"/console/patients/{patient_id}/statement?year=2023")
    assert [what for _, _, what, _, _ in rows(earlier)] == ["등록"]
    this_year = browser.get(f"/console/patients/{patient_id}/statement")
    assert rows(this_year) == []
    assert "이 기간에는 거래가 없습니다" in this_year.text
    assert re.search(
        r"<td>전년도에서 넘어온 잔액</td><td></td><td class=\"num\">3,000 M", this_year.text
    )
    for year in ("1999", "2025", "abc", "２０２４", "2024.5", "9" * 30):
        wrong = browser.get(f"/console/patients/{patient_id}/statement", params={"year": year})
        assert wrong.status_code == 422, year
        assert "입력한 값을 확인해 주세요" in wrong.text


def test_a_receipt_names_the_clinic_the_masked_patient_and_what_was_paid(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id, name="김영수")
    spent = spend(sessions, patient_id, clinic_id, dt.date(2024, 6, 10))
    with session_scope(sessions) as session:
        clinic_name = session.get(Clinic, clinic_id).name  # type: ignore[union-attr]
        booked = session.get(Transaction, spent).booked_at  # type: ignore[union-attr]

    page = browser.get(f"/console/receipts/{spent}")

    assert page.status_code == 200
    text = page.text
    assert f'<dd id="clinic">{clinic_name}</dd>' in text
    assert '<dd id="patient">김*수</dd>' in text and "김영수" not in text
    assert "2024. 6. 10." in text
    seoul = booked.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert f"{seoul.year}. {seoul.month}. {seoul.day}. {seoul:%H:%M}" in text
    assert re.search(r'<dd id="purpose">\s*사용 \(검사비\)\s*</dd>', text)
    assert '<dd id="amount">-3,000 M</dd>' in text
    assert '<dd id="balance">0 M</dd>' in text
    assert f'<dd id="number">{spent}</dd>' in text
    assert 'class="print-a4"' in text and "인쇄" in text
    narrow = browser.get(f"/console/receipts/{spent}?width=80mm")
    assert 'class="print-80mm"' in narrow.text
    odd = browser.get(f"/console/receipts/{spent}?width=<b>")
    assert 'class="print-a4"' in odd.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = browser.get("/console/static/print.js")
    assert script.status_code == 200 and "window.print()" in script.text
    css = browser.get("/console/static/print.css")
    assert "@media print" not in css.text and "size: A4" in css.text and "80mm" in css.text
    assert 'href="/console/static/print.css" media="print"' in text
    read = audits(sessions, "transaction.receipt", patient_id=patient_id)
    assert [(a.label, a.resource) for a in read] == [(PERSON, f"transactions/{spent}")] * 3


def test_a_void_with_a_reason_restores_the_balance_and_is_refused_a_second_time(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id)
    visited = visit(sessions, patient_id, clinic_id, dt.date(2024, 6, 3))
    receipt = browser.get(f"/console/receipts/{visited}")
    assert f'href="/console/receipts/{visited}/void"' in receipt.text
    confirm = browser.get(f"/console/receipts/{visited}/void")
    assert "취소 사유" in confirm.text
    before = count_transactions(sessions)

    empty = browser.post(
        f"/console/receipts/{visited}/void", data={"csrf_token": csrf(confirm), "reason": "  "}
    )
    assert empty.status_code == 422 and "취소하지 못했습니다" in empty.text
    assert "취소하는 이유를 500자 이내로 적어 주세요" in empty.text
    assert f'href="/console/receipts/{visited}"' in empty.text
    assert count_transactions(sessions) == before

    done = browser.post(
        f"/console/receipts/{visited}/void",
        data={"csrf_token": csrf(confirm), "reason": "다른 환자의 진료를 잘못 입력"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/patients/{patient_id}/statement?year=2024"
    page = browser.get(done.headers["location"])
    shown = rows(page)
    assert [(what, amount, b) for _, _, what, amount, b in shown] == [
        ("등록", 3_000, 3_000),
        ("진료 취소됨", 1_000, 4_000),
        ("조절 달성 취소됨", 2_000, 6_000),
        ("취소 (진료, 조절 달성)", -3_000, 3_000),
    ]
    assert page.text.count(f'<tr class="voided" data-transaction="{visited}">') == 2
    voided = browser.get(f"/console/receipts/{visited}")
    assert 'id="voided"' in voided.text and "/void" not in voided.text
    reversal = shown[-1][0]
    undo = browser.get(f"/console/receipts/{reversal}")
    assert (
        "다른 환자의 진료를 잘못 입력" in undo.text and '<dd id="amount">-3,000 M</dd>' in undo.text
    )

    again = browser.post(
        f"/console/receipts/{visited}/void",
        data={"csrf_token": csrf(confirm), "reason": "한 번 더"},
    )
    assert again.status_code == 409
    assert "이미 취소된 항목입니다" in again.text
    assert count_transactions(sessions) == before + 1
    logged = audits(sessions, "transaction.void", resource=f"transactions/{visited}")
    assert [a.label for a in logged] == [PERSON]


def test_a_void_after_the_quarter_closed_is_refused_in_korean(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    clinic_id = new_clinic(sessions, CLOSED_DISTRICT)
    member(browser, sessions, clinic_id=clinic_id)
    patient_id = new_patient(sessions, clinic_id, enrolled_on=dt.date(2024, 1, 10))
    with session_scope(sessions) as session:
        enrolment = session.get(Patient, patient_id).enrolment_transaction_id  # type: ignore[union-attr]
        draft = settlement.open_settlement(session, district=CLOSED_DISTRICT, year=2024, quarter=1)
        settlement.close_settlement(session, draft.id, closed_by="test", today=dt.date(2024, 4, 2))
    before = count_transactions(sessions)
    confirm = browser.get(f"/console/receipts/{enrolment}/void")

    refused = browser.post(
        f"/console/receipts/{enrolment}/void",
        data={"csrf_token": csrf(confirm), "reason": "잘못 등록"},
    )

    assert refused.status_code == 409
    assert "분기는 이미 마감되어" in refused.text and "보건소에 정정을 요청해" in refused.text
    assert count_transactions(sessions) == before


def test_a_correction_is_audited_with_the_persons_name(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id, name="김영스", birth_date=dt.date(1958, 4, 21))
    form = browser.get(f"/console/patients/{patient_id}/edit")
    assert 'value="김영스"' in form.text and 'value="1958-04-21"' in form.text
    assert re.search(r'value="010-\d{4}-\d{4}"', form.text)
    phone = random_mobile()

    done = browser.post(
        f"/console/patients/{patient_id}/edit",
        data={
            "csrf_token": csrf(form),
            "name": "  김영수 ",
            "birth_date": "1958-04-12",
            "phone": phone,
        },
        follow_redirects=False,
    )

    assert done.status_code == 303
    assert done.headers["location"] == f"/console/patients/{patient_id}/edit?saved=1"
    assert "저장되었습니다" in browser.get(done.headers["location"]).text
    with session_scope(sessions) as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        assert (patient.name, patient.birth_date) == ("김영수", dt.date(1958, 4, 12))
        assert patient.phone == "+82" + phone.replace("-", "")[1:]
    [changed] = audits(sessions, "patient.update", patient_id=patient_id)
    assert (changed.label, changed.role) == (PERSON, "clinic")
    assert changed.account_id is not None and changed.key_id is None
    assert changed.resource == f"patients/{patient_id}?changed=name,birth_date,phone"
    assert "김영수" not in (changed.resource + (changed.outcome or ""))


def test_a_correction_that_makes_the_patient_another_registered_person_is_refused(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    phone = random_mobile()
    born = dt.date(1960, 1, 1)
    existing = new_patient(sessions, clinic_id, name="박민수", birth_date=born, phone=phone)
    patient_id = new_patient(sessions, clinic_id, name="박민스", birth_date=born, phone=phone)
    form = browser.get(f"/console/patients/{patient_id}/edit")

    refused = browser.post(
        f"/console/patients/{patient_id}/edit",
        data={
            "csrf_token": csrf(form),
            "name": "박민수",
            "birth_date": "1960-01-01",
            "phone": phone,
        },
    )

    assert refused.status_code == 409
    assert "같은 이름, 생년월일, 전화번호로 등록된 다른 환자가 있습니다" in refused.text
    assert 'value="박민수"' in refused.text  # the typed values are kept
    assert stored_name(sessions, patient_id) == "박민스"
    attempt = audits(sessions, "patient.update.duplicate", patient_id=existing)
    assert [a.label for a in attempt] == [PERSON]
    assert audits(sessions, "patient.update", patient_id=patient_id) == []


@pytest.mark.parametrize(
    ("fields", "field", "kept"),
    [
        ({"birth_date": "2024-13-45"}, "birth_date", "2024-13-45"),
        ({"birth_date": "19580412"}, "birth_date", "19580412"),
        ({"birth_date": "2030-01-01"}, "birth_date", "2030-01-01"),
        ({"birth_date": "1899-12-31"}, "birth_date", "1899-12-31"),
        ({"birth_date": ""}, "birth_date", ""),
        ({"name": "김\u202e수"}, "name", None),
        ({"name": "가" * 101}, "name", "가" * 101),
        ({"name": "   "}, "name", None),
        ({"phone": "02-123-4567"}, "phone", "02-123-4567"),
        ({"phone": "전화번호"}, "phone", "전화번호"),
        ({"phone": "0" * 41}, "phone", None),
        ({"phone": "010-1234-5678\n"}, "phone", None),
    ],
)
def test_a_bad_value_is_refused_beside_its_field_with_the_typed_values_kept(
    browser: StrictClient,
    sessions: sessionmaker[Session],
    clinic_id: str,
    fields: dict[str, str],
    field: str,
    kept: str | None,
) -> None:
    patient_id = new_patient(sessions, clinic_id, name="이정희")
    form = browser.get(f"/console/patients/{patient_id}/edit")
    data = {"csrf_token": csrf(form), "name": "이정훈", "birth_date": "1958-04-12"}
    data |= {"phone": "010-2222-3333", **fields}

    refused = browser.post(f"/console/patients/{patient_id}/edit", data=data)

    assert refused.status_code == 422
    assert f'<p class="error" role="alert" id="{field}-error">' in refused.text
    if kept is not None:
        assert f'value="{kept}"' in refused.text
    for other in {"name", "birth_date", "phone"} - {field}:
        assert f'id="{other}-error"' not in refused.text
        assert f'value="{data[other]}"' in refused.text or other == "phone"
    assert stored_name(sessions, patient_id) == "이정희"


def test_a_form_with_fields_missing_is_refused_beside_each(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id)
    form = browser.get(f"/console/patients/{patient_id}/edit")
    refused = browser.post(f"/console/patients/{patient_id}/edit", data={"csrf_token": csrf(form)})
    assert refused.status_code == 422
    for field in ("name", "birth_date", "phone"):
        assert f'id="{field}-error"' in refused.text


def test_every_wrong_field_is_named_at_once(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id)
    form = browser.get(f"/console/patients/{patient_id}/edit")
    data = {"csrf_token": csrf(form), "name": "김\x07", "birth_date": "2024-06-15"}
    refused = browser.post(
        f"/console/patients/{patient_id}/edit", data=data | {"phone": "02-123-4567"}
    )
    assert refused.status_code == 422
    for field in ("name", "birth_date", "phone"):
        assert f'id="{field}-error"' in refused.text
    assert 'value="2024-06-15"' in refused.text and 'value="02-123-4567"' in refused.text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"reason=%ff%fe%00",
        b"reason=" + b"x" * 501,
        b"&".join(b"f%d=x" % n for n in range(200)),
        b'{"reason": "json"}',
        b"name=%00&birth_date=%ff&phone=\x01",
    ],
)
def test_bad_bodies_never_fail_the_records_forms(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str, body: bytes
) -> None:
    patient_id = new_patient(sessions, clinic_id)
    visited = visit(sessions, patient_id, clinic_id, dt.date(2024, 6, 3))
    token = csrf(browser.get(f"/console/receipts/{visited}/void")).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    before = count_transactions(sessions)
    for path in (f"/console/receipts/{visited}/void", f"/console/patients/{patient_id}/edit"):
        for sent in (body, b"csrf_token=" + token + b"&" + body):
            answer = browser.post(path, content=sent, headers=headers)
            assert answer.status_code in (403, 422), (path, sent, answer.status_code)
    assert count_transactions(sessions) == before


def test_a_form_without_its_csrf_token_is_refused(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id, name="최미정")
    visited = visit(sessions, patient_id, clinic_id, dt.date(2024, 6, 3))
    before = count_transactions(sessions)
    void = browser.post(f"/console/receipts/{visited}/void", data={"reason": "실수"})
    edit = browser.post(
        f"/console/patients/{patient_id}/edit",
        data={"name": "최미경", "birth_date": "1958-04-12", "phone": random_mobile()},
    )
    forged = browser.post(
        f"/console/receipts/{visited}/void", data={"reason": "실수", "csrf_token": "forged"}
    )
    assert [void.status_code, edit.status_code, forged.status_code] == [403, 403, 403]
    assert "이 양식은 만료되었거나" in void.text
    assert count_transactions(sessions) == before
    assert stored_name(sessions, patient_id) == "최미정"


def test_another_clinics_patient_and_receipt_answer_exactly_as_missing_ones(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    own = new_clinic(sessions)
    member(browser, sessions, clinic_id=own)
    other = new_clinic(sessions)
    theirs = new_patient(sessions, other)
    their_visit = visit(sessions, theirs, other, dt.date(2024, 6, 3))
    token = csrf(browser.get("/console/"))
    missing_patient = "pat_" + uuid.uuid4().hex[:26]
    missing = str(their_visit + 10_000)

    def same(found: httpx.Response, absent: httpx.Response) -> None:
        assert found.status_code == absent.status_code == 404
        assert found.text == absent.text

    for path in ("statement", "edit"):
        same(
            browser.get(f"/console/patients/{theirs}/{path}"),
            browser.get(f"/console/patients/{missing_patient}/{path}"),
        )
    edit = {"csrf_token": token, "name": "x", "birth_date": "1958-04-12", "phone": "x"}
    same(
        browser.post(f"/console/patients/{theirs}/edit", data=edit),
        browser.post(f"/console/patients/{missing_patient}/edit", data=edit),
    )
    for suffix in ("", "/void"):
        same(
            browser.get(f"/console/receipts/{their_visit}{suffix}"),
            browser.get(f"/console/receipts/{missing}{suffix}"),
        )
    void = {"csrf_token": token, "reason": "남의 것"}
    same(
        browser.post(f"/console/receipts/{their_visit}/void", data=void),
        browser.post(f"/console/receipts/{missing}/void", data=void),
    )
    for odd in ("abc", "-1", "１２", "9" * 40, "0x10"):
        assert browser.get(f"/console/receipts/{odd}").status_code == 404
    with session_scope(sessions) as session:
        assert (
            session.execute(
                select(func.count()).where(Transaction.reverses_id == their_visit)
            ).scalar_one()
            == 0
        )


def test_a_patients_spending_at_another_clinic_shows_on_its_receipt_there(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    home = new_clinic(sessions)
    eyes = new_clinic(sessions)
    member(browser, sessions, clinic_id=eyes)
    patient_id = new_patient(sessions, home)
    spent = spend(sessions, patient_id, eyes, dt.date(2024, 6, 10))
    assert browser.get(f"/console/receipts/{spent}").status_code == 200
    assert browser.get(f"/console/patients/{patient_id}/statement").status_code == 404


def test_the_clinics_quarter_shows_what_it_earned_and_what_patients_spent_there(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    patient_id = new_patient(sessions, clinic_id, enrolled_on=dt.date(2024, 4, 2))
    visit(sessions, patient_id, clinic_id, dt.date(2024, 5, 7))
    spend(sessions, patient_id, clinic_id, dt.date(2024, 6, 10))

    page = browser.get("/console/clinic/quarter")
    same = browser.get("/console/clinic/quarter?quarter=2024Q2")

    assert page.status_code == 200 and page.text == same.text
    assert "2024년 2분기" in page.text
    with session_scope(sessions) as session:
        clinic = session.get(Clinic, clinic_id)
        assert clinic is not None
        found = statements.clinic_statement(session, clinic, 2024, 2)
    assert (found.earned, found.reimbursed) == (12_000, 3_000)
    assert '<td class="num" id="earned">12,000 M</td>' in page.text
    assert '<td class="num" id="spent">3,000 M</td>' in page.text
    assert '<td class="num" id="total">15,000 M</td>' in page.text
    assert re.search(
        r"<td>적립</td><td>등록</td><td class=\"num\">1</td><td class=\"num\">10,000 M", page.text
    )
    assert re.search(r"<td>사용</td><td>사용 \(검사비\)</td><td class=\"num\">1</td>", page.text)
    first = browser.get("/console/clinic/quarter?quarter=2024-Q1")
    assert '<td class="num" id="earned">0 M</td>' in first.text
    for wrong in ("2024Q5", "2024", "Q1", "2012Q4", "2025Q1", "２０２４Q1"):
        assert browser.get("/console/clinic/quarter", params={"quarter": wrong}).status_code == 422
    resource = f"clinics/{clinic_id}/statement?year=2024&quarter=2"
    assert {a.label for a in audits(sessions, "clinic.statement", resource=resource)} == {PERSON}


def test_a_health_centre_reads_statements_but_not_a_clinics_quarter(
    browser: StrictClient, sessions: sessionmaker[Session]
) -> None:
    clinic_id = new_clinic(sessions, "11440")
    patient_id = new_patient(sessions, clinic_id)
    member(browser, sessions, role="health_center", district="11440")
    assert browser.get(f"/console/patients/{patient_id}/statement").status_code == 200
    assert browser.get("/console/clinic/quarter").status_code == 403


def test_a_nul_character_in_a_form_is_refused_before_anything_is_read(
    browser: StrictClient, sessions: sessionmaker[Session], clinic_id: str
) -> None:
    """No database stores a NUL and no person types one: the whole form is refused (422)."""
    patient_id = new_patient(sessions, clinic_id, name="이정희")
    form = browser.get(f"/console/patients/{patient_id}/edit")
    data = {"csrf_token": csrf(form), "name": "김\x00수", "birth_date": "1958-04-12"}
    refused = browser.post(f"/console/patients/{patient_id}/edit", data=data)
    assert refused.status_code == 422 and "입력한 값을 확인해 주세요" in refused.text
    assert stored_name(sessions, patient_id) == "이정희"
