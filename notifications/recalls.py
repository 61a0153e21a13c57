"""Recalls for patients overdue for follow-up, and the messaging reports.

A patient is overdue 3 days after a booked follow-up they missed, or 35 days after their
last visit (or enrolment) when nothing was booked. They are recalled then, and at most twice
more, 14 days apart; then not again until they next visit. A patient with no visit for 365
days is lost to follow-up: counted in reports, no longer recalled.

Who is owed a recall today is selected in one statement, set-based, by index: each patient's
next recall date is kept on their row (``patients.recall_due_on``, kept by
``ledger.services.recall_due`` with every write that changes it), and the scan reads only the
range of ``ix_patients_recall_due`` due today, not every patient. On that range each rule is a
comparison of a stored date with a bound one, and each patient's last visit and recalls are
read from an index (``ix_visits_patient_day``, ``ix_messages_patient``), so the scan reads
no patient's history into Python. Only the few found due are worked out here.

One bad row does not stop the city. A follow-up stored far outside the calendar (before the
API bounded dates) is only compared in SQL, never added to, so it is simply not missed yet;
should a row found due still hold dates that cannot be worked with, it is logged by id and
skipped, in the recall scan and the message report alike, and the others are served.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    and_,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from ledger.clock import SEOUL
from ledger.models import District, Message, Patient, Visit
from ledger.services.recall_due import (
    LOST_AFTER,
    MAX_RECALLS,
    MISSED_GRACE,
    RECALL_INTERVAL,
    UNBOOKED_GAP,
    Standing,
    due_between,
    next_due,
    standing_columns,
)
from ledger.vocabulary import MessageKind, MessageStatus, PatientStatus
from notifications.calendar import SendingCalendar
from notifications.outbox import Owed, queue_recalls

__all__ = [
    "LOST_AFTER",
    "MAX_RECALLS",
    "MISSED_GRACE",
    "RECALL_INTERVAL",
    "UNBOOKED_GAP",
    "Overdue",
    "RecallScan",
    "district_message_report",
    "overdue_patients",
    "scan_recalls",
]

log = logging.getLogger("notifications.recalls")

# What a row with impossible dates raises while its dates are worked out, before anything of
# it is written (so nothing needs taking back); any other error stops the run as before.
BAD_ROW = (ArithmeticError, ValueError)

CAME_BACK_WITHIN = dt.timedelta(days=15)
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Overdue:
    patient: Patient
    last_visit: dt.date | None
    due: dt.date | None  # the next recall's due date; None when no more are owed
    sequence: int
    lost: bool


def _standing_query(
    *, today: dt.date, district: str | None = None, due_only: bool
) -> Select[Patient, Any, Any, Any, Any, Any]:
    """Active patients of participating districts who are lost or overdue today, with their
    standing (each figure a correlated look-up on a covering index).

    With ``due_only``, only the consenting patients owed a recall today, read by their kept
    next recall date (``patients.recall_due_on``, ledger.services.recall_due): the range of
    ``ix_patients_recall_due`` that falls due within the last year and by today, in that
    index's order. The rules are applied on top (every rule a comparison of a stored date
    with a bound one, the same on both engines), so a kept date is only ever where to look.
    """
    cols = standing_columns()
    base, booked, recalls = cols.base, cols.booked, cols.recalls
    lost = base < today - LOST_AFTER
    overdue = and_(
        base >= today - LOST_AFTER,
        or_(
            booked <= today - MISSED_GRACE,
            and_(booked.is_(None), base <= today - UNBOOKED_GAP),
        ),
    )
    # A correlated test, not an IN list: SQLite would read the district index for an IN list
    # and sort the whole remainder by id for each chunk, rather than walk the patients in id
    # order and stop once a chunk is full.
    participating = (
        select(District.code)
        .where(District.code == Patient.district, District.participating.is_(True))
        .correlate(Patient)
        .exists()
    )
    query = select(Patient, cols.last, booked, recalls, cols.latest_due, cols.latest_queued).where(
        Patient.status == PatientStatus.ACTIVE, participating
    )
    if district is not None:
        query = query.where(Patient.district == district)
    if not due_only:
        return query.where(or_(lost, overdue)).order_by(Patient.id)
    # 14 days after the previous recall fell due and went out, whichever came later.
    went_out_by = dt.datetime.combine(today - RECALL_INTERVAL + ONE_DAY, dt.time(), SEOUL)
    return query.where(
        due_between(today - LOST_AFTER, today),
        Patient.sms_consent.is_(True),
        overdue,
        or_(
            recalls == 0,
            and_(
                recalls < MAX_RECALLS,
                cols.latest_due <= today - RECALL_INTERVAL,
                cols.latest_queued < went_out_by,
            ),
        ),
    ).order_by(Patient.recall_due_on, Patient.id)


def _standings(
    session: Session, query: Select[Patient, Any, Any, Any, Any, Any]
) -> Iterator[tuple[Patient, Standing]]:
    for patient, last, booked, recalls, latest_due, latest_queued in session.execute(query):
        yield patient, Standing(last, booked, int(recalls), latest_due, latest_queued)


def overdue_patients(
    session: Session, *, today: dt.date, district: str | None = None
) -> Iterator[Overdue]:
    """Every active patient of a participating district who is overdue or lost today, with
    the recall they are owed, if any."""
    query = _standing_query(today=today, district=district, due_only=False)
    for patient, standing in _standings(session, query):
        try:
            yield _overdue(patient, standing, today)
        except BAD_ROW as error:
            _skipped(patient, error)


def _overdue(patient: Patient, standing: Standing, today: dt.date) -> Overdue:
    """The patient's standing today, once the query has found them overdue or lost."""
    last = standing.last
    base = last or patient.enrolled_on
    if today - base > LOST_AFTER:
        return Overdue(patient, last, None, 0, lost=True)
    due = next_due(standing, patient.enrolled_on)
    if due is None:
        return Overdue(patient, last, None, standing.recalls, lost=False)
    return Overdue(patient, last, due if due <= today else None, standing.recalls + 1, lost=False)


def _skipped(patient: Patient, error: BaseException) -> None:
    """Log a patient left out because of their row: the id and the error's type, no text."""
    log.error(
        "notifications.recalls.row_skipped",
        extra={"error": f"{type(error).__name__} patient={patient.id}"},
    )


@dataclass(frozen=True)
class RecallScan:
    """What a scan queued, and where the next chunk starts: after ``last`` (the kept recall
    date and id of the chunk's last patient, as the scan's cursor; None when none is left)."""

    queued: int
    last: str | None


def _after(cursor: str) -> ColumnElement[bool]:
    day, _, patient_id = cursor.partition(" ")
    return tuple_(Patient.recall_due_on, Patient.id) > tuple_(
        literal(dt.date.fromisoformat(day), Date()), literal(patient_id, String())
    )


def scan_recalls(
    session: Session,
    *,
    today: dt.date,
    now: dt.datetime,
    calendar: SendingCalendar,
    after: str | None = None,
    limit: int | None = None,
) -> RecallScan:
    """Queue every recall owed today (idempotent: one per patient and due date): to every
    patient owed one, or to a chunk of them: the next ``limit`` patients whose kept recall
    date falls due today, after the cursor ``after`` (a previous chunk's ``last``).

    Two statements find them: the chunk's patients read from the range of
    ``ix_patients_recall_due`` due today, in its order (an index range, stopped at the
    ``LIMIT``); then the rules on those alone (:func:`_standing_query`): consenting, active
    patients of participating districts, overdue and not lost, with fewer than three recalls
    since their last visit and the latest 14 days past. Their recalls are queued set-based
    (``notifications.outbox.queue_recalls``), which moves their kept dates on. A scan in
    chunks, each in a short transaction of its own, lets other writers in between (SQLite
    has one writer at a time).
    """
    chunk = (
        select(Patient.id, Patient.recall_due_on)
        .where(due_between(today - LOST_AFTER, today))
        .order_by(Patient.recall_due_on, Patient.id)
    )
    if after is not None:
        chunk = chunk.where(_after(after))
    if limit is not None:
        chunk = chunk.limit(limit)
    candidates = session.execute(chunk).all()
    if not candidates:
        return RecallScan(0, None)
    if session.get_bind().dialect.name == "postgresql":
        # Priced as a pass over many patients, the statement would be compiled by the JIT,
        # which takes longer (half a second) than a chunk's 200 patients do to work out.
        session.execute(text("SET LOCAL jit = off"))
    query = _standing_query(today=today, due_only=True).where(
        Patient.id.in_([patient_id for patient_id, _ in candidates])
    )
    owed = []
    for patient, standing in list(_standings(session, query)):
        try:
            overdue = _overdue(patient, standing, today)
        except BAD_ROW as error:
            _skipped(patient, error)
            continue
        if overdue.due is not None and not overdue.lost:
            owed.append(Owed(patient, patient.clinic_id, overdue.due, overdue.sequence))
    queued = queue_recalls(session, owed, now=now, calendar=calendar)
    more = limit is not None and len(candidates) == limit
    patient_id, due = candidates[-1]
    return RecallScan(queued, f"{due} {patient_id}" if more else None)


@dataclass(frozen=True)
class MessageReport:
    district: str
    sent: int
    delivered: int
    failed: int
    suppressed: int
    cancelled: int
    queued: int
    overdue: int
    lost_to_follow_up: int
    recalled: int
    came_back: int


def district_message_report(
    session: Session, *, district: str, start: dt.date, end: dt.date, today: dt.date
) -> MessageReport:
    """Texts by outcome in a period, patients overdue today, and who came back after a recall.

    ``came_back`` counts recalled patients (a recall sent in the period) with a visit within
    15 days after it.
    """
    counts = dict(
        session.execute(
            select(Message.status, func.count())
            .where(
                Message.district == district,
                Message.not_before >= dt.datetime.combine(start, dt.time(), tzinfo=SEOUL),
                Message.not_before
                < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=SEOUL),
            )
            .group_by(Message.status)
        ).all()
    )
    overdue = list(overdue_patients(session, today=today, district=district))
    recalls = session.execute(
        select(Message.patient_id, Message.sent_at).where(
            Message.district == district,
            Message.kind == MessageKind.RECALL,
            Message.sent_at.is_not(None),
        )
    ).all()
    recalled: set[str] = set()
    came_back: set[str] = set()
    for patient_id, sent_at in recalls:
        if sent_at is None or not start <= sent_at.date() <= end:
            continue
        recalled.add(patient_id)
        returned = session.execute(
            select(func.count()).where(
                Visit.patient_id == patient_id,
                Visit.visited_on >= sent_at.date(),
                Visit.visited_on <= sent_at.date() + CAME_BACK_WITHIN,
            )
        ).scalar_one()
        if returned:
            came_back.add(patient_id)
    return MessageReport(
        district=district,
        sent=counts.get(MessageStatus.SENT, 0)
        + counts.get(MessageStatus.DELIVERED, 0)
        + counts.get(MessageStatus.FAILED, 0),
        delivered=counts.get(MessageStatus.DELIVERED, 0),
        failed=counts.get(MessageStatus.FAILED, 0),
        suppressed=counts.get(MessageStatus.SUPPRESSED, 0),
        cancelled=counts.get(MessageStatus.CANCELLED, 0),
        queued=counts.get(MessageStatus.QUEUED, 0) + counts.get(MessageStatus.SENDING, 0),
        overdue=sum(1 for o in overdue if not o.lost),
        lost_to_follow_up=sum(1 for o in overdue if o.lost),
        recalled=len(recalled),
        came_back=len(came_back),
    )
