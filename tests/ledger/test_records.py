"""What a transaction records about its event is typed, and the types read the JSON the
ledger already holds: rows booked before the types existed, and rows booked now."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Transaction
from ledger.programme import Readings
from ledger.records import (
    AttendanceRecord,
    EnrolmentRecord,
    LeavingRecord,
    MigrationRecord,
    PaymentRecord,
    Record,
    RedemptionRecord,
    ReversalRecord,
    SettlementRecord,
    Tag,
    VisitRecord,
    read_record,
)
from ledger.services.booking import reverse
from ledger.services.earning import create_education_session, record_attendance, record_visit
from ledger.services.registry import leave_programme
from ledger.services.spending import redeem
from tests.factories import make_clinic, make_patient

# The meta of each kind of transaction exactly as the code before the types wrote it.
WRITTEN_BEFORE: list[tuple[dict[str, Any], type[Record]]] = [
    (
        {"event": "enrolment", "patient": "pat_1", "clinic": "cln_1", "rule_set": "2024"},
        EnrolmentRecord,
    ),
    (
        {
            "event": "visit",
            "event_id": "vis_1",
            "patient": "pat_1",
            "clinic": "cln_1",
            "rule_set": "2016-11740",
        },
        VisitRecord,
    ),
    (
        {
            "event": "education",
            "event_id": "att_1",
            "session": "edu_1",
            "patient": "pat_1",
            "clinic": "cln_1",
            "rule_set": "2024",
        },
        AttendanceRecord,
    ),
    (
        {
            "event": "redemption",
            "event_id": "red_1",
            "patient": "pat_1",
            "clinic": "cln_2",
            "rule_set": "2024",
        },
        RedemptionRecord,
    ),
    (
        {"event": "leaving", "patient": "pat_1", "status": "deceased", "rule_set": "2024"},
        LeavingRecord,
    ),
    (
        {
            "event": "migration",
            "patient": "pat_1",
            "legacy_id": "B-7",
            "recorded": 12000,
            "replayed": 11500,
            "replayed_events": True,
        },
        MigrationRecord,
    ),
    ({"event": "settlement", "settlement": "stl_1", "total": 840000}, SettlementRecord),
    (
        {"event": "payment", "settlement": "stl_1", "clinic": "cln_1", "reference": "KB-1"},
        PaymentRecord,
    ),
    ({"by": "key_1"}, ReversalRecord),
    ({"voided_by_clinic": "cln_1"}, ReversalRecord),
]


@pytest.mark.parametrize(("meta", "kind"), WRITTEN_BEFORE, ids=lambda v: str(v)[:30])
def test_a_record_written_before_the_types_reads_back_whole(
    meta: dict[str, Any], kind: type[Record]
) -> None:
    record = read_record(meta)
    assert type(record) is kind
    assert record.to_meta() == meta


def test_the_patient_and_clinic_of_an_event_are_read_by_name() -> None:
    visit = read_record(WRITTEN_BEFORE[1][0])
    assert (visit.patient, visit.clinic) == ("pat_1", "cln_1")
    assert read_record({"voided_by_clinic": "cln_1"}).patient is None


def test_an_event_of_a_kind_not_known_here_still_reads_its_patient() -> None:
    record = read_record({"event": "future_kind", "patient": "pat_9", "extra": 1})
    assert record.patient == "pat_9"


def test_tags_name_a_group_and_a_name() -> None:
    assert Tag.parse("patient:visit") == Tag("patient", "visit")
    assert str(Tag("spending", "eye_exam")) == "spending:eye_exam"
    assert Tag.parse("settlement:cln_1:x") == Tag("settlement", "cln_1:x")


def test_every_transaction_booked_now_reads_back_as_it_was_written(session: Session) -> None:
    day = dt.date(2024, 3, 4)
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, enrolled_on=day).patient
    visit = record_visit(
        session,
        patient_id=patient.id,
        clinic_id=clinic.id,
        visited_on=day,
        readings=Readings(systolic=120, diastolic=75),
        recorded_by="test",
        today=day,
    )
    education = create_education_session(
        session, district=clinic.district, held_on=day, condition="diabetes", title="교육"
    )
    record_attendance(
        session, session_id=education.id, patient_id=patient.id, recorded_by="test", today=day
    )
    redeem(
        session,
        patient_id=patient.id,
        clinic_id=clinic.id,
        amount=3000,
        purpose="test",
        spent_on=day,
        recorded_by="test",
        today=day,
    )
    reverse(session, transaction_id=visit.transaction_id, reason="test", effective_date=day)
    leave_programme(session, patient_id=patient.id, status="withdrawn", on=day)
    rows = session.execute(select(Transaction).order_by(Transaction.id)).scalars().all()
    kinds = set()
    for row in rows:
        meta = row.details["meta"]
        record = read_record(meta)
        assert record.to_meta() == meta
        kinds.add(type(record))
    assert {EnrolmentRecord, VisitRecord, AttendanceRecord, RedemptionRecord} <= kinds
    assert {ReversalRecord, LeavingRecord} <= kinds
