"""The evaluator: each event turned into the booking the services would make.

The transfers come from :mod:`ledger.programme` under the year's rule set for the district,
exactly as live entry makes them, and are planned against the in-memory :class:`Books`; the
registry rows that refer to the transaction ride along with it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ledger.domain import Transfer
from ledger.programme import (
    AwardAccounts,
    Readings,
    education_transfers,
    enrolment_transfers,
    visit_transfers,
)
from ledger.records import (
    AttendanceRecord,
    EnrolmentRecord,
    Record,
    RedemptionRecord,
    Tag,
    VisitRecord,
)
from ledger.rules import RuleBook, RuleSet
from ledger.services.registry import CONSENT_WORDING
from ledger.simulation.books import Booking, Books
from ledger.simulation.bulk_ids import bulk_id
from ledger.simulation.events import CLASS, ENROL, EYE, TRIP, VISIT, Event
from ledger.simulation.model import FEES
from ledger.simulation.report import SimulationResult
from ledger.simulation.sql import ATTENDANCES, HOMES, PATIENTS, REDEMPTIONS, VISITS
from ledger.simulation.world import SimClinic, SimPatient, SimSession
from ledger.vocabulary import TransactionKind, TransferGroup

__all__ = ["RECORDED_BY", "Evaluator"]

RECORDED_BY = "mileage demo --scale seoul"


class Evaluator:
    """Turns each event into the booking the services would make, with the same rules."""

    def __init__(
        self,
        rng: random.Random,
        books: Books,
        rules: RuleBook,
        expense: dict[str, int],
        now: dt.datetime,
        through: dt.date,
    ) -> None:
        self.rng, self.books, self.rules, self.expense, self.now = rng, books, rules, expense, now
        self.through = through
        self._rule_sets: dict[tuple[int, str], RuleSet] = {}
        self.eyes: dict[str, list[SimClinic]] = defaultdict(list)

    def rule_set(self, day: dt.date, district: str) -> RuleSet:
        key = (day.year, district)
        if key not in self._rule_sets:
            self._rule_sets[key] = self.rules.for_event(day.year, district)
        return self._rule_sets[key]

    def evaluate(self, event: Event, result: SimulationResult) -> list[Booking]:
        patient = event.patient
        if patient is None:
            return []
        if event.kind == ENROL:
            result.patients += 1
            return [self._enrolment(patient, event.day)]
        if event.kind == VISIT:
            result.visits += 1
            visit = self._visit(patient, event.day, event.readings or Readings())
            spend = self._spend_at_visit(patient, event.day)
            return [visit, *spend]
        if event.kind == CLASS and event.session is not None:
            result.attendances += 1
            return [self._attendance(patient, event.session)]
        if event.kind == TRIP:
            purpose = "vaccination" if event.day.month >= 10 else "test"
            return self._spend(patient, patient.home_on(event.day), event.day, purpose)
        if event.kind == EYE:
            open_eyes = [c for c in self.eyes[patient.district] if c.open_on(event.day)]
            if open_eyes:
                return self._spend(patient, self.rng.choice(open_eyes), event.day, "eye_exam")
        return []

    def _accounts(self, patient: SimPatient, clinic: SimClinic) -> AwardAccounts:
        return AwardAccounts(self.expense[patient.district], patient.account, clinic.earned)

    def _booking(
        self,
        kind: TransactionKind,
        day: dt.date,
        district: str,
        transfers: Sequence[Transfer],
        record: Record,
    ) -> Booking:
        return Booking(kind, day, district, self.books.plan(transfers), record.to_meta())

    def _enrolment(self, patient: SimPatient, day: dt.date) -> Booking:
        clinic = patient.home_on(day)
        rules = self.rule_set(day, patient.district)
        booking = self._booking(
            TransactionKind.ENROLMENT,
            day,
            patient.district,
            enrolment_transfers(rules, day=day, accounts=self._accounts(patient, clinic)),
            EnrolmentRecord(patient=patient.id, clinic=clinic.id, rule_set=rules.label),
        )
        booking.rows.append(
            (PATIENTS, self._patient_row(patient, clinic), "enrolment_transaction_id")
        )
        booking.rows.append(
            (HOMES, {"patient_id": patient.id, "clinic_id": clinic.id, "from_date": day}, "")
        )
        return booking

    def _patient_row(self, patient: SimPatient, clinic: SimClinic) -> dict[str, Any]:
        return {
            "id": patient.id,
            "name": patient.name,
            "birth_date": patient.birth_date,
            "phone": patient.phone,
            "has_hypertension": "hypertension" in patient.conditions,
            "has_diabetes": "diabetes" in patient.conditions,
            "sms_consent": patient.sms_consent,
            "consent_changed_at": self.now,
            "consent_wording": CONSENT_WORDING,
            "consent_recorded_by": RECORDED_BY,
            "clinic_id": clinic.id,
            "district": patient.district,
            "enrolled_on": patient.enrolled_on,
            "status": "active",
            "left_on": None,
            "account_id": patient.account,
            "leaving_transaction_id": None,
            "created_at": self.now,
        }

    def _visit(self, patient: SimPatient, day: dt.date, readings: Readings) -> Booking:
        clinic = patient.home_on(day)
        rules = self.rule_set(day, patient.district)
        visit_id = bulk_id("vis")
        transfers = visit_transfers(
            rules,
            day=day,
            conditions=patient.conditions,
            readings=readings,
            accounts=self._accounts(patient, clinic),
        )
        record = VisitRecord(
            event_id=visit_id, patient=patient.id, clinic=clinic.id, rule_set=rules.label
        )
        booking = self._booking(TransactionKind.VISIT, day, patient.district, transfers, record)
        row = {
            "id": visit_id,
            "patient_id": patient.id,
            "clinic_id": clinic.id,
            "visited_on": day,
            "systolic": readings.systolic,
            "diastolic": readings.diastolic,
            "hba1c": readings.hba1c,
            "fasting_glucose": readings.fasting_glucose,
            "next_visit_on": None,
            "recorded_at": self.now,
            "recorded_by": RECORDED_BY,
        }
        booking.rows.append((VISITS, row, "transaction_id"))
        return booking

    def _attendance(self, patient: SimPatient, session: SimSession) -> Booking:
        day = session.held_on
        clinic = patient.home_on(day)
        rules = self.rule_set(day, patient.district)
        attendance_id = bulk_id("att")
        transfers = education_transfers(
            rules,
            day=day,
            condition=session.condition,
            conditions=patient.conditions,
            accounts=self._accounts(patient, clinic),
        )
        record = AttendanceRecord(
            event_id=attendance_id,
            session=session.id,
            patient=patient.id,
            clinic=clinic.id,
            rule_set=rules.label,
        )
        booking = self._booking(TransactionKind.EDUCATION, day, patient.district, transfers, record)
        row = {
            "id": attendance_id,
            "session_id": session.id,
            "patient_id": patient.id,
            "recorded_at": self.now,
            "recorded_by": RECORDED_BY,
        }
        booking.rows.append((ATTENDANCES, row, "transaction_id"))
        return booking

    def _spend_at_visit(self, patient: SimPatient, day: dt.date) -> list[Booking]:
        if not patient.spending or self.rng.random() >= patient.spending:
            return []
        roll = self.rng.random()
        purpose = "treatment" if roll < 0.7 else "test"
        if day.month >= 10 and roll >= 0.9:
            purpose = "vaccination"
        return self._spend(patient, patient.home_on(day), day, purpose)

    def _spend(
        self, patient: SimPatient, clinic: SimClinic, day: dt.date, purpose: str
    ) -> list[Booking]:
        """Part of a bill paid with mileage, when the balance and the rules allow it."""
        rules = self.rule_set(day, patient.district)
        balance = self.books.balance(patient.account)
        allowed = rules.spending.purposes.get(clinic.kind, [])  # type: ignore[call-overload]
        if balance < rules.spending.threshold or purpose not in allowed or not clinic.open_on(day):
            return []
        low, high = FEES[purpose]
        amount = min(balance, self.rng.randint(low // 100, high // 100) * 100)
        redemption_id = bulk_id("red")
        transfer = Transfer(
            patient.account,
            clinic.reimbursable,
            amount,
            min_debit_balance=rules.spending.threshold,
            tag=str(Tag(TransferGroup.SPENDING, purpose)),
        )
        record = RedemptionRecord(
            event_id=redemption_id, patient=patient.id, clinic=clinic.id, rule_set=rules.label
        )
        booking = self._booking(
            TransactionKind.REDEMPTION, day, clinic.district, [transfer], record
        )
        row = {
            "id": redemption_id,
            "patient_id": patient.id,
            "clinic_id": clinic.id,
            "amount": amount,
            "purpose": purpose,
            "spent_on": day,
            "recorded_at": self.now,
            "recorded_by": RECORDED_BY,
        }
        booking.rows.append((REDEMPTIONS, row, "transaction_id"))
        return [booking]
