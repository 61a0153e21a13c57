"""Who may call the service and what they did: API keys, idempotent requests, the audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import now
from ledger.models.base import Base, Id, TZDateTime
from ledger.vocabulary import Role, values

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
    """A POST's Idempotency-Key: claimed for the work, holding the answer after it.

    ``claimed_by`` names the process that holds an unanswered claim
    (``ledger.processes``); ``claimed_until`` is the lease that decides only when that
    process's liveness cannot be checked (another host). See ``ledger.services.idempotency``.
    """

    __tablename__ = "idempotent_requests"
    # The retention job finds the answers it has not scrubbed yet, oldest first.
    __table_args__ = (Index("ix_idempotent_requests_scrub", "scrubbed_at", "created_at"),)

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(String)
    content_type: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[dt.datetime] = mapped_column(TZDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    # When the answer lost its personal fields (``ledger.services.retention``).
    scrubbed_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


class AuditEvent(Base):
    """Who (key or staff account, and its label) read or changed what, when, and from where.

    Append-only: the database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL). A row
    never holds personal data: a look-up records its ``outcome`` and ``subject_hash``, a keyed
    hash of the name, birth date and phone searched for (``ledger.pseudonyms``), never them.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_at", "patient_id", "at"),
        Index("ix_audit_events_subject_hash", "subject_hash"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now, index=True)
    key_id: Mapped[str | None] = mapped_column(String(32))
    # The staff account that acted in the console (``key_id`` is then None).
    account_id: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(60))
    resource: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str | None] = mapped_column(String(32))
    client: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(20))
    subject_hash: Mapped[str | None] = mapped_column(String(64))


class RateCounter(Base):
    """How many times a principal did a rate-limited action in the current window.

    One row per (principal, action), moved to the new window by the statement that counts
    (``ledger.services.rates``); nothing sums the audit trail on the hot path.
    """

    __tablename__ = "rate_counters"

    principal: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(40), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(TZDateTime())
    count: Mapped[int] = mapped_column(Integer)
