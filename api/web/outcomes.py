"""What a booking at the desk came to, in plain Korean: each award credited or withheld and
why, a payment and the balance after it.

An outcome is kept with the form's one-time token (``api.web.forms.once``) as the facts the
action returned (rules, amounts, reasons; nothing personal), so a repeat of the form and the
page it redirects to show the first booking's result; the words are made here, when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actions.patients import Registered
from api.web.formats import mileage
from ledger.programme import Award
from ledger.services.earning import Recorded
from ledger.services.spending import Spent
from ledger.services.statements import Line

__all__ = [
    "PURPOSES",
    "Said",
    "award_line",
    "described",
    "entry_text",
    "of_payment",
    "of_recorded",
    "of_registration",
]

KINDS = {
    "registration": "환자 등록",
    "visit": "진료 기록",
    "attendance": "교육 참석 기록",
    "payment": "마일리지 사용",
}
RULES = {
    "enrolment": "등록",
    "visit": "진료",
    "control": "혈압·혈당 조절",
    "education": "건강 교육",
}
WHO = {"patient": "환자", "clinic": "의원"}
PURPOSES = {
    "treatment": "진료비",
    "test": "검사비",
    "vaccination": "예방접종",
    "eye_exam": "안과 검진",
}
REASONS = {
    "monthly_limit": "이번 달 {rule} 마일리지는 이미 적립되었습니다.",
    "half_year_limit": "{rule} 마일리지는 반기에 한 번이며, 이번 반기에는 이미 적립되었습니다.",
    "annual_cap": "올해 적립 한도를 다 채웠습니다.",
    "rule_cap": "올해 {rule} 마일리지 한도를 다 채웠습니다.",
    "condition_limit": "이 질환의 {rule} 마일리지는 올해 이미 적립되었습니다.",
    "once_only": "{rule} 마일리지는 한 사람에게 한 번만 적립됩니다.",
}
NOT_ELIGIBLE = {
    "control": "혈압·혈당이 목표 범위 안에 들지 않았습니다.",
    "education": "환자의 질환과 다른 교육입니다.",
}


@dataclass(frozen=True)
class Said:
    """One line of an outcome: its words, and whether it credits something."""

    text: str
    credited: bool


ENTRY_KINDS = {
    "redemption": "사용",
    "reversal": "취소",
    "forfeiture": "소멸",
    "migration": "이관",
    "settlement": "정산",
    "payment": "지급",
}


def entry_text(line: Line) -> str:
    """A statement line in words: ``진료 적립``, ``진료비 사용``, ``취소``."""
    if line.reverses is not None or line.kind == "reversal":
        return "취소 (잘못 기록된 항목)"
    if line.purpose:
        return f"{PURPOSES.get(line.purpose, line.purpose)} 사용"
    if line.rule:
        return f"{RULES.get(line.rule, line.rule)} 적립"
    return ENTRY_KINDS.get(line.kind, line.kind)


def _reason(reason: str | None, rule: str) -> str:
    name = RULES.get(rule, rule)
    if reason == "not_eligible":
        return NOT_ELIGIBLE.get(rule, f"{name} 마일리지를 받을 조건이 아닙니다.")
    return REASONS.get(reason or "", "적립 조건에 맞지 않습니다.").format(rule=name)


def award_line(award: dict[str, Any]) -> Said:
    """``환자 진료 마일리지 1,000 M 적립``, or why none (or not all) of it was credited."""
    rule, amount, clipped = award["rule"], award["amount"], award["clipped"]
    what = f"{WHO.get(award['beneficiary'], '')} {RULES.get(rule, rule)} 마일리지"
    why = _reason(award.get("reason"), rule)
    if amount > 0 and clipped > 0:
        return Said(f"{what} {mileage(amount)} 적립 ({mileage(clipped)}은 적립 안 됨: {why})", True)
    if amount > 0:
        return Said(f"{what} {mileage(amount)} 적립", True)
    return Said(f"{what} 적립 안 됨: {why}", False)


def _awards(awards: list[Award]) -> list[dict[str, Any]]:
    return [
        {
            "beneficiary": a.beneficiary,
            "rule": a.rule,
            "amount": a.amount,
            "clipped": a.clipped,
            "reason": a.reason,
        }
        for a in awards
    ]


def of_registration(done: Registered) -> dict[str, Any]:
    return {
        "kind": "registration",
        "patient": done.patient.id,
        "transaction_id": str(done.transaction_id),
        "awards": _awards(done.awards),
        "balance": done.summary.balance,
    }


def of_recorded(kind: str, patient_id: str, done: Recorded) -> dict[str, Any]:
    return {
        "kind": kind,
        "patient": patient_id,
        "transaction_id": str(done.transaction_id),
        "awards": _awards(done.awards),
        "balance": done.balance,
    }


def of_payment(done: Spent) -> dict[str, Any]:
    row = done.redemption
    return {
        "kind": "payment",
        "patient": row.patient_id,
        "transaction_id": str(row.transaction_id),
        "amount": row.amount,
        "purpose": row.purpose,
        "balance": done.balance,
    }


def described(outcome: dict[str, Any]) -> dict[str, Any]:
    """An outcome as the patient's page shows it: a title, its lines, the balance after."""
    lines = [award_line(a) for a in outcome.get("awards", [])]
    if outcome["kind"] == "payment":
        purpose = PURPOSES.get(outcome["purpose"], outcome["purpose"])
        lines.append(Said(f"{mileage(outcome['amount'])} 사용 (용도: {purpose})", True))
    return {
        "title": f"{KINDS[outcome['kind']]}이 끝났습니다",
        "lines": lines,
        "balance": outcome["balance"],
        "transaction_id": outcome["transaction_id"],
        "kind": outcome["kind"],
    }
