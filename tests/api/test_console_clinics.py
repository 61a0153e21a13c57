"""A district's clinics in the console: the list with participation dates, patients and
staff accounts; a new clinic; a clinic's participation ended after a confirmation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import session_scope
from ledger.models import Clinic
from ledger.services.clinics import get_clinic
from tests.api.conftest import TODAY, StrictClient
from tests.api.test_console import csrf, member
from tests.factories import make_clinic, make_patient

DISTRICT = "11230"  # 동대문구
PAGE = f"/console/districts/{DISTRICT}/clinics"


@pytest.fixture
def officer(app: FastAPI, sessions: sessionmaker[Session]) -> Iterator[StrictClient]:
    with StrictClient(app) as browser:
        member(browser, sessions, role="health_center", district=DISTRICT)
        yield browser


def test_the_list_shows_each_clinics_dates_patients_and_staff(
    officer: StrictClient, app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        clinic = make_clinic(session, district=DISTRICT)
        for _ in range(3):
            make_patient(session, clinic)
        clinic_id, name = clinic.id, clinic.name
    with StrictClient(app) as desk:
        member(desk, sessions, clinic_id=clinic_id)
    page = officer.get(PAGE).text
    row = page.split(name, 1)[1].split("</tr>", 1)[0]
    assert "만성질환 의원" in row and "2013. 1. 1. ~" in row
    assert "<td>3명</td>" in row and "<td>1개</td>" in row


def test_a_new_clinic_is_added_and_a_wrong_field_is_named(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    token = csrf(officer.get(PAGE))
    refused = officer.post(
        PAGE, data={"csrf_token": token, "name": " ", "kind": "dental", "since": "2024-02-31"}
    )
    assert refused.status_code == 422
    for field in ("name", "kind", "since"):
        assert f'aria-describedby="{field}-error"' in refused.text
    added = officer.post(
        PAGE,
        data={
            "csrf_token": token,
            "name": "새봄안과의원",
            "kind": "ophthalmology",
            "since": "2024-03-04",
        },
    )
    assert added.status_code == 200 and str(added.url).endswith(PAGE)
    assert "새봄안과의원" in added.text
    with session_scope(sessions) as session:
        clinic = session.execute(select(Clinic).where(Clinic.name == "새봄안과의원")).scalar_one()
        assert (clinic.district, clinic.kind) == (DISTRICT, "ophthalmology")


def test_a_clinic_leaves_after_a_confirmation_that_says_what_it_means(
    officer: StrictClient, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        clinic_id = make_clinic(session, district=DISTRICT).id
    url = f"/console/clinics/{clinic_id}/leaving"
    asked = officer.get(url, params={"on": TODAY.isoformat()})
    assert "2024. 6. 14.</strong>까지로 끝냅니다" in asked.text
    assert "기록과 의원이 받을 정산, 환자들의 마일리지는 그대로 남습니다" in asked.text
    with session_scope(sessions) as session:
        assert get_clinic(session, clinic_id).participating_until is None  # not yet
    done = officer.post(url, data={"csrf_token": csrf(asked), "on": TODAY.isoformat()})
    assert str(done.url).endswith(PAGE)
    with session_scope(sessions) as session:
        assert get_clinic(session, clinic_id).participating_until == TODAY
    early = officer.post(url, data={"csrf_token": csrf(asked), "on": "2012-12-31"})
    assert early.status_code == 422 and "참여를 시작한 날보다 앞설 수 없습니다" in early.text


def test_another_districts_clinics_answer_as_missing_ones(
    officer: StrictClient, app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        theirs = make_clinic(session, district="11740").id
    assert (
        officer.get("/console/districts/11740/clinics").text
        == officer.get("/console/districts/99999/clinics").text
    )
    other = officer.get(f"/console/clinics/{theirs}/leaving")
    missing = officer.get("/console/clinics/cln_nothing/leaving")
    assert other.status_code == missing.status_code == 404 and other.text == missing.text
    with StrictClient(app) as desk:
        member(desk, sessions)
        assert desk.get(PAGE).status_code == 403
