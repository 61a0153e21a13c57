"""Queueing and cancelling texts, and listing a patient's: what the edges do to the outbox.

Every function here runs inside the caller's transaction: it takes a ``Session``, writes
through it (execute, flush), never commits. A text is queued or cancelled together with the
visit, the consent change or the recall scan that caused it, so a rolled-back change leaves
no text behind; the worker (``dispatcher``) sends only what has been committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from ledger.ids import new_id
from ledger.models import Clinic, Message, NoSendDay, Patient
from ledger.repository.missing import ignoring_existing, insert_missing
from ledger.services.reading import balance, balances_of
from ledger.services.recall_due import refresh_recall_due
from ledger.vocabulary import MessageKind, MessageStatus, PatientStatus
from notifications.calendar import SendingCalendar
from notifications.templates import render

__all__ = [
    "Owed",
    "cancel_for_patient",
    "close_failed",
    "forget_texts",
    "list_messages",
    "no_send_days",
    "on_visit",
    "queue_recall",
    "queue_recalls",
    "queue_reminder",
]


def no_send_days(session: Session, district: str) -> set[dt.date]:
    return set(
        session.execute(select(NoSendDay.day).where(NoSendDay.district == district)).scalars()
    )


def _upsert(session: Session, **row: Any) -> Message:
    """The message for (patient, kind, due date): queued if new, revived if cancelled, else
    as it is. Queued twice at once (two recall scans), it is one message."""
    inserted = insert_missing(session, Message, id=new_id("msg"), attempts=0, **row)
    message = session.execute(
        select(Message)
        .where(
            Message.patient_id == row["patient_id"],
            Message.kind == row["kind"],
            Message.due_date == row["due_date"],
        )
        .execution_options(populate_existing=True)
    ).scalar_one()
    if not inserted and message.status == MessageStatus.CANCELLED:
        for name, value in row.items():
            setattr(message, name, value)
        session.flush()
    return message


def _preview(
    session: Session, patient: Patient, clinic_id: str | None, kind: str, due: dt.date
) -> str:
    """The text as it would go now: the body a queued text shows. It is rendered again when
    it is sent (``claim``), since the balance and the names may change meanwhile."""
    clinic = session.get(Clinic, clinic_id or patient.clinic_id)
    return render(
        kind,
        name=patient.name or "",
        clinic=clinic.name if clinic is not None else "",
        due=due,
        balance=balance(session, patient.account_id),
    )


def queue_reminder(
    session: Session,
    *,
    patient: Patient,
    clinic_id: str,
    follow_up: dt.date,
    now: dt.datetime,
    calendar: SendingCalendar,
) -> Message | None:
    """Queue the reminder of a booked follow-up for the last sending day before it.

    Recorded too late for that day's window, it is kept as ``suppressed``: never sent stale.
    """
    if not patient.sms_consent or patient.status != PatientStatus.ACTIVE:
        return None
    day = calendar.last_sending_day_before(follow_up, no_send_days(session, patient.district))
    late = now >= calendar.closes(day)
    return _upsert(
        session,
        patient_id=patient.id,
        district=patient.district,
        kind=MessageKind.REMINDER,
        due_date=follow_up,
        sequence=0,
        clinic_id=clinic_id,
        body=_preview(session, patient, clinic_id, MessageKind.REMINDER, follow_up),
        not_before=max(calendar.opens(day), now),
        status=MessageStatus.SUPPRESSED if late else MessageStatus.QUEUED,
        closed_reason="recorded after its sending day" if late else None,
        created_at=now,
        updated_at=now,
    )


def queue_recall(
    session: Session,
    *,
    patient: Patient,
    clinic_id: str | None,
    due: dt.date,
    sequence: int,
    now: dt.datetime,
    calendar: SendingCalendar,
) -> Message | None:
    """Queue a recall for an overdue patient, for the next sending window from ``now``."""
    owed = [Owed(patient, clinic_id, due, sequence)]
    if not queue_recalls(session, owed, now=now, calendar=calendar):
        return None
    return session.execute(
        select(Message).where(
            Message.patient_id == patient.id,
            Message.kind == MessageKind.RECALL,
            Message.due_date == due,
        )
    ).scalar_one()


@dataclass(frozen=True)
class Owed:
    """A recall a patient is owed: its due date and its place in the series (1 to 3)."""

    patient: Patient
    clinic_id: str | None
    due: dt.date
    sequence: int


def queue_recalls(
    session: Session, owed: Sequence[Owed], *, now: dt.datetime, calendar: SendingCalendar
) -> int:
    """Queue the recalls owed (to consenting, active patients), set-based: a few statements
    for the lot, not a few for each. Each is one message per patient and due date: queued if
    new, revived if cancelled, else left as it is (two scans at once queue it once). The
    patients' next recall dates move on with them. How many patients have their recall.
    """
    owed = [o for o in owed if o.patient.sms_consent and o.patient.status == PatientStatus.ACTIVE]
    if not owed:
        return 0
    closed = {d: no_send_days(session, d) for d in sorted({o.patient.district for o in owed})}
    clinic_ids = {o.clinic_id or o.patient.clinic_id for o in owed}
    found = session.execute(select(Clinic.id, Clinic.name).where(Clinic.id.in_(clinic_ids)))
    clinics = {clinic_id: name for clinic_id, name in found}
    balances = balances_of(session, [o.patient.account_id for o in owed])
    rows = [
        {
            "patient_id": o.patient.id,
            "district": o.patient.district,
            "kind": MessageKind.RECALL,
            "due_date": o.due,
            "sequence": o.sequence,
            "clinic_id": o.clinic_id,
            "body": render(
                MessageKind.RECALL,
                name=o.patient.name or "",
                clinic=clinics.get(o.clinic_id or o.patient.clinic_id, ""),
                due=o.due,
                balance=balances[o.patient.account_id],
            ),
            "not_before": calendar.next_opening(now, closed[o.patient.district]),
            "status": MessageStatus.QUEUED,
            "closed_reason": None,
            "created_at": now,
            "updated_at": now,
        }
        for o in owed
    ]
    session.flush()
    session.execute(
        ignoring_existing(session, Message),
        [{"id": new_id("msg"), "attempts": 0, **r} for r in rows],
    )
    # Those cancelled before (a visit, consent withdrawn) are queued again, as they are now.
    cancelled = session.execute(
        select(Message.id, Message.patient_id, Message.due_date).where(
            Message.patient_id.in_([o.patient.id for o in owed]),
            Message.kind == MessageKind.RECALL,
            Message.status == MessageStatus.CANCELLED,
        )
    ).all()
    wanted = {(r["patient_id"], r["due_date"]): r for r in rows}
    revived = [
        {"m_id": mid, **{f"v_{k}": v for k, v in wanted[(pid, due)].items()}}
        for mid, pid, due in cancelled
        if (pid, due) in wanted
    ]
    if revived:
        table = cast(Table, Message.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("m_id"))
            .values({k: bindparam(f"v_{k}") for k in rows[0]}),
            revived,
        )
    refresh_recall_due(session, [o.patient.id for o in owed])
    return len(owed)


def cancel_for_patient(
    session: Session,
    patient_id: str,
    *,
    reason: str,
    now: dt.datetime,
    kinds: Iterable[str] = (MessageKind.REMINDER, MessageKind.RECALL),
) -> int:
    """Cancel the patient's queued texts (consent withdrawn, the patient left, came back)."""
    wanted = list(kinds)
    result = session.execute(
        update(Message)
        .where(
            Message.patient_id == patient_id,
            Message.status == MessageStatus.QUEUED,
            Message.kind.in_(wanted),
        )
        .values(status=MessageStatus.CANCELLED, closed_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    cancelled = int(getattr(result, "rowcount", 0) or 0)
    if cancelled and MessageKind.RECALL in wanted:
        refresh_recall_due(session, [patient_id])  # a cancelled recall no longer counts
    return cancelled


def close_failed(session: Session, patient_id: str, *, reason: str) -> int:
    """Mark the patient's failed texts as dealt with (their number was corrected): they
    leave the health centre's list of numbers to correct. Their status stays ``failed``."""
    result = session.execute(
        update(Message)
        .where(
            Message.patient_id == patient_id,
            Message.status == MessageStatus.FAILED,
            Message.closed_reason.is_(None),
        )
        .values(closed_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def forget_texts(session: Session, patient_id: str, *, now: dt.datetime) -> int:
    """An erased patient's texts: none goes out any more and none keeps its words (which
    greet the patient by name); how many texts lost their words.

    A text caught mid-send is settled as cancelled: whether it left can no longer be asked
    (the channel is asked by phone number, which is gone), and its delivery report, if one
    comes, finds it settled and changes nothing.
    """
    for status, reason in (
        (MessageStatus.QUEUED, "the patient's data was erased"),
        (MessageStatus.SENDING, "the patient's data was erased mid-send; it may have gone"),
    ):
        session.execute(
            update(Message)
            .where(Message.patient_id == patient_id, Message.status == status)
            .values(
                status=MessageStatus.CANCELLED,
                closed_reason=reason,
                sending_since=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    refresh_recall_due(session, [patient_id])
    result = session.execute(
        update(Message)
        .where(Message.patient_id == patient_id, Message.body.is_not(None))
        .values(body=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def on_visit(
    session: Session,
    *,
    patient: Patient,
    clinic_id: str,
    next_visit_on: dt.date | None,
    now: dt.datetime,
    calendar: SendingCalendar,
) -> Message | None:
    """A recorded visit cancels what is queued for the patient and books the next reminder."""
    cancel_for_patient(session, patient.id, reason="a visit was recorded first", now=now)
    if next_visit_on is None:
        return None
    return queue_reminder(
        session,
        patient=patient,
        clinic_id=clinic_id,
        follow_up=next_visit_on,
        now=now,
        calendar=calendar,
    )


def list_messages(
    session: Session, patient_id: str, *, before: str | None, limit: int
) -> list[Message]:
    """A patient's texts, newest first."""
    query = (
        select(Message)
        .where(Message.patient_id == patient_id)
        .order_by(Message.not_before.desc(), Message.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Message.id < before)
    return list(session.execute(query).scalars())
