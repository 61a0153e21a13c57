"""The programme's patients: registering them, and the events of a patient's membership.

Registering a patient books the enrolment awards; leaving the programme books what the rules
say happens to the balance (forfeited by default). Districts and clinics are
``ledger.services.clinics``. Functions take the session first and flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.domain import AccountType, Transfer
from ledger.errors import (
    DuplicatePatient,
    FutureDate,
    InvalidInput,
    InvalidPhone,
    PatientErased,
    PatientNotActive,
    UnknownPatient,
)
from ledger.ids import is_well_formed, new_id
from ledger.models import Clinic, HomeClinic, Patient
from ledger.programme import Award, AwardAccounts, awards_from, enrolment_transfers
from ledger.records import EnrolmentRecord, LeavingRecord, Tag
from ledger.repository import LedgerRepository, figures
from ledger.rules import RuleBook
from ledger.services.booking import Count, book, open_account
from ledger.services.clinics import district_account, ensure_participating, get_clinic
from ledger.services.events import check_event_date, rules_for
from ledger.services.identity import erased_before
from ledger.services.periods import period_for
from ledger.services.reading import balance
from ledger.services.recall_due import refresh_recall_due
from ledger.text import normalise_name, unsafe_character
from ledger.vocabulary import (
    LEAVING_STATUSES,
    Beneficiary,
    ClinicKind,
    Condition,
    PatientStatus,
    TransactionKind,
)

__all__ = [
    "CONSENT_TEXT",
    "CONSENT_WORDING",
    "PatientSummary",
    "Registered",
    "change_home_clinic",
    "ensure_active",
    "find_patient",
    "get_patient",
    "home_clinic_on",
    "leave_programme",
    "normalise_phone",
    "patient_name",
    "register_patient",
    "summarise",
    "update_patient",
]

CONSENT_WORDING = "2024-v1"
# The words read to the patient (and shown on the console's registration form) under that
# version: a change of words is a new version, so each patient's recorded consent names
# the words they agreed to.
CONSENT_TEXT = (
    "건강관리 마일리지 사업의 안내 문자(다음 진료일 알림, 진료를 거른 뒤의 안내, "
    "마일리지 적립·사용 안내)를 휴대전화로 받는 데 동의합니다. 동의는 언제든 의원이나 "
    "보건소에 말씀하시면 거둘 수 있습니다."
)


@dataclass(frozen=True)
class Registered:
    patient: Patient
    transaction_id: int
    awards: list[Award]


@dataclass(frozen=True)
class PatientSummary:
    balance: int
    earned_this_year: int
    cap_remaining: int


def normalise_phone(raw: str) -> str:
    """A Korean mobile number in any common spelling, as E.164 (``+821012345678``)."""
    try:
        number = phonenumbers.parse(raw, "KR")
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone("the phone number could not be read", field="phone") from error
    if (
        number.country_code != 82
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise InvalidPhone(
            "a Korean mobile number is needed (010-1234-5678); landlines cannot take texts",
            field="phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def get_patient(session: Session, patient_id: str, *, for_update: bool = False) -> Patient:
    if not is_well_formed(patient_id):
        raise UnknownPatient("no patient with that id")
    patient = session.get(Patient, patient_id, with_for_update=for_update or None)
    if patient is None:
        raise UnknownPatient(f"no patient {patient_id!r}")
    return patient


def patient_name(raw: str) -> str:
    """A patient's name as it is stored and compared (``ledger.text.normalise_name``), after
    refusing the characters no text may hold; the same person written in another Unicode
    form, with a zero-width character or with other spacing is one name."""
    refused = unsafe_character(raw)
    if refused is not None:
        raise InvalidInput(
            f"the name holds an invisible control or formatting character ({refused}); "
            "type it again",
            field="name",
        )
    name = normalise_name(raw)
    if not name:
        raise InvalidInput("a patient needs a name", field="name")
    return name


def find_patient(session: Session, *, name: str, birth_date: dt.date, phone: str) -> Patient | None:
    """The patient registered as this person (name in any spelling, phone in any format)."""
    return _registered_as(session, patient_name(name), birth_date, normalise_phone(phone))


def _registered_as(session: Session, name: str, birth_date: dt.date, e164: str) -> Patient | None:
    """The patient stored under exactly this (normalised) name, birth date and phone."""
    return session.execute(
        select(Patient).where(
            Patient.name == name, Patient.birth_date == birth_date, Patient.phone == e164
        )
    ).scalar()


def register_patient(
    session: Session,
    *,
    clinic_id: str,
    name: str,
    birth_date: dt.date,
    phone: str,
    conditions: Collection[str],
    sms_consent: bool,
    recorded_by: str,
    enrolled_on: dt.date | None = None,
    today: dt.date | None = None,
    rules: RuleBook | None = None,
) -> Registered:
    """Register a patient at their home clinic and book the enrolment awards.

    The same person registered before is refused (:class:`DuplicatePatient`) only once every
    other check has passed, so that a probe for who is registered must be a registration
    this clinic could make. A person whose earlier patient record was erased is registered
    like anyone, recognised by the keyed hash the erasure kept: the enrolment awards (the
    patient's and the clinic's) are once per person, so theirs are withheld as ``once_only``.
    """
    today = today or clock.today()
    enrolled_on = enrolled_on or today
    name = patient_name(name)
    if birth_date > today:
        raise InvalidInput("a birth date cannot be in the future", field="birth_date")
    wanted = _conditions(conditions)
    e164 = normalise_phone(phone)
    clinic = get_clinic(session, clinic_id)
    if clinic.kind != ClinicKind.CHRONIC:
        raise InvalidInput(
            "patients register at a chronic-disease clinic, not an ophthalmology clinic",
            field="clinic",
        )
    ruleset = rules_for(rules, enrolled_on, clinic.district)
    check_event_date(enrolled_on, enrolled_on=enrolled_on, rules=ruleset, today=today)
    ensure_participating(clinic, enrolled_on)
    existing = _registered_as(session, name, birth_date, e164)
    if existing is not None:
        raise DuplicatePatient(existing.id)
    patient_id = new_id("pat")
    now = clock.now()
    patient = Patient(
        id=patient_id,
        name=name,
        birth_date=birth_date,
        phone=e164,
        has_hypertension=Condition.HYPERTENSION in wanted,
        has_diabetes=Condition.DIABETES in wanted,
        sms_consent=sms_consent,
        consent_changed_at=now,
        consent_wording=CONSENT_WORDING,
        consent_recorded_by=recorded_by,
        clinic_id=clinic.id,
        district=clinic.district,
        enrolled_on=enrolled_on,
        status=PatientStatus.ACTIVE,
        account_id=open_account(
            session,
            code=f"patient:{patient_id}",
            type=AccountType.PATIENT,
            district=clinic.district,
        ),
    )
    session.add(patient)
    session.flush()  # the home-clinic row refers to the patient row: insert that first
    session.add(HomeClinic(patient_id=patient_id, clinic_id=clinic.id, from_date=enrolled_on))
    booked = book(
        session,
        kind=TransactionKind.ENROLMENT,
        effective_date=enrolled_on,
        transfers=enrolment_transfers(
            ruleset,
            day=enrolled_on,
            accounts=AwardAccounts(
                expense=district_account(session, clinic.district, AccountType.DISTRICT_EXPENSE),
                patient=patient.account_id,
                clinic=clinic.earned_account_id,
            ),
            enrolled_before=erased_before(session, name=name, birth_date=birth_date, phone=e164),
        ),
        district=clinic.district,
        period=period_for(session, clinic.district, enrolled_on),
        record=EnrolmentRecord(patient=patient_id, clinic=clinic.id, rule_set=ruleset.label),
        counts=[Count(clinic.district, clinic.id, "registered")],
    )
    patient.enrolment_transaction_id = booked.transaction_id
    refresh_recall_due(session, [patient.id])
    return Registered(patient, booked.transaction_id, awards_from(booked.outcomes))


def home_clinic_on(session: Session, patient: Patient, day: dt.date) -> Clinic:
    """The patient's home clinic on ``day``: the one whose patient they were that day."""
    clinic_id = session.execute(
        select(HomeClinic.clinic_id)
        .where(HomeClinic.patient_id == patient.id, HomeClinic.from_date <= day)
        .order_by(HomeClinic.from_date.desc(), HomeClinic.id.desc())
        .limit(1)
    ).scalar()
    return get_clinic(session, clinic_id or patient.clinic_id)


def change_home_clinic(
    session: Session,
    *,
    patient_id: str,
    clinic_id: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> Patient:
    """Move a patient to another home clinic of their district from day ``on`` (not later
    than today); the balance moves with them.

    A patient who moves to another district leaves the programme here (``moved``) and
    registers there: their balance belongs to this district's budget.
    """
    today = today or clock.today()
    on = on or today
    patient = get_patient(session, patient_id, for_update=True)
    clinic = get_clinic(session, clinic_id)
    if clinic.district != patient.district:
        raise InvalidInput(
            "a home clinic is in the patient's district; a patient moving to another district "
            "leaves the programme here (moved) and registers there",
            field="clinic_id",
        )
    ensure_active(patient)
    if clinic.kind != ClinicKind.CHRONIC:
        raise InvalidInput("a home clinic is a chronic-disease clinic", field="clinic_id")
    if on > today:
        raise FutureDate(
            f"{on} is after today ({today}, Asia/Seoul); record the move when it happens",
            field="on",
        )
    ensure_participating(clinic, on)
    if on < patient.enrolled_on:
        raise InvalidInput("the move cannot predate the enrolment", field="on")
    if patient.clinic_id != clinic.id:
        # The reports count a patient, and their attendances, at their home clinic.
        figures.move_patient(
            session,
            patient_id=patient.id,
            district=patient.district,
            enrolled_on=patient.enrolled_on,
            source=patient.clinic_id,
            target=clinic.id,
        )
    patient.clinic_id = clinic.id
    patient.district = clinic.district
    session.add(HomeClinic(patient_id=patient.id, clinic_id=clinic.id, from_date=on))
    session.flush()
    return patient


def leave_programme(
    session: Session,
    *,
    patient_id: str,
    status: str,
    on: dt.date | None = None,
    rules: RuleBook | None = None,
) -> Patient:
    """A patient leaves (moved, withdrawn, deceased); the balance goes as the rules say."""
    if status not in LEAVING_STATUSES:
        raise InvalidInput(f"status is one of {', '.join(LEAVING_STATUSES)}", field="status")
    on = on or clock.today()
    patient = get_patient(session, patient_id, for_update=True)
    ensure_active(patient)
    ruleset = rules_for(rules, on, patient.district)
    patient.status, patient.left_on = status, on
    left = balance(session, patient.account_id)
    if ruleset.leaving.balance == "forfeit" and left > 0:
        forfeiture = district_account(session, patient.district, AccountType.FORFEITURE)
        booked = book(
            session,
            kind=TransactionKind.FORFEITURE,
            effective_date=on,
            transfers=[
                Transfer(
                    patient.account_id,
                    forfeiture,
                    left,
                    tag=str(Tag(Beneficiary.PATIENT, "forfeiture")),
                )
            ],
            district=patient.district,
            period=period_for(session, patient.district, on),
            record=LeavingRecord(patient=patient.id, status=status, rule_set=ruleset.label),
        )
        patient.leaving_transaction_id = booked.transaction_id
    session.flush()
    return patient


def update_patient(
    session: Session,
    *,
    patient_id: str,
    recorded_by: str,
    sms_consent: bool | None = None,
    phone: str | None = None,
    conditions: Collection[str] | None = None,
    name: str | None = None,
    birth_date: dt.date | None = None,
    today: dt.date | None = None,
) -> Patient:
    """Change consent, phone or conditions, or correct a misspelt name or birth date, as
    recorded at the clinic or health centre.

    A name, birth date or phone is taken as registration takes it (the name in its stored
    form, the phone as E.164, no birth date after today), and one that makes the patient the
    same person as another patient is refused (:class:`DuplicatePatient`).
    """
    patient = get_patient(session, patient_id, for_update=True)
    if patient.name is None or patient.birth_date is None or patient.phone is None:
        raise PatientErased(
            f"patient {patient.id}'s personal data was erased; if they come back, "
            "register them again"
        )
    today = today or clock.today()
    person = (
        patient.name if name is None else patient_name(name),
        patient.birth_date if birth_date is None else birth_date,
        patient.phone if phone is None else normalise_phone(phone),
    )
    if person[1] > today:
        raise InvalidInput("a birth date cannot be in the future", field="birth_date")
    if person != (patient.name, patient.birth_date, patient.phone):
        twin = _registered_as(session, *person)
        if twin is not None and twin.id != patient.id:
            raise DuplicatePatient(twin.id)
        patient.name, patient.birth_date, patient.phone = person
    if conditions is not None:
        wanted = _conditions(conditions)
        patient.has_hypertension = Condition.HYPERTENSION in wanted
        patient.has_diabetes = Condition.DIABETES in wanted
    if sms_consent is not None and sms_consent != patient.sms_consent:
        patient.sms_consent = sms_consent
        patient.consent_changed_at = clock.now()
        patient.consent_wording = CONSENT_WORDING
        patient.consent_recorded_by = recorded_by
    session.flush()
    return patient


def summarise(
    session: Session,
    patient: Patient,
    *,
    today: dt.date | None = None,
    rules: RuleBook | None = None,
) -> PatientSummary:
    """The patient's balance, what they earned this year and what the cap still allows."""
    today = today or clock.today()
    cap = rules_for(rules, today, patient.district).patient.annual_cap
    earned = LedgerRepository(session).counter(patient.account_id, f"{today.year}/annual").amount
    return PatientSummary(
        balance=balance(session, patient.account_id),
        earned_this_year=earned,
        cap_remaining=max(cap - earned, 0),
    )


def _conditions(conditions: Collection[str]) -> set[str]:
    wanted = set(conditions)
    if not wanted or not wanted <= set(Condition):
        raise InvalidInput(
            "conditions is a non-empty list of hypertension and/or diabetes", field="conditions"
        )
    return wanted


def ensure_active(patient: Patient) -> None:
    """Refuse an event for a patient who left the programme (moved, withdrawn, deceased).

    The message says nothing of when or why they left: a clinic that may spend a patient's
    mileage may not read their record.
    """
    if patient.status != PatientStatus.ACTIVE:
        raise PatientNotActive(
            "the patient has left the programme; nothing more is recorded or spent for them"
        )
