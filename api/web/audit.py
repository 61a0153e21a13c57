"""A district's audit trail in the console (열람·변경 기록): who read or changed what, when,
from where; filterable by person, patient and date. The district's health centre or the
city; reading it is itself recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from actions import access
from api.web.centre import OwnDistrict
from api.web.deps import MemberDep, PageSessionDep, Visitor
from api.web.pages import page
from ledger.clock import SEOUL
from ledger.services import clinics, district_audit

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 50
Id = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_]{1,32}$")]
# What each recorded action was, in the officer's words.
ACTIONS = {
    "attendance.create": "교육 출석 기록",
    "audit.read": "열람 기록 조회",
    "balance.migrate": "잔액 이전",
    "clinic.create": "의원 등록",
    "clinic.leave": "의원 참여 종료",
    "database.backup": "백업",
    "database.restore": "복원",
    "district.messaging": "문자 발송 멈춤/재개",
    "district.no_send_day": "문자 보내지 않는 날 지정",
    "district.no_send_day.remove": "문자 보내지 않는 날 해제",
    "district.texts": "문자 발송 현황 조회",
    "education.attendees": "교육 출석자 조회",
    "education.create": "교육 만들기",
    "key.create": "API 키 발급",
    "key.revoke": "API 키 폐기",
    "patient.create": "환자 등록",
    "patient.erase": "환자 개인정보 삭제",
    "patient.leave": "프로그램 탈퇴",
    "patient.lookup": "환자 찾기",
    "patient.messages": "환자 문자 조회",
    "patient.move": "환자 의원 이동",
    "patient.read": "환자 정보 조회",
    "patient.statement": "마일리지 내역 조회",
    "patient.update": "환자 정보 변경",
    "recalls.queue": "재방문 안내 문자 예약",
    "redemption.create": "마일리지 사용",
    "settlement.close": "정산 마감",
    "settlement.open": "정산 조회",
    "settlement.payment": "정산 지급 기록",
    "staff.change_password": "비밀번호 변경",
    "staff.create": "계정 만들기",
    "staff.disable": "계정 사용 중지",
    "staff.reset_password": "비밀번호 초기화",
    "staff.sign_in": "로그인",
    "staff.sign_out": "로그아웃",
    "transaction.reverse": "거래 취소",
    "transaction.void": "입력 취소",
    "visit.create": "진료 기록",
}
OUTCOMES = {
    None: "",
    "ok": "",
    "found": "찾음",
    "not_found": "못 찾음",
    "invalid": "잘못된 입력",
    "failed": "실패",
    "refused": "거부됨",
    "rate_limited": "횟수 제한",
}


def _moment(day: dt.date | None, *, next_day: bool = False) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=int(next_day)), dt.time(), SEOUL)


@dataclass(frozen=True)
class Filters:
    """What the officer narrowed the trail to: a person, a patient, days, a page."""

    person: str | None
    patient: str | None
    since: dt.date | None
    until: dt.date | None
    before: int | None


def _filters(
    person: Id = None,
    patient: Id = None,
    since: Annotated[dt.date | None, Query()] = None,
    until: Annotated[dt.date | None, Query()] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Filters:
    return Filters(person or None, patient or None, since, until, before)


FiltersDep = Annotated[Filters, Depends(_filters)]


def audit_page(session: Session, visitor: Visitor, district: str, chosen: Filters) -> HTMLResponse:
    rows = access.read_district_audit(
        session,
        visitor.ctx,
        district,
        account_id=chosen.person,
        patient_id=chosen.patient,
        since=_moment(chosen.since),
        until=_moment(chosen.until, next_day=True),
        before=chosen.before,
        limit=PAGE + 1,
    )
    shown = rows[:PAGE]
    ids = {r.patient_id for r in shown if r.patient_id}
    if chosen.patient:
        ids.add(chosen.patient)
    return page(
        visitor,
        "centre/audit.html",
        district=clinics.get_district(session, district),
        rows=shown,
        more=len(rows) > PAGE,
        people=district_audit.district_people(session, district),
        names=district_audit.patient_names(session, district, ids),
        actions=ACTIONS,
        outcomes=OUTCOMES,
        chosen=asdict(chosen),
    )


@router.get("/districts/{code}/audit")
def district_audit_page(
    session: PageSessionDep, visitor: MemberDep, district: OwnDistrict, chosen: FiltersDep
) -> HTMLResponse:
    """The district's audit trail, newest first, with its filters."""
    return audit_page(session, visitor, district, chosen)
