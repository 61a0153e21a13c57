"""Staff accounts and signing in to the console, for every edge (the console, `mileage staff`).

Creating an account or resetting its password hands back a generated one-time password,
shown once, to be changed at the first sign-in. Sign-in is limited per account and per
client address (``ledger.services.rates``); every attempt is audited, with its outcome and
never the password. Its refusals are records too: the edge commits what the attempt wrote
(its counts, its audit row) with the refusal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from actions import policy
from actions.context import Context, Safeguards
from ledger.errors import InvalidInput, RateLimited, SignInFailed
from ledger.models import StaffAccount
from ledger.services import clinics, rates, staff
from ledger.services.access import record_audit
from ledger.services.staff import MIN_PASSWORD_LENGTH, principal_of

__all__ = [
    "IssuedPassword",
    "SignedIn",
    "change_password",
    "create_account",
    "disable_account",
    "list_accounts",
    "reset_password",
    "sign_in",
    "sign_out",
]


@dataclass(frozen=True)
class IssuedPassword:
    """An account and its one-time password (shown once, never stored)."""

    account: StaffAccount
    password: str


@dataclass(frozen=True)
class SignedIn:
    """A new console session: the cookie's token and the session's CSRF token."""

    account: StaffAccount
    token: str
    csrf_token: str


def create_account(
    session: Session,
    ctx: Context,
    *,
    login: str,
    name: str,
    role: str,
    district: str | None = None,
    clinic_id: str | None = None,
    clinic_lead: bool = False,
) -> IssuedPassword:
    """Create a person's account with a one-time password (see ``policy.check_staff_create``)."""
    policy.check_staff_create(
        ctx.principal,
        role,
        district=district,
        clinic_id=clinic_id,
        clinic_lead=clinic_lead,
        find_clinic=lambda found: clinics.get_clinic(session, found),
    )
    password = staff.new_password()
    account = staff.create_account(
        session,
        login=login,
        name=name,
        role=role,
        district=district,
        clinic_id=clinic_id,
        clinic_lead=clinic_lead,
        password_hash=ctx.safeguards.passwords.hash(password),
        created_by=ctx.label,
    )
    ctx.audit(session, "staff.create", f"staff/{account.id}")
    return IssuedPassword(account, password)


def list_accounts(session: Session, ctx: Context) -> list[StaffAccount]:
    """The accounts the person manages (their district's, their clinic's), by login."""
    principal = ctx.principal
    policy.creates_role(principal)
    found = staff.list_accounts(session, district=principal.district, clinic_id=principal.clinic_id)
    return [account for account in found if policy.may_manage_staff(principal, account)]


def disable_account(session: Session, ctx: Context, account: StaffAccount) -> StaffAccount:
    """Disable an account at once: it is signed out at its next request."""
    policy.check_staff_manage(ctx.principal, account)
    staff.disable_account(session, account, now=ctx.now)
    ctx.audit(session, "staff.disable", f"staff/{account.id}")
    return account


def reset_password(session: Session, ctx: Context, account: StaffAccount) -> IssuedPassword:
    """A new one-time password, to be changed at the next sign-in; the account's sessions end."""
    policy.check_staff_manage(ctx.principal, account)
    password = staff.new_password()
    staff.set_password(session, account, ctx.safeguards.passwords.hash(password), must_change=True)
    staff.end_sessions(session, account.id)
    ctx.audit(session, "staff.reset_password", f"staff/{account.id}")
    return IssuedPassword(account, password)


def _counter(kind: str, value: str) -> str:
    """A rate counter's key: the login or address never stored as such (32 hex digits)."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def sign_in(
    session: Session,
    *,
    login: str,
    password: str,
    now: dt.datetime,
    safeguards: Safeguards,
    client: str | None = None,
    request_id: str | None = None,
    replacing: str | None = None,
) -> SignedIn:
    """Open a console session for a live account whose password matches.

    Counted against the login's and the address's limits first, whatever the outcome, and
    given back when the password matches: only failed attempts use up the limits (a health
    centre's staff behind one address sign in every morning), yet no more than the limit are
    ever in flight at once. An unknown login, a wrong password and a disabled account are
    refused alike. The session
    the browser had (``replacing``, its token) ends: a session id is never carried across a
    sign-in.
    """
    limits = safeguards.sign_in
    folded = staff.fold_login(login)
    account = staff.find_account(session, folded)

    def audit(outcome: str) -> None:
        record_audit(
            session,
            principal=principal_of(account) if account is not None else None,
            action="staff.sign_in",
            resource=f"staff/{account.id}" if account is not None else "staff/unknown",
            client=client,
            request_id=request_id,
            at=now,
            outcome=outcome,
        )

    counters = (
        ("account", folded, limits.per_account),
        ("address", client or "unknown", limits.per_address),
    )
    try:
        for kind, value, limit in counters:
            rates.take(
                session,
                principal=_counter(kind, value),
                action=f"staff.sign_in.{kind}",
                limit=limit,
                window=limits.window,
                now=now,
            )
    except RateLimited:
        audit("rate_limited")
        raise
    stored = account.password_hash if account is not None else None
    matches = safeguards.passwords.verify(stored, password)
    if account is None or not matches or account.disabled_at is not None:
        audit("failed")
        raise SignInFailed("the login or the password is wrong, or the account is disabled")
    if safeguards.passwords.needs_rehash(account.password_hash):
        staff.set_password(
            session,
            account,
            safeguards.passwords.hash(password),
            must_change=account.must_change_password,
        )
    for kind, value, _limit in counters:  # only the failures count against the brake
        rates.give_back(
            session,
            principal=_counter(kind, value),
            action=f"staff.sign_in.{kind}",
            window=limits.window,
            now=now,
        )
    if replacing:
        staff.close_session(session, replacing)
    opened = staff.open_session(session, account, now=now, idle=limits.idle)
    audit("ok")
    return SignedIn(account, opened.token, opened.row.csrf_token)


def sign_out(session: Session, ctx: Context, token: str) -> None:
    """End this console session."""
    staff.close_session(session, token)
    ctx.audit(session, "staff.sign_out", f"staff/{ctx.principal.account_id}")


def change_password(
    session: Session,
    ctx: Context,
    account: StaffAccount,
    *,
    current: str,
    new: str,
    confirm: str,
    keep_session: str | None = None,
) -> None:
    """The account's own new password, once the current one is given; its other sessions
    end. A new password is at least ten characters, not the login, not the current one."""
    if not ctx.safeguards.passwords.verify(account.password_hash, current):
        raise InvalidInput("the current password is wrong", field="current")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password is at least {MIN_PASSWORD_LENGTH} characters", field="new")
    if new == current or staff.fold_login(new) == account.login:
        raise InvalidInput(
            "choose a password other than the current one and the login", field="new"
        )
    if new != confirm:
        raise InvalidInput("the two new passwords differ", field="confirm")
    staff.set_password(session, account, ctx.safeguards.passwords.hash(new), must_change=False)
    staff.end_sessions(session, account.id, keep=keep_session)
    ctx.audit(session, "staff.change_password", f"staff/{account.id}")
