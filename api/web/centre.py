"""The health centre's pages (보건소): the district's texts for now: each day's texts by
outcome, the numbers that failed, the pause switch with its reason, and the no-send days on
a calendar. The city opens any district's; a health centre its own only (another district's
answers as a missing page).

Forms answer with post-redirect-get; a form with a mistake is shown again with the reason
beside the field it concerns and what was typed kept.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from actions import messaging, policy
from actions.context import Context
from api.authorise import DistrictCode, district_in_scope
from api.deps import ContextDep, SessionDep
from api.errors import redirect
from api.web.deps import CheckedFormDep, MemberDep, PageSessionDep, Visitor
from api.web.pages import page
from ledger.errors import Forbidden, UnknownDistrict
from ledger.services import clinics
from ledger.text import unsafe_character
from ledger.vocabulary import Role

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

SHOWN_DAYS = 14  # the texts table's default: the last two weeks and the week ahead
AHEAD_DAYS = 7
REASON_LIMIT = 200
# What the carrier's codes mean, in the officer's words (Twilio's error dictionary).
CARRIER_CODES = {
    21211: "잘못된 전화번호",
    21408: "보낼 수 없는 지역",
    21610: "수신을 거부한 번호",
    21614: "휴대전화 번호가 아님",
    30003: "전화기가 꺼져 있거나 받을 수 없음",
    30005: "없는 번호",
    30006: "유선 전화이거나 받을 수 없는 번호",
    30007: "통신사가 막음",
    30008: "알 수 없는 오류",
}


def _own_district(code: DistrictCode, session: SessionDep, ctx: ContextDep) -> str:
    """A district the person manages: the city any, a health centre its own; another
    district answers exactly as one that does not exist."""
    policy.require_role(ctx.principal, Role.CITY, Role.HEALTH_CENTER)
    try:
        return district_in_scope(session, ctx, code)
    except Forbidden:
        raise UnknownDistrict(f"no district {code}") from None


OwnDistrict = Annotated[str, Depends(_own_district)]


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date


def _period(
    ctx: ContextDep,
    start: Annotated[dt.date | None, Query()] = None,
    end: Annotated[dt.date | None, Query()] = None,
) -> Period:
    """The days the texts table shows: as asked (at most a year), or the last two weeks and
    the week ahead."""
    end = end or ctx.today + dt.timedelta(days=AHEAD_DAYS)
    start = start or end - dt.timedelta(days=SHOWN_DAYS + AHEAD_DAYS - 1)
    if start > end:
        start, end = end, start
    return Period(max(start, end - dt.timedelta(days=366)), end)


PeriodDep = Annotated[Period, Depends(_period)]


def months_ahead(ctx: Context, no_send: set[dt.date], count: int = 2) -> list[dict[str, object]]:
    """This month and the next as calendar grids: each day with whether texts go out."""
    months = []
    year, month = ctx.today.year, ctx.today.month
    for _ in range(count):
        weeks = []
        for week in calendar.Calendar(firstweekday=6).monthdatescalendar(year, month):
            weeks.append(
                [
                    {
                        "day": day,
                        "in_month": day.month == month,
                        "own": day in no_send,
                        "sends": ctx.calendar.is_sending_day(day, no_send),
                        "past": day < ctx.today,
                    }
                    for day in week
                ]
            )
        months.append({"year": year, "month": month, "weeks": weeks})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def texts_page(
    session: Session,
    visitor: Visitor,
    district: str,
    period: Period,
    *,
    after: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    texts = messaging.show_district_texts(
        session, visitor.ctx, district, start=period.start, end=period.end, failed_after=after
    )
    own = {d.day for d in texts.no_send_days}
    return page(
        visitor,
        "centre/texts.html",
        status,
        district=clinics.get_district(session, district),
        texts=texts,
        period=period,
        months=months_ahead(visitor.ctx, own),
        codes=CARRIER_CODES,
        errors=errors or {},
        typed=typed or {},
    )


@router.get("/districts/{code}/texts")
def district_texts(
    session: PageSessionDep,
    visitor: MemberDep,
    district: OwnDistrict,
    period: PeriodDep,
    after: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_]{1,32}$")] = None,
) -> HTMLResponse:
    """The district's texts (문자 발송): by day, the failed numbers, the switch, no-send days."""
    return texts_page(session, visitor, district, period, after=after)


def _reason(form: dict[str, str], field: str, required: bool) -> tuple[str, dict[str, str]]:
    """A reason typed in ``field``, its spaces tidied; an error for that field if missing."""
    reason = " ".join(form.get(field, "").split())
    if required and not reason:
        return reason, {field: "이유를 적어 주세요. 다른 담당자가 보고 알 수 있게 남깁니다."}
    if len(reason) > REASON_LIMIT:
        return reason, {field: f"이유는 {REASON_LIMIT}자까지 적을 수 있습니다."}
    if unsafe_character(reason):
        return reason, {field: "보이지 않는 제어 문자가 들어 있습니다. 글자만 적어 주세요."}
    return reason, {}


@router.post("/districts/{code}/texts/switch", response_model=None)
def switch_texts(
    session: PageSessionDep,
    visitor: MemberDep,
    district: OwnDistrict,
    form: CheckedFormDep,
    period: PeriodDep,
) -> HTMLResponse | RedirectResponse:
    """Pause the district's texts (with a reason), or send them again."""
    pausing = form.get("paused") == "yes"
    reason, errors = _reason(form, "reason", required=pausing)
    if errors:
        return texts_page(session, visitor, district, period, errors=errors, typed=form, status=422)
    messaging.set_messaging(session, visitor.ctx, district, paused=pausing, reason=reason)
    return redirect(f"/console/districts/{district}/texts")


def _day(form: dict[str, str], today: dt.date) -> tuple[dt.date | None, dict[str, str]]:
    try:
        day = dt.date.fromisoformat(form.get("day", "").strip())
    except ValueError:
        return None, {"day": "날짜를 달력에서 고르거나 2025-03-05처럼 적어 주세요."}
    if day < today or day > today + dt.timedelta(days=366):
        return None, {"day": "오늘부터 1년 안의 날을 골라 주세요."}
    return day, {}


@router.post("/districts/{code}/no-send-days", response_model=None)
def add_no_send_day(
    session: PageSessionDep,
    visitor: MemberDep,
    district: OwnDistrict,
    form: CheckedFormDep,
    period: PeriodDep,
) -> HTMLResponse | RedirectResponse:
    """Mark a day on which the district sends no texts (they go on the next sending day)."""
    day, errors = _day(form, visitor.ctx.today)
    reason, reason_errors = _reason(form, "day_reason", required=True)
    errors |= reason_errors
    if day is None or errors:
        return texts_page(session, visitor, district, period, errors=errors, typed=form, status=422)
    messaging.add_no_send_day(session, visitor.ctx, district, day, reason=reason)
    return redirect(f"/console/districts/{district}/texts")


@router.post("/districts/{code}/no-send-days/{day}/remove")
def remove_no_send_day(
    session: PageSessionDep,
    visitor: MemberDep,
    district: OwnDistrict,
    form: CheckedFormDep,
    day: dt.date,
) -> RedirectResponse:
    """Send on that day again."""
    messaging.remove_no_send_day(session, visitor.ctx, district, day)
    return redirect(f"/console/districts/{district}/texts")
