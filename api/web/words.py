"""The programme's words as the console says them in Korean: what a ledger line was (진료,
교육 참석, 등록, 조절 달성, 사용, 취소, ...) and what mileage paid for. Registered as the
Jinja filters ``entry_words`` and ``kind_words`` by ``api.web.render``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ledger.vocabulary import Purpose, TransactionKind

__all__ = [
    "KIND_WORDS",
    "PURPOSE_WORDS",
    "RULE_WORDS",
    "entry_words",
    "kind_words",
    "undone_words",
]

KIND_WORDS: dict[str, str] = {
    TransactionKind.ENROLMENT: "등록",
    TransactionKind.VISIT: "진료",
    TransactionKind.EDUCATION: "교육 참석",
    TransactionKind.REDEMPTION: "사용",
    TransactionKind.FORFEITURE: "소멸 (프로그램 종료)",
    TransactionKind.MIGRATION: "이전 시스템에서 이월",
    TransactionKind.SETTLEMENT: "정산",
    TransactionKind.PAYMENT: "지급",
    TransactionKind.REVERSAL: "취소",
}
# The awards' rules, as a transfer's tag names them (``patient:control``).
RULE_WORDS: dict[str, str] = {
    "enrolment": "등록",
    "visit": "진료",
    "control": "조절 달성",
    "education": "교육 참석",
    "forfeiture": "소멸 (프로그램 종료)",
}
PURPOSE_WORDS: dict[str, str] = {
    Purpose.TREATMENT: "진료비",
    Purpose.TEST: "검사비",
    Purpose.VACCINATION: "예방접종",
    Purpose.EYE_EXAM: "안과 검진",
}


class Described(Protocol):
    """A statement line, as far as its words go."""

    @property
    def kind(self) -> str: ...
    @property
    def rule(self) -> str | None: ...
    @property
    def purpose(self) -> str | None: ...
    @property
    def reverses(self) -> int | None: ...
    @property
    def transaction_id(self) -> int: ...


def entry_words(line: Described) -> str:
    """What a line was, in Korean: ``진료``, ``사용 (검사비)``, ``취소`` ..."""
    if line.reverses is not None:
        return KIND_WORDS[TransactionKind.REVERSAL]
    if line.purpose is not None:
        purpose = PURPOSE_WORDS.get(line.purpose, line.purpose)
        return f"{KIND_WORDS[TransactionKind.REDEMPTION]} ({purpose})"
    if line.rule is not None and line.rule in RULE_WORDS:
        return RULE_WORDS[line.rule]
    return kind_words(line.kind)


def kind_words(kind: str) -> str:
    """What a transaction of ``kind`` was, in Korean."""
    return KIND_WORDS.get(kind, kind)


def undone_words(lines: Iterable[Described]) -> dict[int, str]:
    """What each transaction among ``lines`` was (``진료, 조절 달성``), for the line of the
    void that undoes it: ``취소 (진료, 조절 달성)``."""
    found: dict[int, list[str]] = {}
    for line in lines:
        found.setdefault(line.transaction_id, []).append(entry_words(line))
    return {transaction: ", ".join(words) for transaction, words in found.items()}
