"""Staff accounts and their console sessions.

An account is one person, never shared: the privacy law asks who read what. Its password is
kept as an argon2id hash (memory-hard; the cost comes from the settings, cheap only in
tests). A new or reset password is a generated one-time password that must be changed at the
next sign-in. A console session is a random token in the browser's cookie, stored here only
as its SHA-256 (256 random bits need no slow hash), with its own CSRF token and an idle
expiry moved on by every request. Disabling an account, or resetting its password, ends its
sessions, so it is signed out at its next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledger.errors import InvalidInput, LoginTaken, NotFound
from ledger.ids import is_well_formed, new_id
from ledger.models import StaffAccount, WebSession
from ledger.services.access import Principal, role_scope
from ledger.settings import Settings
from ledger.vocabulary import Role, values

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "OpenedSession",
    "Passwords",
    "authenticate_session",
    "close_session",
    "create_account",
    "disable_account",
    "end_sessions",
    "find_account",
    "fold_login",
    "get_account",
    "list_accounts",
    "new_password",
    "open_session",
    "principal_of",
    "set_password",
]

MIN_PASSWORD_LENGTH = 10
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}", re.ASCII)


@dataclass(frozen=True)
class Passwords:
    """argon2id with the configured cost."""

    time_cost: int
    memory_kib: int
    parallelism: int
    _dummy: list[str] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        return cls(
            settings.password_time_cost, settings.password_memory_kib, settings.password_parallelism
        )

    @cached_property
    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; with no stored hash (an unknown login) a
        hash is checked all the same, so the answer takes as long either way."""
        if stored is None:
            if not self._dummy:
                self._dummy.append(self.hash(secrets.token_urlsafe(16)))
            stored, password = self._dummy[0], ""
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)


def fold_login(login: str) -> str:
    """A login as stored: trimmed and case-folded."""
    return login.strip().casefold()


def new_password() -> str:
    """A one-time password, to be changed at the first sign-in (about 95 random bits)."""
    return secrets.token_urlsafe(12)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_account(
    session: Session,
    *,
    login: str,
    name: str,
    role: str,
    password_hash: str,
    created_by: str,
    district: str | None = None,
    clinic_id: str | None = None,
    clinic_lead: bool = False,
) -> StaffAccount:
    """A new account for one person, with the scope of its role; its password must be
    changed at the first sign-in."""
    folded = fold_login(login)
    if not _LOGIN.fullmatch(folded):
        raise InvalidInput(
            "a login is 3 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="login",
        )
    if not name.strip() or len(name.strip()) > 100:
        raise InvalidInput(
            "an account needs the person's name (up to 100 characters)", field="name"
        )
    if role not in values(Role):
        raise InvalidInput(f"role is one of {', '.join(Role)}", field="role")
    district, clinic_id = role_scope(session, role, district, clinic_id, holder="account")
    if find_account(session, folded) is not None:
        raise LoginTaken(f"the login {folded!r} is taken; choose another")
    account = StaffAccount(
        id=new_id("stf"),
        login=folded,
        name=name.strip(),
        role=role,
        district=district,
        clinic_id=clinic_id,
        clinic_lead=bool(clinic_lead) and role == Role.CLINIC,
        password_hash=password_hash,
        must_change_password=True,
        created_by=created_by,
    )
    session.add(account)
    session.flush()
    return account


def find_account(session: Session, login: str) -> StaffAccount | None:
    folded = fold_login(login)
    return session.execute(
        select(StaffAccount).where(StaffAccount.login == folded)
    ).scalar_one_or_none()


def list_accounts(
    session: Session, *, district: str | None = None, clinic_id: str | None = None
) -> list[StaffAccount]:
    """Accounts by login, optionally of one district or one clinic."""
    query = select(StaffAccount).order_by(StaffAccount.login)
    if district is not None:
        query = query.where(StaffAccount.district == district)
    if clinic_id is not None:
        query = query.where(StaffAccount.clinic_id == clinic_id)
    return list(session.execute(query).scalars())


def get_account(session: Session, account_id: str) -> StaffAccount:
    account = session.get(StaffAccount, account_id) if is_well_formed(account_id) else None
    if account is None:
        raise NotFound("no staff account with that id")
    return account


def principal_of(account: StaffAccount) -> Principal:
    """The account as the actions and the audit trail see it: the person's name, its scope."""
    return Principal(
        None,
        account.name,
        Role(account.role),
        account.district,
        account.clinic_id,
        account_id=account.id,
        clinic_lead=account.clinic_lead,
    )


def end_sessions(session: Session, account_id: str, *, keep: str | None = None) -> None:
    """End every console session of the account (but the one whose token hash is ``keep``)."""
    statement = delete(WebSession).where(WebSession.account_id == account_id)
    if keep is not None:
        statement = statement.where(WebSession.token_hash != keep)
    session.execute(statement)


def disable_account(session: Session, account: StaffAccount, *, now: dt.datetime) -> None:
    """Disable the account at once: its sessions end, it can no longer sign in."""
    if account.disabled_at is None:
        account.disabled_at = now
    end_sessions(session, account.id)
    session.flush()


def set_password(
    session: Session, account: StaffAccount, password_hash: str, *, must_change: bool
) -> None:
    account.password_hash = password_hash
    account.must_change_password = must_change
    session.flush()


@dataclass(frozen=True)
class OpenedSession:
    """A new console session: the cookie's token (shown to the browser only) and its row."""

    token: str
    row: WebSession


def open_session(
    session: Session, account: StaffAccount, *, now: dt.datetime, idle: dt.timedelta
) -> OpenedSession:
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_token_hash(token),
        account_id=account.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + idle,
    )
    session.add(row)
    session.flush()
    return OpenedSession(token, row)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def end_expired_sessions(session: Session, *, now: dt.datetime) -> int:
    """Delete the sessions whose idle expiry has passed (each would be refused anyway);
    how many. A session is a person's trace: none is kept longer than it is good for."""
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def authenticate_session(
    session: Session, token: str, *, now: dt.datetime, idle: dt.timedelta
) -> tuple[StaffAccount, WebSession] | None:
    """The live account and session of a cookie's token, its idle expiry moved on; None for
    an unknown or expired session, or a disabled account (whose sessions then end)."""
    row = session.get(WebSession, _token_hash(token))
    if row is None:
        return None
    account = session.get(StaffAccount, row.account_id)
    if account is None or account.disabled_at is not None or row.expires_at <= now:
        session.delete(row)
        session.flush()
        return None
    row.last_seen_at = now
    row.expires_at = now + idle
    session.flush()
    return account, row
