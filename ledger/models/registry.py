"""The programme's registry: districts, clinics, patients, their visits and education.

Personal data lives here and only here (patients), never in a ledger row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import now
from ledger.models.base import Base, Id, TZDateTime
from ledger.vocabulary import ClinicKind, Condition, PatientStatus, values

CLINIC_KINDS = values(ClinicKind)
PATIENT_STATUSES = values(PatientStatus)
CONDITIONS = values(Condition)
# Who may be sent a recall at all: the predicate of the recall scan's partial index.
RECALLABLE = "sms_consent AND status = 'active'"


class District(Base):
    """One of Seoul's 25 districts (자치구), by administrative code; its 보건소 runs it."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    participating: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_year: Mapped[int | None] = mapped_column(Integer)


class Clinic(Base):
    __tablename__ = "clinics"
    __table_args__ = (
        CheckConstraint(f"kind IN {CLINIC_KINDS!r}", name="kind"),
        CheckConstraint(
            "participating_until IS NULL OR participating_until >= participating_since",
            name="period",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    participating_since: Mapped[dt.date] = mapped_column(Date)
    participating_until: Mapped[dt.date | None] = mapped_column(Date)
    earned_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    reimbursable_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


class Patient(Base):
    """A patient: one person is one patient (name, birth date and phone are unique together).

    Erasure (``ledger.services.erasure``) clears the name, birth date and phone, all three
    together and only once the patient has left; the row, its ids, its account and its events
    stay, so the ledger and the reports do not change. NULLs are distinct in a unique
    constraint on both engines, so erased patients never collide with anyone.
    """

    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("name", "birth_date", "phone", name="uq_patients_person"),
        CheckConstraint("has_hypertension OR has_diabetes", name="a_condition"),
        CheckConstraint(f"status IN {PATIENT_STATUSES!r}", name="status"),
        CheckConstraint(
            "(name IS NULL AND birth_date IS NULL AND phone IS NULL)"
            " OR (name IS NOT NULL AND birth_date IS NOT NULL AND phone IS NOT NULL)",
            name="personal_data_whole",
        ),
        CheckConstraint("name IS NOT NULL OR status <> 'active'", name="erased_has_left"),
        Index(
            "ix_patients_recall_due",
            "recall_due_on",
            "id",
            postgresql_where=text(RECALLABLE),
            sqlite_where=text(RECALLABLE),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None once erased.
    name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    has_hypertension: Mapped[bool] = mapped_column(Boolean)
    has_diabetes: Mapped[bool] = mapped_column(Boolean)
    sms_consent: Mapped[bool] = mapped_column(Boolean)
    consent_changed_at: Mapped[dt.datetime] = mapped_column(TZDateTime())
    consent_wording: Mapped[str] = mapped_column(String(40))
    consent_recorded_by: Mapped[str] = mapped_column(String(120))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"), unique=True)
    enrolment_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    leaving_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    # The day the next recall falls due; None when none can (ledger.services.recall_due).
    recall_due_on: Mapped[dt.date | None] = mapped_column(Date)

    @property
    def erased(self) -> bool:
        return self.name is None

    @property
    def conditions(self) -> list[Condition]:
        flags = (self.has_hypertension, self.has_diabetes)
        return [c for c, has in zip(Condition, flags, strict=True) if has]


class HomeClinic(Base):
    """A patient's home clinic from a date on: "its patient" means the home clinic that day."""

    __tablename__ = "home_clinics"
    __table_args__ = (Index("ix_home_clinics_patient_from", "patient_id", "from_date"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"))
    from_date: Mapped[dt.date] = mapped_column(Date)


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_patient_day", "patient_id", "visited_on", "next_visit_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    systolic: Mapped[int | None] = mapped_column(SmallInteger)
    diastolic: Mapped[int | None] = mapped_column(SmallInteger)
    hba1c: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    fasting_glucose: Mapped[int | None] = mapped_column(SmallInteger)
    next_visit_on: Mapped[dt.date | None] = mapped_column(Date)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    recorded_by: Mapped[str] = mapped_column(String(120))


class EducationSession(Base):
    __tablename__ = "education_sessions"
    __table_args__ = (CheckConstraint(f"condition IN {CONDITIONS!r}", name="condition"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    clinic_id: Mapped[str | None] = mapped_column(ForeignKey("clinics.id"))
    held_on: Mapped[dt.date] = mapped_column(Date)
    condition: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


class Attendance(Base):
    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("session_id", "patient_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("education_sessions.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    recorded_by: Mapped[str] = mapped_column(String(120))
