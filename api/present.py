"""Turning what the actions return into response bodies: one function per shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from actions.erasure import Erased
from actions.patients import PatientView, Registered
from actions.spending import Undone
from api import schemas
from ledger.programme import Award
from ledger.services.earning import Recorded
from ledger.services.reports import FiledTable, Row
from ledger.services.settlement import SettlementView
from ledger.services.spending import Spent
from ledger.services.statements import ClinicStatement, Line, PatientStatement
from ledger.vocabulary import Beneficiary, MessageKind, MessageStatus, SettlementStatus

if TYPE_CHECKING:
    from ledger import models
    from notifications.recalls import MessageReport

__all__ = [
    "annual_row",
    "audit_entry",
    "awards",
    "clinic",
    "clinic_report_row",
    "clinic_statement",
    "district_row",
    "education_session",
    "erasure",
    "filed_annual",
    "key",
    "lines",
    "message",
    "message_report",
    "messaging_state",
    "no_send_day",
    "patient",
    "patient_statement",
    "recorded",
    "redemption",
    "registered",
    "reversal",
    "settlement",
]


def clinic(row: models.Clinic) -> schemas.Clinic:
    return schemas.Clinic(
        id=row.id,
        name=row.name,
        kind=row.kind,
        district=row.district,
        participating_since=row.participating_since,
        participating_until=row.participating_until,
    )


def patient(view: PatientView) -> schemas.Patient:
    row, summary = view.patient, view.summary
    return schemas.Patient(
        id=row.id,
        clinic_id=row.clinic_id,
        district=row.district,
        name=row.name,
        birth_date=row.birth_date,
        phone=row.phone,
        conditions=row.conditions,
        sms_consent=row.sms_consent,
        status=row.status,
        enrolled_on=row.enrolled_on,
        left_on=row.left_on,
        balance=summary.balance,
        earned_this_year=summary.earned_this_year,
        cap_remaining=summary.cap_remaining,
        erased=row.erased,
    )


def erasure(done: Erased) -> schemas.Erasure:
    record, row = done.erasure, done.patient
    return schemas.Erasure(
        id=record.id,
        patient_id=row.id,
        erased_at=record.erased_at,
        erased_by=record.erased_by,
        reason=record.reason,
        status=row.status,
        left_on=row.left_on,
        leaving_transaction_id=(
            None if row.leaving_transaction_id is None else str(row.leaving_transaction_id)
        ),
    )


def registered(view: Registered) -> schemas.PatientCreated:
    return schemas.PatientCreated(
        **patient(view).model_dump(),
        transaction_id=str(view.transaction_id),
        awards=awards(view.awards),
    )


def awards(items: Iterable[Award]) -> list[schemas.Award]:
    return [
        schemas.Award(
            beneficiary=Beneficiary(a.beneficiary),
            rule=a.rule,
            amount=a.amount,
            clipped=a.clipped,
            reason=a.reason,
        )
        for a in items
    ]


def recorded(event: Recorded) -> schemas.VisitRecorded:
    """A recorded visit or attendance (the two bodies have the same fields)."""
    return schemas.VisitRecorded(
        id=event.id,
        transaction_id=str(event.transaction_id),
        awards=awards(event.awards),
        balance=event.balance,
    )


def education_session(row: models.EducationSession) -> schemas.EducationSession:
    return schemas.EducationSession(
        id=row.id,
        district=row.district,
        clinic_id=row.clinic_id,
        held_on=row.held_on,
        condition=row.condition,
        title=row.title,
    )


def redemption(spent: Spent) -> schemas.Redemption:
    row = spent.redemption
    return schemas.Redemption(
        id=row.id,
        transaction_id=str(row.transaction_id),
        patient_id=row.patient_id,
        clinic_id=row.clinic_id,
        amount=row.amount,
        purpose=row.purpose,
        spent_on=row.spent_on,
        balance=spent.balance,
    )


def reversal(undone: Undone) -> schemas.Reversal:
    return schemas.Reversal(
        transaction_id=str(undone.transaction_id),
        reverses=str(undone.reverses),
        reason=undone.reason,
        effective_date=undone.effective_date,
    )


def lines(items: Iterable[Line]) -> list[schemas.StatementLine]:
    return [
        schemas.StatementLine(
            date=line.date,
            transaction_id=str(line.transaction_id),
            kind=line.kind,
            rule=line.rule,
            purpose=line.purpose,
            amount=line.amount,
            balance=line.balance,
            account=line.account,  # type: ignore[arg-type]
            reverses=None if line.reverses is None else str(line.reverses),
        )
        for line in items
    ]


def patient_statement(
    patient_id: str, year: int, found: PatientStatement
) -> schemas.PatientStatement:
    return schemas.PatientStatement(
        patient_id=patient_id,
        year=year,
        opening_balance=found.opening_balance,
        entries=lines(found.lines),
        closing_balance=found.closing_balance,
    )


def clinic_statement(clinic_id: str, found: ClinicStatement) -> schemas.ClinicStatement:
    return schemas.ClinicStatement(
        clinic_id=clinic_id,
        year=found.year,
        quarter=found.quarter,
        entries=lines(found.lines),
        earned=found.earned,
        reimbursed=found.reimbursed,
        total=found.earned + found.reimbursed,
    )


def settlement(view: SettlementView) -> schemas.Settlement:
    row = view.settlement
    draft = row.status == SettlementStatus.DRAFT
    return schemas.Settlement(
        id=row.id,
        district=row.district,
        year=row.year,
        quarter=row.quarter,
        status=SettlementStatus(row.status),
        lines=[
            schemas.SettlementLine(
                clinic_id=line.clinic_id,
                clinic_name=line.clinic_name,
                earned=line.earned,
                reimbursed=line.reimbursed,
                corrections=line.corrections,
                payout=line.payout,
                status="draft" if draft else ("paid" if line.paid_on else "payable"),
                paid_on=line.paid_on,
                payment_reference=line.payment_reference,
            )
            for line in view.lines
        ],
        total=view.total,
        computed_at=view.computed_at,
        closed_at=row.closed_at,
        transaction_id=None if row.transaction_id is None else str(row.transaction_id),
    )


def key(row: models.ApiKey) -> schemas.Key:
    return schemas.Key(
        id=row.id,
        role=row.role,
        district=row.district,
        clinic_id=row.clinic_id,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def audit_entry(row: models.AuditEvent) -> schemas.AuditEntry:
    return schemas.AuditEntry(
        at=row.at,
        key_id=row.key_id,
        label=row.label,
        role=row.role,
        action=row.action,
        resource=row.resource,
        patient_id=row.patient_id,
        client=row.client,
        request_id=row.request_id,
        outcome=row.outcome,
        subject_hash=row.subject_hash,
    )


def message(row: models.Message) -> schemas.MessageOut:
    """A text as its patient's clinic sees it; one being handed to the channel is queued."""
    status = MessageStatus.QUEUED if row.status == MessageStatus.SENDING else row.status
    return schemas.MessageOut(
        id=row.id,
        kind=MessageKind(row.kind),
        scheduled_for=row.not_before,
        status=status,  # type: ignore[arg-type]
        body=row.body,
        due_date=row.due_date,
        sent_at=row.sent_at,
        reason=row.closed_reason,
    )


def messaging_state(row: models.DistrictMessaging) -> schemas.MessagingState:
    return schemas.MessagingState(
        district=row.district,
        paused=row.paused,
        reason=row.reason,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
    )


def no_send_day(row: models.NoSendDay) -> schemas.NoSendDayOut:
    return schemas.NoSendDayOut(district=row.district, day=row.day, reason=row.reason)


def message_report(found: MessageReport, start: dt.date, end: dt.date) -> schemas.MessageReport:
    return schemas.MessageReport(start=start, end=end, **vars(found))


def district_row(row: Row) -> schemas.DistrictReportRow:
    y, c = row.year, row.cumulative
    return schemas.DistrictReportRow(
        district=row.key,
        name=row.name,
        clinics_chronic=row.clinics_chronic,
        clinics_ophthalmology=row.clinics_ophthalmology,
        registered=y.registered,
        visits=y.visits,
        education=y.education,
        accrued=y.accrued,
        used=y.used,
        usage_rate=float(y.usage_rate),
        clinic_earned=y.clinic_earned,
        cumulative_registered=c.registered,
        cumulative_visits=c.visits,
        cumulative_education=c.education,
        cumulative_accrued=c.accrued,
        cumulative_used=c.used,
        cumulative_usage_rate=float(c.usage_rate),
        cumulative_clinic_earned=c.clinic_earned,
    )


def clinic_report_row(r: Row) -> schemas.ClinicReportRow:
    return schemas.ClinicReportRow(
        clinic_id=r.key,
        name=r.name,
        registered=r.year.registered,
        visits=r.year.visits,
        education=r.year.education,
        used=r.year.used,
        clinic_earned=r.year.clinic_earned,
        cumulative_registered=r.cumulative.registered,
        cumulative_visits=r.cumulative.visits,
        cumulative_education=r.cumulative.education,
        cumulative_used=r.cumulative.used,
        cumulative_clinic_earned=r.cumulative.clinic_earned,
    )


def filed_annual(table: FiledTable) -> schemas.FiledAnnualReport:
    return schemas.FiledAnnualReport(
        through=table.through,
        filed_at=table.filed_at,
        filed_by=table.filed_by,
        items=[
            schemas.FiledAnnualReportRow(
                **annual_row(line.filed.year, line.filed.districts, line.filed.row).model_dump(),
                corrections=schemas.AnnualCorrections(**line.corrections),
            )
            for line in table.lines
        ],
    )


def annual_row(year: int, districts: int, row: Row) -> schemas.AnnualReportRow:
    return schemas.AnnualReportRow(
        year=year,
        districts=districts,
        clinics=row.clinics_chronic + row.clinics_ophthalmology,
        clinics_chronic=row.clinics_chronic,
        clinics_ophthalmology=row.clinics_ophthalmology,
        registered=row.cumulative.registered,
        visits=row.cumulative.visits,
        education=row.cumulative.education,
        accrued=row.cumulative.accrued,
        used=row.cumulative.used,
        usage_rate=float(row.cumulative.usage_rate),
        year_usage_rate=float(row.year.usage_rate),
    )
