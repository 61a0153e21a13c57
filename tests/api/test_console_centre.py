"""The health centre's texts page in the console: each day's texts by outcome, the numbers
to correct, the pause switch with its reason, and the no-send days; scoped to the district."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from actions import patients
from actions.context import system_context
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import DistrictMessaging, Message, NoSendDay
from ledger.services.registry import get_patient
from ledger.settings import get_settings
from ledger.vocabulary import MessageStatus
from notifications.calendar import SendingCalendar
from notifications.outbox import queue_recall
from tests.api.conftest import TODAY, StrictClient
from tests.api.test_console import csrf, member
from tests.factories import make_clinic, make_patient

DISTRICT = "11290"  # 성북구: no other test of the console texts there
OTHER = "11305"  # 강북구


@pytest.fixture
def officer(app: FastAPI, sessions: sessionmaker[Session]) -> Iterator[StrictClient]:
    with StrictClient(app) as browser:
        member(browser, sessions, role="health_center", district=DISTRICT)
        yield browser


def texts_url(district: str = DISTRICT, **query: str) -> str:
    tail = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/console/districts/{district}/texts" + (f"?{tail}" if tail else "")


def texted(sessions: sessionmaker[Session], day: dt.date, outcomes: list[str]) -> list[str]:
    """A patient per outcome, each with a recall due to go out on ``day`` that ended so."""
    calendar = SendingCalendar.from_settings(get_settings())
    ids = []
    with session_scope(sessions) as session:
        clinic = make_clinic(session, district=DISTRICT)
        for n, outcome in enumerate(outcomes):
            patient = make_patient(session, clinic).patient
            moment = dt.datetime.combine(day, dt.time(9, n), SEOUL)
            message = queue_recall(
                session,
                patient=patient,
                clinic_id=clinic.id,
                due=day,
                sequence=0,
                now=moment,
                calendar=calendar,
            )
            assert message is not None
            code = 30005 if outcome == MessageStatus.FAILED else None
            session.execute(
                update(Message)
                .where(Message.id == message.id)
                .values(status=outcome, error_code=code, updated_at=moment)
            )
            ids.append(patient.id)
    return ids


def row_of(page: str, label: str) -> list[str]:
    found = re.search(rf"<tr[^>]*>\s*<td>{re.escape(label)}</td>(.*?)</tr>", page, re.S)
    assert found, label
    return re.findall(r"<td>([^<]*)</td>", found[1])


def test_each_day_counts_its_texts_by_outcome(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    day = dt.date(2024, 2, 6)  # a Tuesday
    texted(sessions, day, ["delivered", "delivered", "failed", "sent", "suppressed", "queued"])
    page = officer.get(texts_url(start="2024-02-05", end="2024-02-07"))
    assert page.status_code == 200
    assert "성북구 문자 발송" in page.text
    assert row_of(page.text, "2024. 2. 6.") == ["1", "1", "2", "1", "1", "0"]
    assert row_of(page.text, "2024. 2. 5.") == ["0"] * 6


def test_a_failed_number_is_listed_until_it_is_corrected(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    failed, reached = texted(sessions, dt.date(2024, 2, 13), ["failed", "failed"])
    with session_scope(sessions) as session:
        names = {p: get_patient(session, p).name for p in (failed, reached)}
    page = officer.get(texts_url()).text
    assert names[failed] in page and names[reached] in page
    assert "없는 번호 (30005)" in page
    assert f'href="/console/patients/{failed}/edit"' in page
    # one patient's number is corrected; a later text reaches the other
    ctx = system_context("command line", SendingCalendar.from_settings(get_settings()))
    with session_scope(sessions) as session:
        patients.update_patient(session, ctx, get_patient(session, failed), phone="010-7777-1234")
    texted_later = dt.datetime(2024, 2, 20, 10, tzinfo=SEOUL)
    with session_scope(sessions) as session:
        session.execute(
            update(Message)
            .where(Message.patient_id == reached)
            .values(status="delivered", updated_at=texted_later)
        )
        session.add(
            Message(
                id=f"msg_later_{reached[-8:]}",
                patient_id=reached,
                district=DISTRICT,
                kind="reminder",
                due_date=dt.date(2024, 2, 21),
                not_before=texted_later,
                status="delivered",
                updated_at=texted_later,
            )
        )
    page = officer.get(texts_url()).text
    assert names[failed] not in page and names[reached] not in page


def test_pausing_needs_a_reason_and_shows_who_paused(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    form = officer.get(texts_url())
    assert "보내는 중" in form.text
    token = csrf(form)
    refused = officer.post(
        texts_url() + "/switch", data={"csrf_token": token, "paused": "yes", "reason": "  "}
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="reason-error"' in refused.text
    assert "이유를 적어 주세요" in refused.text
    with session_scope(sessions) as session:
        switch = session.get(DistrictMessaging, DISTRICT)
        assert switch is None or not switch.paused
    paused = officer.post(
        texts_url() + "/switch",
        data={"csrf_token": token, "paused": "yes", "reason": "문자 문구 점검 중"},
    )
    assert paused.status_code == 200 and str(paused.url).endswith(texts_url())
    assert "멈춤" in paused.text and "문자 문구 점검 중" in paused.text and "정접수" in paused.text
    resumed = officer.post(texts_url() + "/switch", data={"csrf_token": token, "paused": "no"})
    assert "보내는 중" in resumed.text
    with session_scope(sessions) as session:
        switch = session.get(DistrictMessaging, DISTRICT)
        assert switch is not None and not switch.paused


def test_a_no_send_day_is_added_shown_on_the_calendar_and_removed(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    token = csrf(officer.get(texts_url()))
    day = TODAY + dt.timedelta(days=5)
    bad = officer.post(
        texts_url().replace("/texts", "/no-send-days"),
        data={"csrf_token": token, "day": "2024-02-30", "day_reason": "구민의 날"},
    )
    assert bad.status_code == 422 and "날짜를 달력에서 고르거나" in bad.text
    assert 'value="구민의 날"' in bad.text  # what was typed is kept
    added = officer.post(
        texts_url().replace("/texts", "/no-send-days"),
        data={"csrf_token": token, "day": day.isoformat(), "day_reason": "구민의 날"},
    )
    assert added.status_code == 200
    assert "구민의 날" in added.text
    assert f'{day.day}<span class="sr"> (보건소 지정)</span>' in added.text
    with session_scope(sessions) as session:
        assert session.get(NoSendDay, (DISTRICT, day)) is not None
    removed = officer.post(
        texts_url().replace("/texts", f"/no-send-days/{day.isoformat()}/remove"),
        data={"csrf_token": token},
    )
    assert "앞으로 정한 날이 없습니다" in removed.text
    with session_scope(sessions) as session:
        assert (
            session.execute(select(NoSendDay).where(NoSendDay.district == DISTRICT)).first() is None
        )


def test_another_districts_page_answers_as_a_missing_one(officer: StrictClient) -> None:
    other = officer.get(texts_url(OTHER))
    missing = officer.get(texts_url("99999"))
    assert other.status_code == missing.status_code == 404
    assert other.text == missing.text
    token = csrf(officer.get(texts_url()))
    refused = officer.post(
        texts_url(OTHER) + "/switch", data={"csrf_token": token, "paused": "yes", "reason": "x"}
    )
    assert refused.status_code == 404


def test_a_clinic_account_cannot_reach_the_health_centres_pages(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    with StrictClient(app) as browser:
        member(browser, sessions)
        assert browser.get(texts_url()).status_code == 403


def test_the_city_opens_any_districts_texts_from_its_home_page(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    with StrictClient(app) as browser:
        member(browser, sessions, role="city")
        home = browser.get("/console/")
        assert f'href="{texts_url(OTHER)}"' in home.text
        assert browser.get(texts_url(OTHER)).status_code == 200


def test_the_switch_form_needs_its_csrf_token(officer: StrictClient) -> None:
    refused = officer.post(texts_url() + "/switch", data={"paused": "yes", "reason": "x"})
    assert refused.status_code == 403
