"""Spending: a patient pays part of a clinic bill with mileage; the programme owes the clinic.

Where the patient may spend is checked first (a clinic outside it learns nothing more about
the patient), then that the patient is still in the programme. The threshold, the purposes
a clinic's kind offers and the balance are checked, and the spend booked, in one
transaction: the ledger checks the balance and the threshold under the patient's
balance-row lock, so two clinics spending one balance at once cannot overdraw it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger import clock
from ledger.domain import Transfer
from ledger.errors import (
    BalanceBelowThreshold,
    BelowThreshold,
    InsufficientBalance,
    InsufficientFunds,
    InvalidInput,
    NoRuleSet,
    OutOfDistrict,
    PurposeNotAllowed,
)
from ledger.ids import new_id
from ledger.models import Clinic, Patient, Redemption
from ledger.records import RedemptionRecord, Tag
from ledger.rules import RuleBook
from ledger.services.booking import book
from ledger.services.clinics import ensure_participating, get_clinic
from ledger.services.events import check_event_date, rules_for
from ledger.services.periods import period_for
from ledger.services.reading import balance
from ledger.services.registry import ensure_active, get_patient
from ledger.vocabulary import ClinicKind, Purpose, TransactionKind, TransferGroup, values

__all__ = ["Spent", "check_may_spend", "may_spend_at", "redeem"]


@dataclass(frozen=True)
class Spent:
    redemption: Redemption
    balance: int


def may_spend_at(patient: Patient, clinic: Clinic, day: dt.date) -> bool:
    """Whether the rules of ``day`` let the patient spend at ``clinic``."""
    until = clinic.participating_until
    if day < clinic.participating_since or (until is not None and day > until):
        return False
    scope = rules_for(None, day, patient.district).spending.scope
    return scope == "city" or clinic.district == patient.district


def check_may_spend(
    patient: Patient, clinic: Clinic, day: dt.date, *, rules: RuleBook | None = None
) -> None:
    """Refuse a clinic outside the patient's spending scope on ``day``.

    Checked before anything else about the spend, and said without a word about the patient
    (not their district, not their dates): a clinic anywhere can send a patient id. A day
    no rule set covers confines spending to the district, the narrowest scope.
    """
    try:
        scope = rules_for(rules, day, patient.district).spending.scope
    except NoRuleSet:
        scope = "district"
    if scope == "district" and clinic.district != patient.district:
        raise OutOfDistrict(
            "this patient's mileage cannot be spent at this clinic: the rules confine "
            "spending to the patient's own district",
            field="clinic",
        )


def redeem(
    session: Session,
    *,
    patient_id: str,
    clinic_id: str,
    amount: int,
    purpose: str,
    spent_on: dt.date,
    recorded_by: str,
    today: dt.date | None = None,
    rules: RuleBook | None = None,
) -> Spent:
    """Spend ``amount`` M of the patient's balance at ``clinic_id`` for ``purpose``."""
    today = today or clock.today()
    # The patient row's lock serialises the spend with the patient leaving the programme.
    patient = get_patient(session, patient_id, for_update=True)
    clinic = get_clinic(session, clinic_id)
    check_may_spend(patient, clinic, spent_on, rules=rules)
    if amount <= 0:
        raise InvalidInput("the amount is a positive number of M", field="amount")
    if purpose not in values(Purpose):
        raise InvalidInput(f"purpose is one of {', '.join(Purpose)}", field="purpose")
    ensure_active(patient)
    ruleset = rules_for(rules, spent_on, patient.district)
    check_event_date(spent_on, enrolled_on=patient.enrolled_on, rules=ruleset, today=today)
    ensure_participating(clinic, spent_on)
    allowed = ruleset.spending.purposes.get(clinic.kind, [])  # type: ignore[call-overload]
    if purpose not in allowed:
        kind = (
            "an ophthalmology" if clinic.kind == ClinicKind.OPHTHALMOLOGY else "a chronic-disease"
        )
        raise PurposeNotAllowed(
            f"{purpose} is not paid with mileage at {kind} clinic "
            f"(allowed there: {', '.join(allowed) or 'nothing'})",
            field="purpose",
        )
    redemption_id = new_id("red")
    with _told_as_the_patients_balance():
        booked = book(
            session,
            kind=TransactionKind.REDEMPTION,
            effective_date=spent_on,
            transfers=[
                Transfer(
                    patient.account_id,
                    clinic.reimbursable_account_id,
                    amount,
                    min_debit_balance=ruleset.spending.threshold,
                    tag=str(Tag(TransferGroup.SPENDING, purpose)),
                )
            ],
            district=clinic.district,
            period=period_for(session, clinic.district, spent_on),
            record=RedemptionRecord(
                event_id=redemption_id,
                patient=patient.id,
                clinic=clinic.id,
                rule_set=ruleset.label,
            ),
        )
    redemption = Redemption(
        id=redemption_id,
        patient_id=patient.id,
        clinic_id=clinic.id,
        amount=amount,
        purpose=purpose,
        spent_on=spent_on,
        transaction_id=booked.transaction_id,
        recorded_by=recorded_by,
    )
    session.add(redemption)
    session.flush()
    return Spent(redemption, balance(session, patient.account_id))


@contextmanager
def _told_as_the_patients_balance() -> Iterator[None]:
    """The ledger's refusals name its internal accounts: tell them to the clinic as the
    patient's balance instead."""
    try:
        yield
    except BelowThreshold as short:
        raise BalanceBelowThreshold(short.balance, short.threshold) from None
    except InsufficientFunds as short:
        raise InsufficientBalance(short.balance, short.requested) from None
