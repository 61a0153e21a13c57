"""Registering clinics and patients, moving, leaving."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from ledger.errors import (
    AlreadyAttended,
    DuplicatePatient,
    InvalidInput,
    InvalidPhone,
    NotParticipating,
    PatientNotActive,
)
from ledger.programme import Readings
from ledger.services.clinics import clinic_leaves, register_clinic
from ledger.services.earning import create_education_session, record_attendance, record_visit
from ledger.services.reading import balance
from ledger.services.registry import (
    change_home_clinic,
    leave_programme,
    normalise_phone,
    update_patient,
)
from tests.factories import make_clinic, make_patient

DAY = dt.date(2024, 4, 1)


@pytest.mark.parametrize(
    "spelling",
    [
        "010-1234-5678",
        "01012345678",
        "010 1234 5678",
        "+82 10-1234-5678",
        "+821012345678",
        "(010) 1234-5678",
        "82-10-1234-5678",
    ],
)
def test_a_korean_mobile_in_any_common_spelling_is_stored_as_e164(spelling: str) -> None:
    assert normalise_phone(spelling) == "+821012345678"


@pytest.mark.parametrize("spelling", ["02-123-4567", "031-123-4567", "1234", "hello", ""])
def test_a_landline_or_nonsense_is_refused(spelling: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(spelling)


def test_registering_a_patient_books_the_enrolment_awards(session: Session) -> None:
    clinic = make_clinic(session)
    registered = make_patient(session, clinic, enrolled_on=DAY)
    assert [(a.beneficiary, a.rule, a.amount) for a in registered.awards] == [
        ("patient", "enrolment", 3_000),
        ("clinic", "enrolment", 10_000),
    ]
    assert balance(session, registered.patient.account_id) == 3_000
    assert balance(session, clinic.earned_account_id) == 10_000


def test_the_same_person_registered_twice_is_refused_with_the_existing_id(
    session: Session,
) -> None:
    clinic = make_clinic(session)
    first = make_patient(session, clinic, name="김민수", phone="010-5555-1234", enrolled_on=DAY)
    with pytest.raises(DuplicatePatient) as refused:
        make_patient(session, clinic, name="김민수", phone="+82 10 5555 1234", enrolled_on=DAY)
    assert refused.value.existing_id == first.patient.id


def test_a_clinic_outside_the_programme_cannot_be_registered(session: Session) -> None:
    with pytest.raises(NotParticipating):
        register_clinic(session, name="강남 의원", kind="chronic", district="11680")


def test_patients_do_not_register_at_an_ophthalmology_clinic(session: Session) -> None:
    eye = make_clinic(session, kind="ophthalmology")
    with pytest.raises(InvalidInput):
        make_patient(session, eye, enrolled_on=DAY)


def test_a_patient_who_leaves_forfeits_the_balance(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=DAY).patient
    leave_programme(session, patient_id=patient.id, status="moved", on=dt.date(2024, 4, 20))
    assert balance(session, patient.account_id) == 0
    assert patient.status == "moved" and patient.leaving_transaction_id is not None
    with pytest.raises(PatientNotActive):
        record_visit(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            visited_on=dt.date(2024, 4, 21),
            readings=Readings(),
            recorded_by="t",
            today=dt.date(2024, 4, 21),
        )


def test_the_clinic_award_goes_to_the_home_clinic_of_the_events_date(session: Session) -> None:
    old, new = make_clinic(session), make_clinic(session)
    patient = make_patient(session, old, enrolled_on=DAY).patient
    change_home_clinic(session, patient_id=patient.id, clinic_id=new.id, on=dt.date(2024, 4, 15))
    # a visit dated before the move, entered after it, earns for the old clinic
    record_visit(
        session,
        patient_id=patient.id,
        clinic_id=old.id,
        visited_on=dt.date(2024, 4, 10),
        readings=Readings(),
        recorded_by="t",
        today=dt.date(2024, 4, 20),
    )
    record_visit(
        session,
        patient_id=patient.id,
        clinic_id=new.id,
        visited_on=dt.date(2024, 5, 2),
        readings=Readings(),
        recorded_by="t",
        today=dt.date(2024, 5, 2),
    )
    assert balance(session, old.earned_account_id) == 10_000 + 2_000
    assert balance(session, new.earned_account_id) == 2_000


def test_education_for_a_condition_the_patient_does_not_have_earns_nothing(
    session: Session,
) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, conditions=("hypertension",), enrolled_on=DAY).patient
    edu = create_education_session(
        session, district="11740", held_on=DAY, condition="diabetes", title="당뇨 교실"
    )
    recorded = record_attendance(
        session, session_id=edu.id, patient_id=patient.id, recorded_by="t", today=DAY
    )
    assert [(a.beneficiary, a.amount, a.clipped, a.reason) for a in recorded.awards] == [
        ("patient", 0, 3_000, "not_eligible"),
        ("clinic", 0, 1_000, "not_eligible"),
    ]
    with pytest.raises(AlreadyAttended):
        record_attendance(
            session, session_id=edu.id, patient_id=patient.id, recorded_by="t", today=DAY
        )


def test_disease_control_needs_every_condition_at_target(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=DAY).patient

    def rules_awarded(day: dt.date, **readings) -> list[str]:
        recorded = record_visit(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            visited_on=day,
            readings=Readings(**readings),
            recorded_by="t",
            today=day,
        )
        return [a.rule for a in recorded.awards if a.beneficiary == "patient" and a.amount]

    assert rules_awarded(dt.date(2024, 4, 2), systolic=130, diastolic=85) == ["visit"]
    assert rules_awarded(dt.date(2024, 5, 2), systolic=130, fasting_glucose=110) == ["visit"]
    assert rules_awarded(dt.date(2024, 6, 2), systolic=130, diastolic=85, fasting_glucose=120) == [
        "visit",
        "control",
    ]


def test_a_clinic_that_left_records_no_more_visits(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=DAY).patient
    clinic_leaves(session, clinic_id=clinic.id, on=dt.date(2024, 4, 30))
    with pytest.raises(NotParticipating):
        record_visit(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            visited_on=dt.date(2024, 5, 2),
            readings=Readings(),
            recorded_by="t",
            today=dt.date(2024, 5, 2),
        )


def test_withdrawing_consent_is_recorded_with_who_and_when(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=DAY).patient
    update_patient(session, patient_id=patient.id, sms_consent=False, recorded_by="접수 김")
    assert patient.sms_consent is False and patient.consent_recorded_by == "접수 김"


def test_values_off_target_report_the_control_award_as_not_eligible(session: Session) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, conditions=("hypertension",), enrolled_on=DAY).patient
    recorded = record_visit(
        session,
        patient_id=patient.id,
        clinic_id=clinic.id,
        visited_on=DAY,
        readings=Readings(systolic=152, diastolic=94),
        recorded_by="t",
        today=DAY,
    )
    assert [(a.rule, a.amount, a.clipped, a.reason) for a in recorded.awards][-1] == (
        "control",
        0,
        2_000,
        "not_eligible",
    )
