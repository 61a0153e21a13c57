"""Reminders and recalls: a patient's texts, a district's switches, Twilio's status callback."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api import policy
from api.deps import AuditDep, NowDep, PageDep, PrincipalDep, SessionDep, TodayDep
from api.errors import Forbidden, problem
from api.pagination import decode, next_cursor
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
from ledger.models import Message
from ledger.services import registry
from ledger.services.access import Principal
from notifications import outbox, recalls, switches
from notifications.twilio import valid_signature

router = APIRouter(prefix="/v1", tags=["messages"])

DistrictPath = Annotated[str, Path(pattern=r"^\d{5}$")]


def _shown(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        kind=message.kind,  # type: ignore[arg-type]
        scheduled_for=message.not_before,
        status="queued" if message.status == "sending" else message.status,  # type: ignore[arg-type]
        body=message.body,
        due_date=message.due_date,
        sent_at=message.sent_at,
        reason=message.closed_reason,
    )


def _own_district(principal: Principal, district: str) -> None:
    policy.require_role(principal, "city", "health_center")
    if not policy.sees_district(principal, district):
        raise Forbidden("a health centre manages its own district's texts")


@router.get(
    "/patients/{patient_id}/messages", response_model=Page[MessageOut], responses=problems(404)
)
def patient_messages(
    patient_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    audit: AuditDep,
) -> Page[MessageOut]:
    """The patient's reminders and recalls, newest first."""
    patient = registry.get_patient(session, patient_id)
    policy.check_patient(principal, patient)
    rows = outbox.list_messages(
        session, patient_id, before=decode(page.cursor), limit=page.limit + 1
    )
    audit("patient.messages", f"patients/{patient_id}/messages", patient_id=patient_id)
    return Page(
        items=[_shown(m) for m in rows[: page.limit]],
        next_cursor=next_cursor(rows, page.limit, lambda m: m.id),
    )


def _state(session: SessionDep, district: str) -> MessagingState:
    row = switches.messaging_state(session, district)
    return MessagingState(
        district=district,
        paused=row.paused,
        reason=row.reason,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
    )


@router.get(
    "/districts/{code}/messaging", response_model=MessagingState, responses=problems(403, 404)
)
def messaging_state(
    code: DistrictPath, session: SessionDep, principal: PrincipalDep
) -> MessagingState:
    """Whether the district's texts are paused, and why."""
    _own_district(principal, code)
    registry.get_district(session, code)
    return _state(session, code)


@router.put(
    "/districts/{code}/messaging", response_model=MessagingState, responses=problems(403, 404)
)
def set_messaging(
    code: DistrictPath,
    body: MessagingSwitch,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    now: NowDep,
) -> MessagingState:
    """Pause or resume the district's texts; paused, they wait in the outbox, none is lost."""
    _own_district(principal, code)
    registry.get_district(session, code)
    switches.set_paused(
        session, code, paused=body.paused, reason=body.reason, by=principal.label, now=now
    )
    audit("district.messaging", f"districts/{code}/messaging")
    return _state(session, code)


@router.get(
    "/districts/{code}/no-send-days",
    response_model=Page[NoSendDayOut],
    responses=problems(403, 404),
)
def list_no_send_days(
    code: DistrictPath, session: SessionDep, principal: PrincipalDep, today: TodayDep
) -> Page[NoSendDayOut]:
    """The district's own no-send days from today on."""
    _own_district(principal, code)
    registry.get_district(session, code)
    rows = switches.no_send_days(session, code, since=today)
    return Page(items=[NoSendDayOut(district=r.district, day=r.day, reason=r.reason) for r in rows])


@router.put(
    "/districts/{code}/no-send-days/{day}",
    response_model=NoSendDayOut,
    responses=problems(403, 404),
)
def add_no_send_day(
    code: DistrictPath,
    day: Day,
    body: NoSendDayIn,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> NoSendDayOut:
    """Mark a day on which the district sends no texts (they go the next sending day)."""
    _own_district(principal, code)
    registry.get_district(session, code)
    row = switches.set_no_send_day(session, code, day, reason=body.reason)
    audit("district.no_send_day", f"districts/{code}/no-send-days/{day}")
    return NoSendDayOut(district=row.district, day=row.day, reason=row.reason)


@router.delete(
    "/districts/{code}/no-send-days/{day}", status_code=204, responses=problems(403, 404)
)
def remove_no_send_day(
    code: DistrictPath,
    day: Day,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> None:
    """Send on that day again."""
    _own_district(principal, code)
    registry.get_district(session, code)
    switches.remove_no_send_day(session, code, day)
    audit("district.no_send_day.remove", f"districts/{code}/no-send-days/{day}")


@router.get("/reports/messages", response_model=MessageReport, responses=problems(403, 404))
def message_report(
    session: SessionDep,
    principal: PrincipalDep,
    today: TodayDep,
    district: Annotated[str, Query(pattern=r"^\d{5}$")],
    start: Annotated[Day, Query(description="first day, YYYY-MM-DD")],
    end: Annotated[Day, Query(description="last day, YYYY-MM-DD")],
) -> MessageReport:
    """Texts sent, delivered, failed and suppressed; patients overdue; who came back."""
    _own_district(principal, district)
    registry.get_district(session, district)
    found = recalls.district_message_report(
        session, district=district, start=start, end=end, today=today
    )
    return MessageReport(start=start, end=end, **vars(found))


@router.post(
    "/webhooks/twilio/status",
    tags=["webhooks"],
    responses=problems(403),
)
async def twilio_status(request: Request, now: NowDep) -> JSONResponse:
    """Twilio's delivery report, signed with X-Twilio-Signature (checked against the
    service's public URL)."""
    settings = request.app.state.settings
    # Twilio posts a form; read it without a multipart parser (it is never multipart).
    form = dict(
        parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    )
    token = settings.twilio_auth_token
    query = f"?{request.url.query}" if request.url.query else ""
    url = f"{request.app.state.public_url.rstrip('/')}{request.url.path}{query}"
    signature = request.headers.get("x-twilio-signature", "")
    if (
        token is None
        or not signature
        or not valid_signature(url, form, signature, token.get_secret_value())
    ):
        return problem(
            403, "bad_signature", "Forbidden", "the X-Twilio-Signature does not match this request"
        )
    error = form.get("ErrorCode")
    with request.app.state.sessions() as session:
        outbox.record_status(
            session,
            message_id=request.query_params.get("m"),
            sid=form.get("MessageSid", ""),
            status=form.get("MessageStatus", ""),
            error_code=int(error) if error and error.isdigit() else None,
            now=now,
        )
        session.commit()
    return JSONResponse({"status": "ok"})
