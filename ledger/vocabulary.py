"""The programme's words, typed once: roles, kinds, statuses and purposes.

The models build their CHECK constraints from these, the HTTP schemas accept and show them,
and the services compare against them, so a word is spelled in one place. Each is a
``StrEnum``: a member equals its text, so rows read back as plain strings compare equal.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CORRECTABLE_KINDS",
    "LEAVING_STATUSES",
    "Beneficiary",
    "ClinicKind",
    "Condition",
    "EventKind",
    "ImportKind",
    "LookupOutcome",
    "MessageKind",
    "MessageStatus",
    "PatientStatus",
    "Purpose",
    "Role",
    "SettlementStatus",
    "TransactionKind",
    "TransferGroup",
    "values",
]


class Role(StrEnum):
    """Who a caller is: the city sees everything, a health centre its district, a clinic
    itself and its patients."""

    CITY = "city"
    HEALTH_CENTER = "health_center"
    CLINIC = "clinic"


class ClinicKind(StrEnum):
    CHRONIC = "chronic"  # 만성질환 의원: patients register and are treated here
    OPHTHALMOLOGY = "ophthalmology"  # 안과: eye exams for diabetic patients


class Condition(StrEnum):
    HYPERTENSION = "hypertension"
    DIABETES = "diabetes"


class PatientStatus(StrEnum):
    ACTIVE = "active"
    MOVED = "moved"
    WITHDRAWN = "withdrawn"
    DECEASED = "deceased"


LEAVING_STATUSES = (PatientStatus.MOVED, PatientStatus.WITHDRAWN, PatientStatus.DECEASED)


class Purpose(StrEnum):
    """What mileage pays for at a clinic."""

    TREATMENT = "treatment"
    TEST = "test"
    VACCINATION = "vaccination"
    EYE_EXAM = "eye_exam"


class TransactionKind(StrEnum):
    """What a ledger transaction is; stored on its header."""

    ENROLMENT = "enrolment"
    VISIT = "visit"
    EDUCATION = "education"
    REDEMPTION = "redemption"
    FORFEITURE = "forfeiture"
    MIGRATION = "migration"
    SETTLEMENT = "settlement"
    PAYMENT = "payment"
    REVERSAL = "reversal"


# The only kinds a reversal (a health centre's, the city's) or a void (a clinic's own entry)
# may undo: the programme's events, which a person can record by mistake. A settlement's
# payout, a payment, a forfeiture and a migration are the ledger's own consequences, each
# corrected by its own explicit operation if at all (reversing a payout would pay its closed
# quarter twice); a reversal is undone by booking the event again. The database refuses the
# others too (migration ``0007_identity``, trigger ``transactions_correctable``).
CORRECTABLE_KINDS = (
    TransactionKind.ENROLMENT,
    TransactionKind.VISIT,
    TransactionKind.EDUCATION,
    TransactionKind.REDEMPTION,
)


class EventKind(StrEnum):
    """The programme event a transaction books (its record's ``event``)."""

    ENROLMENT = "enrolment"
    VISIT = "visit"
    EDUCATION = "education"
    REDEMPTION = "redemption"
    LEAVING = "leaving"
    MIGRATION = "migration"
    SETTLEMENT = "settlement"
    PAYMENT = "payment"


class Beneficiary(StrEnum):
    """Who an award credits: the first word of an award's transfer tag (``patient:visit``)."""

    PATIENT = "patient"
    CLINIC = "clinic"


class TransferGroup(StrEnum):
    """The first word of the other transfers' tags: ``spending:<purpose>``,
    ``settlement:<clinic>``, ``payment:<clinic>``."""

    SPENDING = "spending"
    SETTLEMENT = "settlement"
    PAYMENT = "payment"


class SettlementStatus(StrEnum):
    DRAFT = "draft"
    CLOSED = "closed"


class MessageKind(StrEnum):
    REMINDER = "reminder"  # before a booked follow-up
    RECALL = "recall"  # after a missed one, or a long gap


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # handed to the channel; reconciled with it after a crash
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"  # its moment passed: never sent stale


class ImportKind(StrEnum):
    """The previous system's record kinds, each imported once per legacy id."""

    CLINIC = "clinic"
    PATIENT = "patient"
    VISIT = "visit"
    EDUCATION = "education"
    SESSION = "session"
    BALANCE = "balance"


class LookupOutcome(StrEnum):
    """What a look-up by name, birth date and phone came to, as its audit row records it."""

    FOUND = "found"
    NOT_FOUND = "not_found"  # nobody, or nobody the caller may find: the same answer
    RATE_LIMITED = "rate_limited"
    INVALID = "invalid"  # a name or phone that cannot be read: no one was searched for


def values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    """The words of a vocabulary as plain text, in declaration order (for CHECK constraints)."""
    return tuple(member.value for member in vocabulary)
