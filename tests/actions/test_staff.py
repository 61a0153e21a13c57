"""Staff accounts, on both engines: who may create whom, disabling, resetting, signing in,
and the audit trail naming the person."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from actions import staff
from actions.context import Context, Safeguards, system_context
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.errors import Forbidden, LoginTaken, NotFound, RateLimited, SignInFailed
from ledger.models import AuditEvent, StaffAccount, WebSession
from ledger.services import staff as accounts
from ledger.services.staff import principal_of
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar
from tests.factories import make_clinic

NOW = dt.datetime(2024, 6, 14, 9, 0, tzinfo=SEOUL)


def _calendar() -> SendingCalendar:
    return SendingCalendar.from_settings(get_settings())


def command_line() -> Context:
    return system_context("command line", _calendar(), now=NOW)


def acting(account: StaffAccount) -> Context:
    """The context of a person signed in to the console."""
    base = command_line()
    return dataclasses.replace(base, principal=principal_of(account), client="10.0.0.7")


def login() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


@pytest.fixture
def city_person(session: Session) -> StaffAccount:
    return staff.create_account(
        session, command_line(), login=login(), name="김서울", role="city"
    ).account


@pytest.fixture
def officer(session: Session, city_person: StaffAccount) -> StaffAccount:
    return staff.create_account(
        session,
        acting(city_person),
        login=login(),
        name="박보건",
        role="health_center",
        district="11740",
    ).account


@pytest.fixture
def lead(session: Session, officer: StaffAccount) -> StaffAccount:
    clinic = make_clinic(session, district="11740")
    return staff.create_account(
        session,
        acting(officer),
        login=login(),
        name="이원장",
        role="clinic",
        clinic_id=clinic.id,
        clinic_lead=True,
    ).account


def test_the_city_creates_a_health_centre_account_with_a_one_time_password(
    session: Session, city_person: StaffAccount
) -> None:
    issued = staff.create_account(
        session,
        acting(city_person),
        login="Kang.Officer",
        name="강보건",
        role="health_center",
        district="11740",
    )
    account = issued.account
    assert account.login == "kang.officer"
    assert account.must_change_password
    assert account.created_by == "김서울"
    assert account.password_hash.startswith("$argon2id$")
    assert issued.password not in account.password_hash
    assert command_line().safeguards.passwords.verify(account.password_hash, issued.password)


def test_a_login_is_unique_whatever_its_case(session: Session) -> None:
    name = login()
    staff.create_account(session, command_line(), login=name, name="가", role="city")
    with pytest.raises(LoginTaken):
        staff.create_account(session, command_line(), login=name.upper(), name="나", role="city")


def test_the_database_refuses_a_login_not_case_folded(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError), session_scope(sessions) as session:
        session.execute(
            text(
                "INSERT INTO staff_accounts (id, login, name, role, clinic_lead, password_hash,"
                " must_change_password, created_by, created_at) VALUES ('stf_x', 'MiXed', 'x',"
                " 'city', false, 'h', true, 't', '2024-06-14T09:00:00+09:00')"
            )
        )


def test_the_city_may_not_create_clinic_accounts(
    session: Session, city_person: StaffAccount
) -> None:
    clinic = make_clinic(session)
    with pytest.raises(Forbidden):
        staff.create_account(
            session,
            acting(city_person),
            login=login(),
            name="x",
            role="clinic",
            clinic_id=clinic.id,
        )


def test_a_health_centre_creates_accounts_at_its_own_districts_clinics_only(
    session: Session, officer: StaffAccount
) -> None:
    elsewhere = make_clinic(session, district="11215")
    with pytest.raises(NotFound):
        staff.create_account(
            session, acting(officer), login=login(), name="x", role="clinic", clinic_id=elsewhere.id
        )
    with pytest.raises(Forbidden):
        staff.create_account(
            session,
            acting(officer),
            login=login(),
            name="x",
            role="health_center",
            district="11740",
        )


def test_a_clinic_lead_creates_its_own_receptionists_only(
    session: Session, lead: StaffAccount
) -> None:
    assert lead.clinic_id is not None
    receptionist = staff.create_account(
        session, acting(lead), login=login(), name="최접수", role="clinic", clinic_id=lead.clinic_id
    ).account
    assert not receptionist.clinic_lead
    other = make_clinic(session, district="11740")
    with pytest.raises(NotFound):
        staff.create_account(
            session, acting(lead), login=login(), name="x", role="clinic", clinic_id=other.id
        )
    with pytest.raises(Forbidden):
        staff.create_account(
            session,
            acting(lead),
            login=login(),
            name="x",
            role="clinic",
            clinic_id=lead.clinic_id,
            clinic_lead=True,
        )
    with pytest.raises(Forbidden):
        staff.create_account(
            session,
            acting(receptionist),
            login=login(),
            name="x",
            role="clinic",
            clinic_id=lead.clinic_id,
        )


def test_an_account_outside_the_managers_scope_answers_as_missing(
    session: Session, officer: StaffAccount, lead: StaffAccount
) -> None:
    other = staff.create_account(
        session, command_line(), login=login(), name="x", role="health_center", district="11215"
    ).account
    with pytest.raises(NotFound):
        staff.disable_account(session, acting(officer), other)
    with pytest.raises(NotFound):
        staff.reset_password(session, acting(lead), officer)
    with pytest.raises(NotFound):
        staff.disable_account(session, acting(officer), officer)


def _sign_in(
    session: Session, login: str, password: str, safeguards: Safeguards | None = None
) -> staff.SignedIn:
    return staff.sign_in(
        session,
        login=login,
        password=password,
        now=NOW,
        safeguards=safeguards or command_line().safeguards,
        client=f"10.1.{uuid.uuid4().int % 250}.1",
    )


def test_disabling_an_account_ends_its_sessions_and_refuses_its_sign_in(
    session: Session, officer: StaffAccount, lead: StaffAccount
) -> None:
    password = staff.reset_password(session, command_line(), lead).password
    signed = _sign_in(session, lead.login, password)
    idle = dt.timedelta(minutes=30)
    assert accounts.authenticate_session(session, signed.token, now=NOW, idle=idle) is not None
    staff.disable_account(session, acting(officer), lead)
    assert accounts.authenticate_session(session, signed.token, now=NOW, idle=idle) is None
    with pytest.raises(SignInFailed):
        _sign_in(session, lead.login, password)


def test_a_reset_password_must_be_changed_and_ends_the_sessions(
    session: Session, officer: StaffAccount
) -> None:
    first = staff.reset_password(session, command_line(), officer).password
    signed = _sign_in(session, officer.login, first)
    officer.must_change_password = False
    second = staff.reset_password(session, command_line(), officer).password
    assert officer.must_change_password
    assert session.get(WebSession, accounts._token_hash(signed.token)) is None
    with pytest.raises(SignInFailed):
        _sign_in(session, officer.login, first)
    assert _sign_in(session, officer.login, second).account.id == officer.id


def test_console_actions_are_audited_with_the_persons_name(
    session: Session, officer: StaffAccount, lead: StaffAccount
) -> None:
    staff.disable_account(session, acting(officer), lead)
    row = session.execute(
        select(AuditEvent).where(
            AuditEvent.action == "staff.disable", AuditEvent.resource == f"staff/{lead.id}"
        )
    ).scalar_one()
    assert (row.label, row.account_id, row.key_id) == ("박보건", officer.id, None)
    assert (row.role, row.client) == ("health_center", "10.0.0.7")


def test_sign_ins_are_audited_with_their_outcome_and_never_the_password(
    session: Session, officer: StaffAccount
) -> None:
    password = staff.reset_password(session, command_line(), officer).password
    with pytest.raises(SignInFailed):
        _sign_in(session, officer.login, "wrong-password-123")
    _sign_in(session, officer.login, password)
    rows = (
        session.execute(select(AuditEvent).where(AuditEvent.action == "staff.sign_in"))
        .scalars()
        .all()
    )
    mine = [r for r in rows if r.account_id == officer.id]
    assert [r.outcome for r in mine][-2:] == ["failed", "ok"]
    assert all(r.label == "박보건" for r in mine)
    for row in rows:
        values = " ".join(str(v) for v in vars(row).values())
        assert password not in values and "wrong-password-123" not in values


def test_an_unknown_login_is_refused_like_a_wrong_password(session: Session) -> None:
    with pytest.raises(SignInFailed) as refused:
        _sign_in(session, "nobody-here", "whatever-it-is")
    assert "disabled" in str(refused.value)


def test_sign_in_is_limited_per_account(session: Session, officer: StaffAccount) -> None:
    safeguards = command_line().safeguards
    tight = dataclasses.replace(
        safeguards, sign_in=dataclasses.replace(safeguards.sign_in, per_account=3)
    )
    password = staff.reset_password(session, command_line(), officer).password
    for _ in range(3):
        with pytest.raises(SignInFailed):
            _sign_in(session, officer.login, "not-the-password", safeguards=tight)
    with pytest.raises(RateLimited):
        staff.sign_in(
            session, login=officer.login.upper(), password=password, now=NOW, safeguards=tight
        )


def test_a_session_of_an_account_disabled_by_any_means_is_refused(
    session: Session, officer: StaffAccount
) -> None:
    password = staff.reset_password(session, command_line(), officer).password
    signed = _sign_in(session, officer.login, password)
    officer.disabled_at = NOW  # as a database operator would, without ending the sessions
    session.flush()
    idle = dt.timedelta(minutes=30)
    assert accounts.authenticate_session(session, signed.token, now=NOW, idle=idle) is None
