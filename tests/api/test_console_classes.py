"""A health centre's education classes in the console: a class is made, its attendance is
recorded by ticking patients found in the district, each refusal named, nothing twice."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import session_scope
from ledger.models import Attendance, EducationSession
from ledger.services.registry import get_patient
from tests.api.conftest import StrictClient
from tests.api.test_console import csrf, member
from tests.factories import make_clinic, make_patient

DISTRICT = "11260"  # 중랑구
HELD_ON = "2024-06-10"


@pytest.fixture
def officer(app: FastAPI, sessions: sessionmaker[Session]) -> Iterator[StrictClient]:
    with StrictClient(app) as browser:
        member(browser, sessions, role="health_center", district=DISTRICT)
        yield browser


def new_class(officer: StrictClient, title: str = "혈압 바로 알기") -> str:
    form = officer.get("/console/education")
    made = officer.post(
        "/console/education",
        data={
            "csrf_token": csrf(form),
            "held_on": HELD_ON,
            "condition": "hypertension",
            "title": title,
        },
    )
    assert made.status_code == 200 and title in made.text
    found = re.search(r"/console/education/(edu_\w+)", str(made.url))
    assert found, made.url
    return found[1]


def people(sessions: sessionmaker[Session], district: str, count: int) -> list[tuple[str, str]]:
    """New patients of ``district``: (id, name)."""
    with session_scope(sessions) as session:
        clinic = make_clinic(session, district=district)
        made = [make_patient(session, clinic).patient for _ in range(count)]
        return [(p.id, p.name or "") for p in made]


def tick(officer: StrictClient, class_id: str, ids: list[str]) -> str:
    page = officer.get(f"/console/education/{class_id}")
    data = {"csrf_token": csrf(page)} | {f"tick_{p}": "on" for p in ids}
    answer = officer.post(f"/console/education/{class_id}/attendance", data=data)
    assert answer.status_code == 200
    return answer.text


def test_a_new_class_needs_a_date_a_condition_and_a_title(officer: StrictClient) -> None:
    form = officer.get("/console/education")
    refused = officer.post(
        "/console/education",
        data={"csrf_token": csrf(form), "held_on": "2024-13-01", "condition": "flu", "title": ""},
    )
    assert refused.status_code == 422
    for field in ("held_on", "condition", "title"):
        assert f'aria-describedby="{field}-error"' in refused.text
    made = new_class(officer, "당뇨와 식사")
    listed = officer.get("/console/education").text
    assert f'href="/console/education/{made}">당뇨와 식사</a>' in listed
    assert "2024. 6. 10." in listed


def test_ticked_patients_are_recorded_once_and_each_refusal_is_named(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    class_id = new_class(officer)
    (a, name_a), (b, name_b), (c, name_c) = people(sessions, DISTRICT, 3)
    ((stranger, stranger_name),) = people(sessions, "11740", 1)  # 강동구's patient
    tick(officer, class_id, [c])
    page = tick(officer, class_id, [a, b, c, stranger])
    assert "2명의 출석을 기록했습니다" in page
    assert f"{name_c}: 이미 이 교육에 출석이 기록되어 있습니다." in page
    assert "(찾을 수 없는 환자): 이 보건소에서 기록할 수 없는 환자입니다." in page
    assert stranger_name not in page  # the address may be edited: no other district's name
    attendees = page.split("출석한 환자", 1)[1]
    for name in (name_a, name_b, name_c):
        assert name in attendees
    credited = re.findall(r"<td>([0-9,]+) M</td>", attendees)
    assert len(credited) == 3 and len(set(credited)) == 1 and credited[0] != "0"
    again = tick(officer, class_id, [a, b])  # a reload of the same form
    assert "0명의 출석을 기록했습니다" in again
    with session_scope(sessions) as session:
        counted = session.execute(
            select(func.count()).where(Attendance.session_id == class_id)
        ).scalar_one()
    assert counted == 3


def test_patients_are_found_by_name_phone_ending_or_birth_date(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    class_id = new_class(officer)
    ((found, name),) = people(sessions, DISTRICT, 1)
    with session_scope(sessions) as session:
        patient = get_patient(session, found)
        phone_end, born = (patient.phone or "")[-4:], patient.birth_date
    ((_, stranger_name),) = people(sessions, "11740", 1)
    url = f"/console/education/{class_id}"
    assert f'name="tick_{found}"' in officer.get(url, params={"q": name[2:]}).text
    assert f'name="tick_{found}"' in officer.get(url, params={"q": phone_end}).text
    assert f'name="tick_{found}"' in officer.get(url, params={"q": str(born)}).text
    assert "찾는 환자가 없습니다" in officer.get(url, params={"q": stranger_name}).text
    assert "찾는 환자가 없습니다" in officer.get(url, params={"q": "%"}).text


def test_another_centres_class_answers_as_a_missing_one(
    officer: StrictClient, app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    class_id = new_class(officer)
    with StrictClient(app) as other:
        member(other, sessions, role="health_center", district="11740")
        theirs = other.get(f"/console/education/{class_id}")
        missing = other.get("/console/education/edu_nothing")
        assert theirs.status_code == missing.status_code == 404
        assert theirs.text == missing.text
    with StrictClient(app) as clinic:
        member(clinic, sessions)
        assert clinic.get("/console/education").status_code == 403
    with session_scope(sessions) as session:
        assert session.get(EducationSession, class_id) is not None


def test_a_class_can_be_recorded_only_once_it_has_been_held(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    form = officer.get("/console/education")
    made = officer.post(
        "/console/education",
        data={
            "csrf_token": csrf(form),
            "held_on": (dt.date(2024, 6, 14) + dt.timedelta(days=3)).isoformat(),
            "condition": "diabetes",
            "title": "다음 주 교육",
        },
    )
    class_id = str(made.url).rsplit("/", 1)[1]
    ((patient, name),) = people(sessions, DISTRICT, 1)
    page = tick(officer, class_id, [patient])
    assert f"{name}: 아직 열리지 않은 교육입니다" in page
