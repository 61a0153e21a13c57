"""A district's texts as its health centre reads them: day by day by outcome, and the
numbers that failed and are still to be corrected.

A text counts on the day it was due to go out (its ``not_before`` in Seoul): a day's row
says what became of that day's texts. A failed text leaves the list of numbers to correct
when the patient's phone is changed (``outbox.close_failed``), or when a later text to the
patient went out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from ledger.clock import SEOUL
from ledger.models import Message, Patient
from ledger.vocabulary import MessageStatus

__all__ = ["DayTexts", "FailedNumber", "failed_numbers", "texts_by_day"]

# A text that reached the carrier: one of these after a failure means the number works.
REACHED = (MessageStatus.SENT, MessageStatus.DELIVERED)


@dataclass(frozen=True)
class DayTexts:
    """One day's texts by what became of them."""

    day: dt.date
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    suppressed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return (
            self.queued
            + self.sent
            + self.delivered
            + self.failed
            + self.suppressed
            + self.cancelled
        )


@dataclass(frozen=True)
class FailedNumber:
    """A patient whose latest text failed: who, when, and the carrier's code."""

    patient_id: str
    name: str | None
    failed_at: dt.datetime
    error_code: int | None


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=SEOUL)


def texts_by_day(
    session: Session, *, district: str, start: dt.date, end: dt.date
) -> list[DayTexts]:
    """Each day from ``start`` to ``end`` (both included), with every day present."""
    rows = session.execute(
        select(Message.not_before, Message.status).where(
            Message.district == district,
            Message.not_before >= _start_of(start),
            Message.not_before < _start_of(end + dt.timedelta(days=1)),
        )
    ).all()
    counted: Counter[tuple[dt.date, str]] = Counter()
    for moment, status in rows:
        state = MessageStatus.QUEUED if status == MessageStatus.SENDING else status
        counted[(moment.astimezone(SEOUL).date(), state)] += 1
    days = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        days.append(
            DayTexts(
                day,
                **{status.value: counted[(day, status)] for status in _SHOWN},
            )
        )
    return days


_SHOWN = (
    MessageStatus.QUEUED,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.FAILED,
    MessageStatus.SUPPRESSED,
    MessageStatus.CANCELLED,
)


def failed_numbers(
    session: Session, *, district: str, after: str | None, limit: int
) -> list[FailedNumber]:
    """The district's patients with a failed text not yet dealt with (no phone correction
    since, no text that reached them since), in patient id order from ``after``."""
    later = aliased(Message)
    reached_since = exists().where(
        later.patient_id == Message.patient_id,
        later.status.in_(REACHED),
        later.updated_at > Message.updated_at,
    )
    latest = (
        select(
            Message.patient_id,
            func.max(Message.updated_at).label("failed_at"),
        )
        .where(
            Message.district == district,
            Message.status == MessageStatus.FAILED,
            Message.closed_reason.is_(None),
            ~reached_since,
        )
        .group_by(Message.patient_id)
        .subquery()
    )
    query = (
        select(latest.c.patient_id, Patient.name, latest.c.failed_at, Message.error_code)
        .join(Patient, Patient.id == latest.c.patient_id)
        .join(
            Message,
            and_(
                Message.patient_id == latest.c.patient_id,
                Message.updated_at == latest.c.failed_at,
                Message.status == MessageStatus.FAILED,
            ),
        )
        .order_by(latest.c.patient_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(latest.c.patient_id > after)
    found: dict[str, FailedNumber] = {}
    for patient_id, name, failed_at, code in session.execute(query):
        found.setdefault(patient_id, FailedNumber(patient_id, name, failed_at, code))
    return list(found.values())
