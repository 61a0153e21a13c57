"""Every condition the ledger refuses, as one tree rooted at :class:`LedgerError`.

    LedgerError
    ├── UnbalancedTransaction   legs that do not sum to zero
    ├── InsufficientFunds       a debit that would take an account below zero
    │   └── InsufficientBalance     a patient spending more than their balance
    ├── BelowThreshold          a debit from an account whose balance is under the minimum
    │   └── BalanceBelowThreshold   a patient spending while under the minimum
    ├── RuleSetError            a rule set file that cannot be read or does not fit the schema
    ├── BackupFailed            a backup or restore that cannot be made
    ├── NoRuleSet               no rule set for an event's year and district
    ├── Forbidden               an action the caller's role may not take
    ├── RateLimited             more of an action than the caller's rate allows
    ├── SignInFailed            a login and password that do not open a live staff account
    ├── NotFound                a record that does not exist (or is outside the caller's scope)
    │   ├── UnknownAccount      an account id or code
    │   ├── UnknownTransaction  a transaction id
    │   └── UnknownDistrict, UnknownClinic, UnknownPatient, UnknownSession
    ├── InvalidInput            a value the programme cannot take
    │   ├── InvalidPhone        not a Korean mobile number
    │   ├── FutureDate          an event dated after today (Asia/Seoul)
    │   ├── LateEntry           an event older than the late-entry window
    │   ├── BeforeEnrolment     an event dated before the patient's enrolment
    │   ├── NotParticipating    a clinic or district outside the programme on that date
    │   ├── PurposeNotAllowed   a spending purpose the clinic's kind does not offer
    │   └── OutOfDistrict       spending outside where the rules let the patient spend
    └── Conflict                a request that clashes with what is recorded
        ├── AlreadyReversed     a second reversal of one transaction
        ├── NotReversible       a reversal of a reversal
        │   └── NotCorrectable  a payout, payment, forfeiture or migration reversed
        ├── DuplicatePatient    the same person registered twice
        ├── AlreadyAttended     the same patient twice at one session
        ├── LoginTaken          a staff login that another account already has
        ├── PatientNotActive    an event for a patient who left the programme
        ├── PatientErased       a change to (or a second erasure of) an erased patient
        ├── ImportConflict      an imported legacy id seen before with other content
        ├── QuarterNotEnded     closing a quarter before its end
        ├── EarlierQuarterOpen  closing a quarter while an earlier one is open
        ├── QuarterClosed       changing what a closed quarter holds
        └── AlreadyPaid         recording a payment twice

A class answers over HTTP as its nearest mapped ancestor until ``api/errors.py`` gives it a
line of its own.
Only ``api/errors.py`` maps these to HTTP status codes.
"""

from __future__ import annotations

__all__ = [
    "AlreadyAttended",
    "AlreadyFiled",
    "AlreadyPaid",
    "AlreadyReversed",
    "BackupFailed",
    "BalanceBelowThreshold",
    "BeforeEnrolment",
    "BelowThreshold",
    "Conflict",
    "DuplicatePatient",
    "EarlierQuarterOpen",
    "Forbidden",
    "FutureDate",
    "ImportConflict",
    "InsufficientBalance",
    "InsufficientFunds",
    "InvalidInput",
    "InvalidPhone",
    "LateEntry",
    "LedgerError",
    "LoginTaken",
    "NoRuleSet",
    "NotCorrectable",
    "NotFound",
    "NotParticipating",
    "NotReversible",
    "OutOfDistrict",
    "PatientErased",
    "PatientNotActive",
    "PurposeNotAllowed",
    "QuarterClosed",
    "QuarterNotEnded",
    "RateLimited",
    "RuleSetError",
    "SignInFailed",
    "UnbalancedTransaction",
    "UnknownAccount",
    "UnknownClinic",
    "UnknownDistrict",
    "UnknownPatient",
    "UnknownSession",
    "UnknownTransaction",
]


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class NotFound(LedgerError):
    """Raised when a registry record that a request names does not exist."""


class Conflict(LedgerError):
    """Raised when a request clashes with what is already recorded."""


class UnknownAccount(NotFound):
    """Raised when a booking or a read names an account that does not exist."""


class UnknownTransaction(NotFound):
    """Raised when a reversal or a read names a transaction that does not exist."""


class UnbalancedTransaction(LedgerError):
    """Raised when the legs of a transaction do not sum to zero."""


class InsufficientFunds(LedgerError):
    """Raised when a debit would take an account that may not go negative below zero."""

    def __init__(self, account_id: int, balance: int, requested: int) -> None:
        super().__init__(
            f"account {account_id} holds {balance} M, {requested} M was asked for; "
            "book a smaller amount"
        )
        self.account_id: int | None = account_id
        self.balance = balance
        self.requested = requested


class BelowThreshold(LedgerError):
    """Raised when an account's balance is under the minimum it must hold before spending."""

    def __init__(self, account_id: int, balance: int, threshold: int) -> None:
        super().__init__(
            f"account {account_id} holds {balance} M; spending starts at {threshold} M"
        )
        self.account_id: int | None = account_id
        self.balance = balance
        self.threshold = threshold


class InsufficientBalance(InsufficientFunds):
    """Raised when a patient spends more than their balance: said to the clinic without the
    ledger's internal account ids."""

    def __init__(self, balance: int, requested: int) -> None:
        LedgerError.__init__(
            self,
            f"the patient's balance is {balance:,} M and {requested:,} M was asked for; "
            "spend at most the balance",
        )
        self.account_id = None
        self.balance = balance
        self.requested = requested


class BalanceBelowThreshold(BelowThreshold):
    """Raised when a patient spends while their balance is under the rules' minimum: said to
    the clinic without the ledger's internal account ids."""

    def __init__(self, balance: int, threshold: int) -> None:
        LedgerError.__init__(
            self,
            f"the patient's balance is {balance:,} M; mileage can be spent from {threshold:,} M",
        )
        self.account_id = None
        self.balance = balance
        self.threshold = threshold


class AlreadyReversed(Conflict):
    """Raised when a transaction that was already reversed is reversed again."""

    def __init__(self, transaction_id: int, reversal_id: int) -> None:
        super().__init__(
            f"transaction {transaction_id} was already reversed by transaction {reversal_id}"
        )
        self.transaction_id = transaction_id
        self.reversal_id = reversal_id


class NotReversible(Conflict):
    """Raised when a reversal is itself reversed; book a new transaction instead."""


class NotCorrectable(NotReversible):
    """Raised when a transaction of a kind no reversal or void may undo (a settlement's
    payout, a payment, a forfeiture, a migration) is reversed or voided."""


class RuleSetError(LedgerError):
    """Raised when a rule set file cannot be read or does not fit the schema."""


class BackupFailed(LedgerError):
    """Raised when a backup or a restore cannot be made (a tool missing or failing, a file
    in the way, a database that is not empty)."""


class NoRuleSet(LedgerError):
    """Raised when no rule set applies to an event's year and district."""


class Forbidden(LedgerError):
    """Raised when the caller's role may not take an action (a clinic settling a quarter)."""


class RateLimited(LedgerError):
    """Raised when a caller does an action more often than its rate allows; ``retry_after``
    is the seconds until its next window."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SignInFailed(LedgerError):
    """Raised when a login and password do not open a live staff account (unknown login,
    wrong password or disabled account alike, so the answer tells no one which)."""


class UnknownDistrict(NotFound):
    """Raised when a district code is not one of Seoul's 25."""


class UnknownClinic(NotFound):
    """Raised when a clinic id does not exist."""


class UnknownPatient(NotFound):
    """Raised when a patient id does not exist."""


class UnknownSession(NotFound):
    """Raised when an education session id does not exist."""


class InvalidInput(LedgerError):
    """Raised when a value is one the programme cannot take; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidPhone(InvalidInput):
    """Raised when a phone number is not a Korean mobile number."""


class FutureDate(InvalidInput):
    """Raised when an event is dated after today in Asia/Seoul."""


class LateEntry(InvalidInput):
    """Raised when an event is older than the rules' late-entry window."""


class BeforeEnrolment(InvalidInput):
    """Raised when an event is dated before the patient's enrolment."""


class NotParticipating(InvalidInput):
    """Raised when a clinic or district does not take part in the programme on that date."""


class DuplicatePatient(Conflict):
    """Raised when a person (name, birth date, phone) is registered a second time.

    ``existing_id`` names the patient already registered; an action raises it without the id
    when the caller may not read that patient, so the answer says nothing about them.
    """

    def __init__(self, existing_id: str | None) -> None:
        super().__init__(
            "this person is already registered"
            + (f" as patient {existing_id}" if existing_id else "")
            + "; look them up instead of registering them again"
        )
        self.existing_id = existing_id


class LoginTaken(Conflict):
    """Raised when a new staff account's login, whatever its case, is another account's."""


class AlreadyAttended(Conflict):
    """Raised when a patient's attendance at a session is recorded a second time."""


class PatientNotActive(Conflict):
    """Raised when an event is recorded for a patient who has left the programme."""


class PatientErased(Conflict):
    """Raised when a change, or a second erasure, names a patient whose personal data was
    erased."""


class ImportConflict(Conflict):
    """Raised when an imported row's legacy id was already imported with different content."""


class PurposeNotAllowed(InvalidInput):
    """Raised when mileage is spent on a purpose the clinic's kind does not offer."""


class OutOfDistrict(InvalidInput):
    """Raised when a patient spends at a clinic outside where the rules let them spend."""


class QuarterNotEnded(Conflict):
    """Raised when a quarter is closed before it has ended."""


class EarlierQuarterOpen(Conflict):
    """Raised when a quarter is closed while an earlier quarter with bookings is open."""


class QuarterClosed(Conflict):
    """Raised when a change is asked of a quarter that is already closed."""


class AlreadyPaid(Conflict):
    """Raised when a payment is recorded for a settlement line that was already paid."""


class AlreadyFiled(Conflict):
    """Raised when the city files an annual table that was filed already."""
