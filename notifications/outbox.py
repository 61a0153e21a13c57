"""The outbox: texts are rows first and leave only after commit, so a rolled-back visit never
texts anyone, and every text is sent once.

A row per (patient, kind, due date) makes queueing idempotent. ``dispatch`` marks a batch
``sending`` and commits *before* handing it to the channel; afterwards it records what the
channel said. A text found ``sending`` later (the process died, or the channel timed out) is
reconciled against the channel's own record (``reconcile``) before anything is retried: it
is marked sent if the channel has it, queued again if not. Permanent refusals (an invalid or
landline number: Twilio 21211, 21614) fail at once; transient ones (429, 5xx) back off.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import SEOUL
from ledger.db import run_in_transaction
from ledger.ids import new_id
from ledger.models import Balance, Clinic, DistrictMessaging, Message, NoSendDay, Patient
from notifications.calendar import SendingCalendar
from notifications.channels import (
    Channel,
    Outgoing,
    PermanentFailure,
    Sent,
    TransientFailure,
    UncertainFailure,
)
from notifications.templates import render_recall, render_reminder

__all__ = [
    "Dispatched",
    "Pacer",
    "cancel_for_patient",
    "dispatch",
    "list_messages",
    "on_visit",
    "queue_recall",
    "queue_reminder",
    "reconcile",
    "record_status",
]

log = logging.getLogger("notifications.outbox")

MAX_ATTEMPTS = 5
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)
RECONCILE_AFTER = dt.timedelta(minutes=2)
OPEN = ("queued", "sending")
FINAL_ORDER = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "failed": 3}

# When the i-th text of a batch may go: a real pacer sleeps until then, a virtual one only says.
Pacer = Callable[[int], dt.datetime]


def real_pacer(start: dt.datetime, rate: float) -> Pacer:
    def pace(i: int) -> dt.datetime:
        moment = start + dt.timedelta(seconds=i / rate)
        delay = (moment - dt.datetime.now(SEOUL)).total_seconds()
        if delay > 0:
            time.sleep(delay)
        return moment

    return pace


def virtual_pacer(start: dt.datetime, rate: float) -> Pacer:
    return lambda i: start + dt.timedelta(seconds=i / rate)


def no_send_days(session: Session, district: str) -> set[dt.date]:
    return set(
        session.execute(select(NoSendDay.day).where(NoSendDay.district == district)).scalars()
    )


def _upsert(session: Session, **row: object) -> Message | None:
    """The message for (patient, kind, due date): revived if cancelled, else as it is."""
    found = session.execute(
        select(Message).where(
            Message.patient_id == row["patient_id"],
            Message.kind == row["kind"],
            Message.due_date == row["due_date"],
        )
    ).scalar()
    if found is None:
        message = Message(id=new_id("msg"), attempts=0, **row)
        session.add(message)
        session.flush()
        return message
    if found.status == "cancelled":
        for name, value in row.items():
            setattr(found, name, value)
        session.flush()
    return found


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
    if not patient.sms_consent or patient.status != "active":
        return None
    day = calendar.last_sending_day_before(follow_up, no_send_days(session, patient.district))
    late = now >= calendar.closes(day)
    return _upsert(
        session,
        patient_id=patient.id,
        district=patient.district,
        kind="reminder",
        due_date=follow_up,
        sequence=0,
        clinic_id=clinic_id,
        not_before=max(calendar.opens(day), now),
        status="suppressed" if late else "queued",
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
    if not patient.sms_consent or patient.status != "active":
        return None
    return _upsert(
        session,
        patient_id=patient.id,
        district=patient.district,
        kind="recall",
        due_date=due,
        sequence=sequence,
        clinic_id=clinic_id,
        not_before=calendar.next_opening(now, no_send_days(session, patient.district)),
        status="queued",
        closed_reason=None,
        created_at=now,
        updated_at=now,
    )


def cancel_for_patient(
    session: Session,
    patient_id: str,
    *,
    reason: str,
    now: dt.datetime,
    kinds: Iterable[str] = ("reminder", "recall"),
) -> int:
    """Cancel the patient's queued texts (consent withdrawn, the patient left, came back)."""
    result = session.execute(
        update(Message)
        .where(
            Message.patient_id == patient_id,
            Message.status == "queued",
            Message.kind.in_(list(kinds)),
        )
        .values(status="cancelled", closed_reason=reason, updated_at=now)
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


@dataclass
class Dispatched:
    """What one dispatch did, by outcome."""

    outcomes: Tally[str] = field(default_factory=Tally)
    sends: list[tuple[str, dt.datetime]] = field(default_factory=list)


@dataclass(frozen=True)
class _Claimed:
    message_id: str
    outgoing: Outgoing
    attempts: int
    not_before: dt.datetime


def dispatch(
    sessions: sessionmaker[Session],
    channel: Channel,
    *,
    now: dt.datetime,
    calendar: SendingCalendar,
    rate: float,
    seconds: float = 60.0,
    pacer: Pacer | None = None,
    status_callback: str | None = None,
) -> Dispatched:
    """Send what is due, at most ``rate`` texts a second for ``seconds``; the rest waits."""
    done = Dispatched()
    capacity = max(int(rate * seconds), 1)
    claimed = run_in_transaction(
        sessions,
        lambda s: _claim(
            s,
            now=now,
            calendar=calendar,
            limit=capacity,
            done=done,
            status_callback=status_callback,
        ),
    )
    pace = pacer or real_pacer(now, rate)
    results: list[tuple[_Claimed, str, dt.datetime, Sent | Exception]] = []
    for i, item in enumerate(claimed):
        moment = pace(i)
        try:
            outcome: Sent | Exception = channel.send(item.outgoing)
        except (PermanentFailure, TransientFailure, UncertainFailure) as error:
            outcome = error
        results.append((item, type(outcome).__name__, moment, outcome))
        done.sends.append((item.message_id, moment))
    if results:
        run_in_transaction(sessions, lambda s: _record(s, results, done=done))
    return done


MESSAGES = cast(Table, Message.__table__)
CLAIM_COLUMNS = ("status", "not_before", "body", "sending_since", "attempts", "closed_reason")
RECORD_COLUMNS = (
    "status",
    "provider_sid",
    "sender",
    "sent_at",
    "sending_since",
    "error_code",
    "last_error",
    "not_before",
)


def _update_each(session: Session, columns: tuple[str, ...], changes: list[dict[str, Any]]) -> None:
    """One executemany UPDATE of ``columns`` for every message in ``changes`` (by ``m_id``)."""
    if not changes:
        return
    statement = (
        update(MESSAGES)
        .where(MESSAGES.c.id == bindparam("m_id"))
        .values({name: bindparam(f"v_{name}") for name in (*columns, "updated_at")})
    )
    session.execute(statement, changes)


def _claim(
    session: Session,
    *,
    now: dt.datetime,
    calendar: SendingCalendar,
    limit: int,
    done: Dispatched,
    status_callback: str | None,
) -> list[_Claimed]:
    paused = set(
        session.execute(
            select(DistrictMessaging.district).where(DistrictMessaging.paused.is_(True))
        ).scalars()
    )
    query = (
        select(
            MESSAGES.c.id,
            MESSAGES.c.kind,
            MESSAGES.c.district,
            MESSAGES.c.due_date,
            MESSAGES.c.clinic_id,
            MESSAGES.c.attempts,
            MESSAGES.c.not_before,
            Patient.name,
            Patient.phone,
            Patient.sms_consent,
            Patient.status.label("patient_status"),
            Patient.account_id,
            Patient.clinic_id.label("home_clinic"),
        )
        .join(Patient, Patient.id == MESSAGES.c.patient_id)
        .where(MESSAGES.c.status == "queued", MESSAGES.c.not_before <= now)
        .order_by(MESSAGES.c.not_before, MESSAGES.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=MESSAGES)
    )
    if paused:
        query = query.where(MESSAGES.c.district.not_in(paused))
    rows = session.execute(query).all()
    balances = _balances(session, [row.account_id for row in rows])
    clinic_names = _clinic_names(session, {row.clinic_id or row.home_clinic for row in rows})
    closed_days = {d: no_send_days(session, d) for d in {row.district for row in rows}}
    today = now.astimezone(SEOUL).date()
    claimed: list[_Claimed] = []
    changes: list[dict[str, Any]] = []

    def change(row: Any, **values: Any) -> None:
        current = {
            "status": "queued",
            "not_before": row.not_before,
            "body": None,
            "sending_since": None,
            "attempts": row.attempts,
            "closed_reason": None,
        }
        changes.append(
            {
                "m_id": row.id,
                "v_updated_at": now,
                **{f"v_{k}": v for k, v in {**current, **values}.items()},
            }
        )

    for row in rows:
        days = closed_days[row.district]
        if not calendar.open_now(now, days):
            change(row, not_before=calendar.next_opening(now, days))
            done.outcomes["waiting"] += 1
        elif not row.sms_consent or row.patient_status != "active":
            reason = "no consent" if not row.sms_consent else "left"
            change(row, status="cancelled", closed_reason=reason)
            done.outcomes["cancelled"] += 1
        elif row.kind == "reminder" and row.due_date < today:
            change(row, status="suppressed", closed_reason="its follow-up date has passed")
            done.outcomes["suppressed"] += 1
        else:
            body = _render(
                row.kind,
                row.name,
                clinic_names.get(row.clinic_id or row.home_clinic, ""),
                row.due_date,
                balances.get(row.account_id, 0),
            )
            change(row, status="sending", body=body, sending_since=now, attempts=row.attempts + 1)
            redacted = body.replace(row.name, "○○○")
            claimed.append(
                _Claimed(
                    row.id,
                    Outgoing(
                        row.id,
                        row.phone,
                        body,
                        redacted,
                        f"{status_callback}?m={row.id}" if status_callback else None,
                    ),
                    row.attempts + 1,
                    row.not_before,
                )
            )
    _update_each(session, CLAIM_COLUMNS, changes)
    return claimed


def _render(kind: str, name: str, clinic: str, due: dt.date, held: int) -> str:
    if kind == "reminder":
        return render_reminder(name=name, clinic=clinic, follow_up=due, balance=held)
    return render_recall(name=name, clinic=clinic, balance=held)


def _balances(session: Session, account_ids: list[int]) -> dict[int, int]:
    """Patients' balances (credit-normal), for a whole batch in one query."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(Balance.account_id, func.sum(Balance.balance))
        .where(Balance.account_id.in_(account_ids))
        .group_by(Balance.account_id)
    ).all()
    return {account: -int(raw) for account, raw in rows}


def _clinic_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Clinic.id, Clinic.name).where(Clinic.id.in_(ids))).all())


def _record(
    session: Session,
    results: list[tuple[_Claimed, str, dt.datetime, Sent | Exception]],
    *,
    done: Dispatched,
) -> None:
    """Write down what the channel said for each text of the batch, in one UPDATE."""
    current = dict(
        session.execute(
            select(MESSAGES.c.id, MESSAGES.c.status).where(
                MESSAGES.c.id.in_([item.message_id for item, *_ in results])
            )
        ).all()
    )
    changes: list[dict[str, Any]] = []
    for item, _name, moment, outcome in results:
        now_status = current.get(item.message_id)
        # A delivery report can arrive before the batch is written down: it already moved
        # the text on, so only its sid and time are added here.
        early_report = now_status in ("delivered", "failed") and isinstance(outcome, Sent)
        if now_status != "sending" and not early_report:
            continue
        values: dict[str, Any] = {
            "status": "sending",
            "provider_sid": None,
            "sender": None,
            "sent_at": None,
            "sending_since": None,
            "error_code": None,
            "last_error": None,
            "not_before": item.not_before,
        }
        if isinstance(outcome, Sent):
            values |= {
                "status": now_status if early_report else "sent",
                "provider_sid": outcome.sid,
                "sender": outcome.sender,
                "sent_at": moment,
            }
            done.outcomes["sent"] += 1
        elif isinstance(outcome, PermanentFailure):
            values |= {
                "status": "failed",
                "error_code": outcome.code,
                "last_error": str(outcome)[:200],
            }
            done.outcomes["failed"] += 1
            log.info("notifications.sms.failed", extra={"error": outcome.code})
        elif isinstance(outcome, TransientFailure):
            values |= {"error_code": outcome.code, "last_error": str(outcome)[:200]}
            if item.attempts >= MAX_ATTEMPTS:
                values["status"] = "failed"
                done.outcomes["failed"] += 1
            else:
                values["status"] = "queued"
                values["not_before"] = moment + BACKOFF[min(item.attempts, len(BACKOFF)) - 1]
                done.outcomes["retry"] += 1
        else:  # uncertain: left ``sending`` for reconcile to settle
            values |= {"sending_since": moment, "last_error": str(outcome)[:200]}
            done.outcomes["uncertain"] += 1
        changes.append(
            {
                "m_id": item.message_id,
                "v_updated_at": moment,
                **{f"v_{k}": v for k, v in values.items()},
            }
        )
    _update_each(session, RECORD_COLUMNS, changes)


def reconcile(
    sessions: sessionmaker[Session],
    channel: Channel,
    *,
    now: dt.datetime,
    older_than: dt.timedelta = RECONCILE_AFTER,
) -> Tally[str]:
    """Settle texts left ``sending``: sent if the channel has them, queued again if not."""
    tally: Tally[str] = Tally()

    def settle(session: Session) -> None:
        stuck = session.execute(
            select(Message, Patient)
            .join(Patient, Patient.id == Message.patient_id)
            .where(Message.status == "sending", Message.sending_since <= now - older_than)
            .with_for_update(skip_locked=True, of=Message)
        ).all()
        for message, patient in stuck:
            since = (message.sending_since or now) - dt.timedelta(minutes=5)
            try:
                found = channel.find(to=patient.phone, body=message.body or "", since=since)
            except TransientFailure:  # the channel cannot say yet: ask again next time
                tally["unknown"] += 1
                continue
            if found is not None:
                message.status, message.provider_sid, message.sender = (
                    "sent",
                    found.sid,
                    found.sender,
                )
                message.sent_at = message.sending_since
                tally["sent"] += 1
            else:
                message.status = "queued"
                tally["requeued"] += 1
            message.sending_since, message.updated_at = None, now

    run_in_transaction(sessions, settle)
    return tally


def record_status(
    session: Session,
    *,
    sid: str,
    status: str,
    error_code: int | None,
    now: dt.datetime,
    message_id: str | None = None,
) -> Message | None:
    """A delivery report: delivered, or failed/undelivered with the carrier's error code.

    The report names our message id (in its callback URL) when it can: it may arrive before
    the channel's sid is written down.
    """
    message = session.get(Message, message_id) if message_id else None
    if message is None:
        message = session.execute(select(Message).where(Message.provider_sid == sid)).scalar()
    if message is None:
        return None
    if message.provider_sid is None and sid:
        message.provider_sid = sid
    mapped = {
        "delivered": "delivered",
        "failed": "failed",
        "undelivered": "failed",
        "sent": "sent",
    }.get(status)
    if mapped is None or FINAL_ORDER.get(mapped, 0) < FINAL_ORDER.get(message.status, 0):
        return message
    message.status, message.updated_at = mapped, now
    if mapped == "delivered":
        message.delivered_at = now
    if mapped == "failed":
        message.error_code = error_code
    session.flush()
    return message


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
