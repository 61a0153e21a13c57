"""Every condition the ledger refuses, as one tree rooted at :class:`LedgerError`.

    LedgerError
    ├── UnknownAccount          an account id or code that does not exist
    ├── UnknownTransaction      a transaction id that does not exist
    ├── UnbalancedTransaction   legs that do not sum to zero
    ├── InsufficientFunds       a debit that would take an account below zero
    ├── BelowThreshold          a debit from an account whose balance is under the minimum
    ├── IdempotencyConflict     a key already used for a different request
    ├── AlreadyReversed         a second reversal of one transaction
    └── NotReversible           a reversal of a reversal

Only ``api/errors.py`` maps these to HTTP status codes.
"""

from __future__ import annotations

__all__ = [
    "AlreadyReversed",
    "BelowThreshold",
    "IdempotencyConflict",
    "InsufficientFunds",
    "LedgerError",
    "NotReversible",
    "UnbalancedTransaction",
    "UnknownAccount",
    "UnknownTransaction",
]


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class UnknownAccount(LedgerError):
    """Raised when a booking or a read names an account that does not exist."""


class UnknownTransaction(LedgerError):
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
        self.account_id = account_id
        self.balance = balance
        self.requested = requested


class BelowThreshold(LedgerError):
    """Raised when an account's balance is under the minimum it must hold before spending."""

    def __init__(self, account_id: int, balance: int, threshold: int) -> None:
        super().__init__(
            f"account {account_id} holds {balance} M; spending starts at {threshold} M"
        )
        self.account_id = account_id
        self.balance = balance
        self.threshold = threshold


class IdempotencyConflict(LedgerError):
    """Raised when an idempotency key is reused with a different request."""


class AlreadyReversed(LedgerError):
    """Raised when a transaction that was already reversed is reversed again."""

    def __init__(self, transaction_id: int, reversal_id: int) -> None:
        super().__init__(
            f"transaction {transaction_id} was already reversed by transaction {reversal_id}"
        )
        self.transaction_id = transaction_id
        self.reversal_id = reversal_id


class NotReversible(LedgerError):
    """Raised when a reversal is itself reversed; book a new transaction instead."""
