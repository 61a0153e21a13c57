"""A district's audit trail in the console: who read or changed what in the district,
filterable by person, patient and date; another district's events and pages stay apart."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from actions import patients, staff
from actions.context import Context, system_context
from ledger import clock
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.services.staff import principal_of
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar
from tests.api.conftest import StrictClient
from tests.api.test_console import member
from tests.factories import make_clinic, make_patient

DISTRICT = "11215"  # 광진구
PAGE = f"/console/districts/{DISTRICT}/audit"
READ_AT = dt.datetime(2024, 6, 12, 10, 30, tzinfo=SEOUL)


@pytest.fixture
def officer(app: FastAPI, sessions: sessionmaker[Session]) -> Iterator[StrictClient]:
    with StrictClient(app) as browser:
        member(browser, sessions, role="health_center", district=DISTRICT)
        yield browser


def receptionist_reads(
    sessions: sessionmaker[Session], district: str, name: str
) -> tuple[str, str, str]:
    """A clinic's receptionist of ``district`` opens a patient's page: (account, patient id,
    patient name)."""
    calendar = SendingCalendar.from_settings(get_settings())
    with session_scope(sessions) as session:
        clinic = make_clinic(session, district=district)
        patient = make_patient(session, clinic).patient
        account = staff.create_account(
            session,
            system_context("command line", calendar),
            login=f"r{uuid.uuid4().hex[:8]}",
            name=name,
            role="clinic",
            clinic_id=clinic.id,
        ).account
        ctx = Context(principal_of(account), READ_AT, READ_AT.date(), calendar)
        patients.show_patient(session, ctx, patient)
        return account.id, patient.id, patient.name or ""


def rows_of(page: str) -> str:
    """The trail's table only (the person filter names the district's people too)."""
    return page.split("<tbody>", 1)[1]


def test_a_read_of_a_patient_shows_the_persons_name_and_the_patient(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    _, patient_id, patient_name = receptionist_reads(sessions, DISTRICT, "송열람")
    row = rows_of(officer.get(PAGE).text).split("송열람", 1)[1].split("</tr>", 1)[0]
    assert "환자 정보 조회" in row and patient_name in row
    assert f"?patient={patient_id}" in row


def test_the_trail_is_filtered_by_person_patient_and_date(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    first, first_patient, first_name = receptionist_reads(sessions, DISTRICT, "권첫째")
    second, _, second_name = receptionist_reads(sessions, DISTRICT, "권둘째")
    by_person = rows_of(officer.get(PAGE, params={"person": first}).text)
    assert "권첫째" in by_person and "권둘째" not in by_person
    by_patient = rows_of(officer.get(PAGE, params={"patient": first_patient}).text)
    assert first_name in by_patient and second_name not in by_patient
    today = clock.today()  # an audit row is stamped when it is written, on the wall clock
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    later = officer.get(PAGE, params={"person": second, "since": tomorrow}).text
    assert "권둘째" not in rows_of(later)
    day = today.isoformat()
    that_day = officer.get(PAGE, params={"person": second, "since": day, "until": day}).text
    assert "권둘째" in rows_of(that_day)


def test_another_districts_events_and_trail_stay_apart(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    _, _, theirs = receptionist_reads(sessions, "11740", "구다른")
    assert "구다른" not in officer.get(PAGE).text and theirs not in officer.get(PAGE).text
    other = officer.get("/console/districts/11740/audit")
    missing = officer.get("/console/districts/99999/audit")
    assert other.status_code == missing.status_code == 404 and other.text == missing.text


def test_reading_the_trail_is_itself_recorded(officer: StrictClient) -> None:
    officer.get(PAGE)
    assert "열람 기록 조회" in officer.get(PAGE).text
