"""Reminders and recalls: a patient's texts, a district's switches, Twilio's status callback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from actions import messaging
from api import present
from api.authorise import ManagedDistrict, VisiblePatient, district_in_scope
from api.deps import ContextDep, NowDep, PageDep, SessionDep, SignedTwilioForm, TodayDep
from api.pagination import MESSAGES, decode, next_cursor
from api.schemas import (
    Day,
    MessageOut,
    MessageReport,
    MessagingState,
    MessagingSwitch,
    NoSendDayIn,
    NoSendDayOut,
    Page,
    problems,
)
from notifications import recalls, switches

router = APIRouter(prefix="/v1", tags=["messages"])


@router.get(
    "/patients/{patient_id}/messages", response_model=Page[MessageOut], responses=problems(404)
)
def patient_messages(
    patient: VisiblePatient, session: SessionDep, ctx: ContextDep, page: PageDep
) -> Page[MessageOut]:
    """The patient's reminders and recalls, newest first."""
    rows = messaging.show_patient_messages(
        session, ctx, patient, before=decode(page.cursor, MESSAGES), limit=page.limit + 1
    )
    return Page(
        items=[present.message(m) for m in rows[: page.limit]],
        next_cursor=next_cursor(rows, page.limit, lambda m: m.id),
    )


@router.get(
    "/districts/{code}/messaging", response_model=MessagingState, responses=problems(403, 404)
)
def messaging_state(district: ManagedDistrict, session: SessionDep) -> MessagingState:
    """Whether the district's texts are paused, and why."""
    return present.messaging_state(switches.messaging_state(session, district))


@router.put(
    "/districts/{code}/messaging", response_model=MessagingState, responses=problems(403, 404)
)
def set_messaging(
    district: ManagedDistrict, body: MessagingSwitch, session: SessionDep, ctx: ContextDep
) -> MessagingState:
    """Pause or resume the district's texts; paused, they wait in the outbox, none is lost."""
    row = messaging.set_messaging(session, ctx, district, **body.model_dump())
    return present.messaging_state(row)


@router.get(
    "/districts/{code}/no-send-days",
    response_model=Page[NoSendDayOut],
    responses=problems(403, 404),
)
def list_no_send_days(
    district: ManagedDistrict, session: SessionDep, today: TodayDep
) -> Page[NoSendDayOut]:
    """The district's own no-send days from today on."""
    rows = switches.no_send_days(session, district, since=today)
    return Page(items=[present.no_send_day(r) for r in rows])


@router.put(
    "/districts/{code}/no-send-days/{day}",
    response_model=NoSendDayOut,
    responses=problems(403, 404),
)
def add_no_send_day(
    district: ManagedDistrict, day: Day, body: NoSendDayIn, session: SessionDep, ctx: ContextDep
) -> NoSendDayOut:
    """Mark a day on which the district sends no texts (they go the next sending day)."""
    row = messaging.add_no_send_day(session, ctx, district, day, reason=body.reason)
    return present.no_send_day(row)


@router.delete(
    "/districts/{code}/no-send-days/{day}", status_code=204, responses=problems(403, 404)
)
def remove_no_send_day(
    district: ManagedDistrict, day: Day, session: SessionDep, ctx: ContextDep
) -> None:
    """Send on that day again."""
    messaging.remove_no_send_day(session, ctx, district, day)


@router.get("/reports/messages", response_model=MessageReport, responses=problems(403, 404))
def message_report(
    session: SessionDep,
    ctx: ContextDep,
    district: Annotated[str, Query(pattern=r"^[0-9]{5}$")],
    start: Annotated[Day, Query(description="first day, YYYY-MM-DD")],
    end: Annotated[Day, Query(description="last day, YYYY-MM-DD")],
) -> MessageReport:
    """Texts sent, delivered, failed and suppressed; patients overdue; who came back."""
    district = district_in_scope(session, ctx, district)
    found = recalls.district_message_report(
        session, district=district, start=start, end=end, today=ctx.today
    )
    return present.message_report(found, start, end)


@router.post("/webhooks/twilio/status", tags=["webhooks"], responses=problems(403))
def twilio_status(
    form: SignedTwilioForm, request: Request, session: SessionDep, now: NowDep
) -> JSONResponse:
    """Twilio's delivery report, signed with X-Twilio-Signature (checked against the
    service's public URL)."""
    error = form.get("ErrorCode")
    messaging.record_delivery_report(
        session,
        message_id=request.query_params.get("m"),
        sid=form.get("MessageSid", ""),
        status=form.get("MessageStatus", ""),
        error_code=int(error) if error and error.isascii() and error.isdigit() else None,
        now=now,
    )
    return JSONResponse({"status": "ok"})
