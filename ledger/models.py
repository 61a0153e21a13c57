"""SQLAlchemy tables of the ledger.

The ledger rows (``transactions``, ``entries``, ``limit_postings``) are append-only and hold
no personal data: accounts are opaque ids, so a patient's personal data can be erased
without touching the ledger. The database itself refuses to update or delete them, and
refuses a transaction header whose legs do not sum to zero (see the first migration).
``balances`` and ``limit_counters`` are running totals kept in the same database
transaction as the entries; ``mileage ledger verify`` recomputes them from the entries.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ledger.clock import SEOUL, now
from ledger.domain import AccountType
from ledger.vocabulary import (
    ClinicKind,
    Condition,
    ImportKind,
    MessageKind,
    MessageStatus,
    PatientStatus,
    Purpose,
    Role,
    SettlementStatus,
    values,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite's INTEGER PRIMARY KEY is its rowid; BIGINT would not autoincrement there.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class TZDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that keeps its offset on both engines and reads back in Asia/Seoul.

    PostgreSQL stores ``timestamptz``; SQLite has no such type, so the value is kept as
    ISO 8601 text with its offset, which also sorts correctly within one offset.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must carry an offset")
        value = value.astimezone(SEOUL)
        return value.isoformat() if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return value.astimezone(SEOUL)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


ACCOUNT_TYPES = values(AccountType)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(f"type IN {ACCOUNT_TYPES!r}", name="type"),
        CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
        CheckConstraint("shards >= 1", name="shards"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    normal_side: Mapped[str] = mapped_column(String(6))
    district: Mapped[str | None] = mapped_column(String(5))
    shards: Mapped[int] = mapped_column(SmallInteger, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


class Balance(Base):
    """An account's running balance: the raw signed sum of its entries (debit positive).

    Sharded accounts keep several rows; their balance is the sum.
    """

    __tablename__ = "balances"

    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class Transaction(Base):
    """A transaction header, inserted after its legs; its insert trigger checks the sum."""

    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    booked_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"), unique=True)
    district: Mapped[str | None] = mapped_column(String(5), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # The settlement quarter ("2024-Q2") the transaction is paid out in: its own date's
    # quarter, or the district's first open quarter when that one is already closed.
    period: Mapped[str | None] = mapped_column(String(7))

    __table_args__ = (Index("ix_transactions_district_period", "district", "period"),)


class Entry(Base):
    """One leg: a signed amount on one account (debit positive, credit negative)."""

    __tablename__ = "entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero"),
        UniqueConstraint("transaction_id", "account_id"),
        Index("ix_entries_account_transaction", "account_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", deferrable=True, initially="DEFERRED")
    )
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)


class LimitCounter(Base):
    """What an account has been credited under one limit key, in amount and in awards."""

    __tablename__ = "limit_counters"

    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    count: Mapped[int] = mapped_column(Integer, default=0)


class LimitPostingRow(Base):
    """A move of a limit counter, booked (append-only) with the transaction that made it."""

    __tablename__ = "limit_postings"
    __table_args__ = (Index("ix_limit_postings_account_key", "account_id", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", deferrable=True, initially="DEFERRED"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    key: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)


# The programme's registry ----------------------------------------------------------------
# Personal data lives here and only here (patients), never in a ledger row.

CLINIC_KINDS = values(ClinicKind)
PATIENT_STATUSES = values(PatientStatus)
CONDITIONS = values(Condition)


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
    """A patient: one person is one patient (name, birth date and phone are unique together)."""

    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("name", "birth_date", "phone", name="uq_patients_person"),
        CheckConstraint("has_hypertension OR has_diabetes", name="a_condition"),
        CheckConstraint(f"status IN {PATIENT_STATUSES!r}", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(20), index=True)
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

    @property
    def conditions(self) -> list[str]:
        flags = (self.has_hypertension, self.has_diabetes)
        return [c for c, has in zip(CONDITIONS, flags, strict=True) if has]


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
    __table_args__ = (Index("ix_visits_patient_day", "patient_id", "visited_on"),)

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


# Access: API keys, idempotent requests, the audit trail -----------------------------------

ROLES = values(Role)


class ApiKey(Base):
    """An API key: shown once, stored as a SHA-256 hash of its secret part."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        CheckConstraint(
            "(role = 'city' AND district IS NULL AND clinic_id IS NULL)"
            " OR (role = 'health_center' AND district IS NOT NULL AND clinic_id IS NULL)"
            " OR (role = 'clinic' AND clinic_id IS NOT NULL)",
            name="scope",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    clinic_id: Mapped[str | None] = mapped_column(ForeignKey("clinics.id"))
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    created_by: Mapped[str] = mapped_column(String(120))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


class IdempotentRequest(Base):
    """A POST's Idempotency-Key: claimed before the work, holding the answer after it."""

    __tablename__ = "idempotent_requests"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(String)
    content_type: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[dt.datetime] = mapped_column(TZDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


class AuditEvent(Base):
    """Who (key and its label) read or changed what, when, and from where."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_patient_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now, index=True)
    key_id: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(60))
    resource: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str | None] = mapped_column(String(32))
    client: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))


# History import: the previous system's rows, each imported once -------------------------

IMPORT_KINDS = values(ImportKind)


class ImportRow(Base):
    """A row of the previous system's records, imported once: its legacy id, what it became.

    ``record_id`` is our clinic, patient, visit, attendance or education session id (for a
    balance, the patient's); ``transaction_id`` the transaction the row booked, if any.
    ``row_hash`` tells a second import of the same row (nothing to do) from a different row
    under the same legacy id (refused).
    """

    __tablename__ = "import_rows"
    __table_args__ = (
        CheckConstraint(f"kind IN {IMPORT_KINDS!r}", name="kind"),
        Index("ix_import_rows_kind_record", "kind", "record_id"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str | None] = mapped_column(String(32))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    row_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


# Spending and settlement ------------------------------------------------------------------

PURPOSES = values(Purpose)


class Redemption(Base):
    """Mileage a patient spent at a clinic, which the programme then owes the clinic."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive"),
        CheckConstraint(f"purpose IN {PURPOSES!r}", name="purpose"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16))
    spent_on: Mapped[dt.date] = mapped_column(Date)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    recorded_by: Mapped[str] = mapped_column(String(120))


class Settlement(Base):
    """A district's quarter: a draft while open, then closed for good with its payouts."""

    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint("district", "year", "quarter", name="uq_settlements_quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
        CheckConstraint(f"status IN {values(SettlementStatus)!r}", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(8), default="draft")
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    computed_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    closed_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(120))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))


class SettlementLine(Base):
    """One clinic's payout in a settlement, and its payment once recorded."""

    __tablename__ = "settlement_lines"
    __table_args__ = (UniqueConstraint("settlement_id", "clinic_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    settlement_id: Mapped[str] = mapped_column(ForeignKey("settlements.id"))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"))
    earned: Mapped[int] = mapped_column(BigInteger)
    reimbursed: Mapped[int] = mapped_column(BigInteger)
    corrections: Mapped[int] = mapped_column(BigInteger)
    payout: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    payment_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))


# Messages: reminders and recalls, the districts' switches, the scheduler -----------------

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
        Index("ix_messages_patient", "patient_id", "kind", "due_date"),
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
