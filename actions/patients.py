"""A patient's membership: registering, reading, looking up, changing, moving, leaving."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from actions import policy
from actions.context import Context
from ledger.errors import DuplicatePatient, InvalidInput, RateLimited, UnknownPatient
from ledger.models import Patient
from ledger.programme import Award
from ledger.services import clinics, rates, registry
from ledger.services.reading import balance
from ledger.services.registry import PatientSummary
from ledger.vocabulary import LookupOutcome
from notifications import outbox

__all__ = [
    "Found",
    "PatientView",
    "Registered",
    "leave_programme",
    "look_up_patient",
    "move_patient",
    "register_patient",
    "show_patient",
    "update_patient",
]


LOOKUP = "patient.lookup"


@dataclass(frozen=True)
class PatientView:
    """A patient with their balance, this year's earnings and what the cap leaves."""

    patient: Patient
    summary: PatientSummary


@dataclass(frozen=True)
class Registered(PatientView):
    transaction_id: int
    awards: list[Award]


@dataclass(frozen=True)
class Found:
    patient: Patient
    balance: int


def _view(session: Session, ctx: Context, patient: Patient) -> PatientView:
    return PatientView(patient, registry.summarise(session, patient, today=ctx.today))


def register_patient(
    session: Session,
    ctx: Context,
    *,
    clinic_id: str,
    name: str,
    birth_date: dt.date,
    phone: str,
    conditions: Collection[str],
    sms_consent: bool,
    enrolled_on: dt.date | None = None,
) -> Registered:
    """Register a patient at ``clinic_id`` and book the enrolment awards.

    The same person registered before is refused once every other check has passed, with the
    existing patient's id only when the caller may read that patient, and the attempt is
    audited (a clinic probing for who is registered leaves a trace).
    """
    try:
        registered = registry.register_patient(
            session,
            clinic_id=clinic_id,
            name=name,
            birth_date=birth_date,
            phone=phone,
            conditions=conditions,
            sms_consent=sms_consent,
            enrolled_on=enrolled_on,
            recorded_by=ctx.label,
            today=ctx.today,
        )
    except DuplicatePatient as duplicate:
        raise _narrowed(session, ctx, duplicate, "patient.create") from None
    patient = registered.patient
    ctx.audit(session, "patient.create", f"patients/{patient.id}", patient_id=patient.id)
    view = _view(session, ctx, patient)
    return Registered(patient, view.summary, registered.transaction_id, registered.awards)


def _narrowed(
    session: Session, ctx: Context, duplicate: DuplicatePatient, attempt: str
) -> DuplicatePatient:
    """The refusal of a second registration of a person, as the caller may hear it: with
    the existing patient's id only when the caller may read that patient. The attempt is
    audited under the existing patient (kept through the rollback the refusal causes)."""
    existing = registry.get_patient(session, duplicate.existing_id or "")
    ctx.audit_refusal(f"{attempt}.duplicate", f"patients/{existing.id}", patient_id=existing.id)
    readable = policy.may_read_patient(ctx.principal, existing)
    return DuplicatePatient(existing.id if readable else None)


def show_patient(session: Session, ctx: Context, patient: Patient) -> PatientView:
    """A patient's page, as read by the caller (audited)."""
    ctx.audit(session, "patient.read", f"patients/{patient.id}", patient_id=patient.id)
    return _view(session, ctx, patient)


def look_up_patient(
    session: Session, ctx: Context, *, name: str, birth_date: dt.date, phone: str
) -> Found:
    """Find a patient by name, birth date and phone, among those the caller may find.

    Each look-up counts against the caller's rate (``lookups_per_minute``; past it,
    :class:`RateLimited`) and is audited whatever it comes to: who, when, the outcome and a
    keyed hash of whom it searched for, never the name, birth date or phone. A refused
    look-up's count and audit row are its record: its edge keeps them
    (``api.deps.keep_refusals``).
    """
    subject: str | None = None
    unreadable: InvalidInput | None = None
    try:
        name, phone = registry.patient_name(name), registry.normalise_phone(phone)
        subject = ctx.safeguards.pseudonyms.person(name=name, birth_date=birth_date, phone=phone)
    except InvalidInput as error:  # still counted and audited, like any other look-up
        unreadable = error

    def audit(outcome: LookupOutcome, patient_id: str | None = None) -> None:
        resource = "patient-lookups" if patient_id is None else f"patients/{patient_id}"
        ctx.audit(
            session, LOOKUP, resource, patient_id=patient_id, outcome=outcome, subject_hash=subject
        )

    try:
        _count_look_up(session, ctx)
    except RateLimited:
        audit(LookupOutcome.RATE_LIMITED)
        raise
    if unreadable is not None:
        audit(LookupOutcome.INVALID)
        raise unreadable
    patient = registry.find_patient(session, name=name, birth_date=birth_date, phone=phone)
    principal = ctx.principal
    clinic = None if principal.clinic_id is None else clinics.get_clinic(session, ctx.clinic_id)
    if patient is None or not policy.may_look_up(principal, patient, clinic, ctx.today):
        audit(LookupOutcome.NOT_FOUND)
        raise UnknownPatient("no patient with that name, birth date and phone")
    audit(LookupOutcome.FOUND, patient.id)
    return Found(patient, balance(session, patient.account_id))


def _count_look_up(session: Session, ctx: Context) -> None:
    """One more look-up by the caller: the rate is the principal's, whichever edge it came
    through (an API key's, or a staff account's in the console). The service acting on
    its own (the importer, a command) has no credential and no rate."""
    credential = ctx.principal.key_id or ctx.principal.account_id
    if credential is None:
        return
    rates.take(
        session,
        principal=credential,
        action=LOOKUP,
        limit=ctx.safeguards.lookups_per_minute,
        window=dt.timedelta(minutes=1),
        now=ctx.now,
    )


def update_patient(
    session: Session,
    ctx: Context,
    patient: Patient,
    *,
    sms_consent: bool | None = None,
    phone: str | None = None,
    conditions: Collection[str] | None = None,
    name: str | None = None,
    birth_date: dt.date | None = None,
) -> PatientView:
    """Change consent, phone or conditions, or correct a misspelt name or birth date;
    withdrawn consent cancels the queued texts.

    A name, birth date or phone that makes the patient the same person as another patient is
    refused as a registration would be (the other's id only when the caller may read them;
    audited). The audit row names the fields that changed, never their values.
    """
    before = _identity(patient)
    try:
        registry.update_patient(
            session,
            patient_id=patient.id,
            recorded_by=ctx.label,
            sms_consent=sms_consent,
            phone=phone,
            conditions=conditions,
            name=name,
            birth_date=birth_date,
            today=ctx.today,
        )
    except DuplicatePatient as duplicate:
        raise _narrowed(session, ctx, duplicate, "patient.update") from None
    if sms_consent is False:
        outbox.cancel_for_patient(session, patient.id, reason="consent withdrawn", now=ctx.now)
    after = _identity(patient)
    changed = ",".join(field for field in before if before[field] != after[field])
    if before.get("phone") != after.get("phone"):
        outbox.close_failed(session, patient.id, reason="number corrected")
    resource = f"patients/{patient.id}" + (f"?changed={changed}" if changed else "")
    ctx.audit(session, "patient.update", resource, patient_id=patient.id)
    return _view(session, ctx, patient)


def _identity(patient: Patient) -> dict[str, object]:
    """What a change may touch, by field (compared before and after; never audited)."""
    return {
        "name": patient.name,
        "birth_date": patient.birth_date,
        "phone": patient.phone,
        "conditions": (patient.has_hypertension, patient.has_diabetes),
        "sms_consent": patient.sms_consent,
    }


def move_patient(
    session: Session, ctx: Context, patient: Patient, *, clinic_id: str, on: dt.date | None
) -> PatientView:
    """Move a patient to another home clinic of their district from ``on`` (today, or a day
    already past); the balance moves too. A clinic outside the caller's reach answers as
    one that does not exist."""
    policy.check_move_target(ctx.principal, patient, clinics.get_clinic(session, clinic_id))
    registry.change_home_clinic(
        session, patient_id=patient.id, clinic_id=clinic_id, on=on or ctx.today, today=ctx.today
    )
    ctx.audit(session, "patient.move", f"patients/{patient.id}", patient_id=patient.id)
    return _view(session, ctx, patient)


def leave_programme(
    session: Session, ctx: Context, patient: Patient, *, status: str, on: dt.date | None
) -> PatientView:
    """The patient leaves (moved, withdrawn, deceased): the balance goes as the rules say and
    their queued texts are cancelled."""
    registry.leave_programme(session, patient_id=patient.id, status=status, on=on or ctx.today)
    outbox.cancel_for_patient(session, patient.id, reason=f"left ({status})", now=ctx.now)
    ctx.audit(session, "patient.leave", f"patients/{patient.id}", patient_id=patient.id)
    return _view(session, ctx, patient)
