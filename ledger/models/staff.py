"""The console's people: staff accounts (one person each, never shared) and their sessions.

An account has the scope of an API key (the city; one district's health centre; one
clinic) and a password kept only as an argon2id hash. ``login`` is stored case-folded, so
the unique constraint makes it unique whatever the case it is typed in. A session is kept
server-side under the SHA-256 of its cookie's random token, so a stolen table signs nobody in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import now
from ledger.models.access import ROLES
from ledger.models.base import Base, TZDateTime


class StaffAccount(Base):
    """A person who signs in to the console, with a role and its scope."""

    __tablename__ = "staff_accounts"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        CheckConstraint(
            "(role = 'city' AND district IS NULL AND clinic_id IS NULL)"
            " OR (role = 'health_center' AND district IS NOT NULL AND clinic_id IS NULL)"
            " OR (role = 'clinic' AND district IS NOT NULL AND clinic_id IS NOT NULL)",
            name="scope",
        ),
        CheckConstraint("login = lower(login)", name="login_folded"),
        CheckConstraint("role = 'clinic' OR NOT clinic_lead", name="lead_is_clinic"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    clinic_id: Mapped[str | None] = mapped_column(ForeignKey("clinics.id"))
    clinic_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie's token, its CSRF token, its idle expiry."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_account_id", "account_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(TZDateTime())
