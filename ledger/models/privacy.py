"""Erasure of personal data: who erased whom, when and why, and the service's own secrets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import now
from ledger.models.base import Base, TZDateTime


class Erasure(Base):
    """A patient's erasure (PIPA): who erased them, when and why, holding no personal data.

    ``identity_hash`` is HMAC-SHA256, under the service's identity key, of the normalised
    name, birth date and phone the patient had: the same person registering again is
    recognised (and earns no second enrolment award), while the row alone names nobody.
    ``reason`` is refused when it names the patient.
    """

    __tablename__ = "erasures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), unique=True)
    identity_hash: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    erased_by: Mapped[str] = mapped_column(String(120))
    key_id: Mapped[str | None] = mapped_column(String(32))
    erased_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


class ServiceSecret(Base):
    """A secret the service generated for itself because none was configured (the identity
    key when ``MILEAGE_IDENTITY_KEY`` is unset); created once, never changed."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
