"""Texts to patients and what runs them: the outbox, districts' switches, the scheduler."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import now
from ledger.models.base import Base, TZDateTime
from ledger.vocabulary import MessageKind, MessageStatus, values

MESSAGE_KINDS = values(MessageKind)
MESSAGE_STATUSES = values(MessageStatus)


class Message(Base):
    """A text in the outbox: one per (patient, kind, due date), so none is queued twice.

    ``due_date`` is the follow-up date a reminder announces, or the day a recall fell due.
    ``not_before`` is the earliest moment it may go out; it waits while its district is paused
    or outside the sending window. ``sending`` marks a text handed to the channel: one found
    in that state after a crash is reconciled with the channel before any retry.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind", "due_date", name="uq_messages_once"),
        CheckConstraint(f"kind IN {MESSAGE_KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {MESSAGE_STATUSES!r}", name="status"),
        Index("ix_messages_due", "status", "not_before", "id"),
        Index("ix_messages_patient", "patient_id", "kind", "due_date", "status", "created_at"),
        Index("ix_messages_provider_sid", "provider_sid"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    kind: Mapped[str] = mapped_column(String(10))
    due_date: Mapped[dt.date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(SmallInteger, default=0)
    clinic_id: Mapped[str | None] = mapped_column(ForeignKey("clinics.id"))
    not_before: Mapped[dt.datetime] = mapped_column(TZDateTime())
    status: Mapped[str] = mapped_column(String(10), default="queued")
    body: Mapped[str | None] = mapped_column(String(400))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    error_code: Mapped[int | None] = mapped_column(Integer)
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str | None] = mapped_column(String(64))
    sending_since: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    closed_reason: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


class DistrictMessaging(Base):
    """A district's switch for its texts: paused, texts wait; resumed, they go out."""

    __tablename__ = "district_messaging"

    district: Mapped[str] = mapped_column(ForeignKey("districts.code"), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(200), default="")
    changed_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    changed_by: Mapped[str] = mapped_column(String(120), default="")


class NoSendDay(Base):
    """A day a district's health centre sends no texts (a local event, an office closure)."""

    __tablename__ = "no_send_days"

    district: Mapped[str] = mapped_column(ForeignKey("districts.code"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")


class JobRun(Base):
    """A scheduled job's run for one date: a job runs once per run date, whoever runs it."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    outcome: Mapped[str | None] = mapped_column(String(400))


class SchedulerLease(Base):
    """Which process runs the jobs (SQLite; PostgreSQL uses an advisory lock)."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime] = mapped_column(TZDateTime())
