"""Booking: open accounts, book transfers within limits, reverse a transaction.

Functions take the session first and flush; the caller commits (see ``ledger.db``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ledger.clock import today
from ledger.domain import AccountType, Limit, Transfer, TransferOutcome, mirror, plan
from ledger.errors import (
    AlreadyReversed,
    NotCorrectable,
    NotReversible,
    UnknownTransaction,
)
from ledger.records import Record, ReversalRecord
from ledger.repository import LedgerRepository
from ledger.repository.figures import Count
from ledger.vocabulary import CORRECTABLE_KINDS, TransactionKind

__all__ = ["Booked", "Count", "book", "open_account", "reverse"]


@dataclass(frozen=True)
class Booked:
    """A booked transaction: its id and what each transfer credited."""

    transaction_id: int
    outcomes: tuple[TransferOutcome, ...]


def open_account(
    session: Session, *, code: str, type: AccountType, district: str | None = None
) -> int:
    """The id of the account named ``code``, created with its balance rows if it is new."""
    repo = LedgerRepository(session)
    existing = repo.account_by_code(code)
    if existing is not None:
        return existing.id
    return repo.insert_account(code=code, type=type, district=district)


def book(
    session: Session,
    *,
    kind: TransactionKind,
    effective_date: dt.date,
    transfers: Sequence[Transfer],
    district: str | None = None,
    period: str | None = None,
    record: Record | None = None,
    counts: Sequence[Count] = (),
) -> Booked:
    """Book ``transfers`` as one transaction, each credited what its limits leave.

    The reports' read models move with it: by what the legs move, and by one for each event
    in ``counts`` (a registration, a visit, an attendance), in the month of
    ``effective_date``.

    A repeated request is not this function's concern: the request layer makes a repeat
    safe (``Idempotency-Key``, see ``api/idempotency.py``) before any booking runs.
    """
    repo = LedgerRepository(session)
    meta = record.to_meta() if record is not None else {}
    # The repository books with Core statements, which do not autoflush: write what the
    # caller added to the session first, before the booking takes its locks.
    session.flush()
    transaction_id = repo.allocate_transaction_id()
    locked = repo.lock(
        transaction_id=transaction_id,
        account_ids={t.debit for t in transfers} | {t.credit for t in transfers},
        counter_keys=[(t.credit, limit.key) for t in transfers for limit in t.limits],
    )
    planned = plan(
        transfers,
        types={a.id: a.type for a in locked.accounts.values()},
        balances=locked.balances,
        counters=locked.counters,
    )
    repo.write(
        transaction_id=transaction_id,
        plan=planned,
        accounts=locked.accounts,
        header={
            "kind": kind,
            "effective_date": effective_date,
            "district": district,
            "period": period,
            "details": {
                "transfers": [_fields(o) for o in planned.outcomes],
                "meta": meta,
            },
        },
        counts=counts,
    )
    return Booked(transaction_id, tuple(planned.outcomes))


def reverse(
    session: Session,
    *,
    transaction_id: int,
    reason: str,
    effective_date: dt.date | None = None,
    period: str | None = None,
    record: ReversalRecord | None = None,
) -> Booked:
    """Undo a transaction with its mirror image: every entry and limit counter move negated.

    The reversal is dated ``effective_date`` (today in Seoul by default), never the
    original's date: the past is not edited. A reversal may take a patient's balance below
    zero (mileage already spent), since a correction must always be bookable.

    Only the programme's events are undone this way (``CORRECTABLE_KINDS``): a payout, a
    payment, a forfeiture or a migration is refused (:class:`NotCorrectable`), here and by
    the database.
    """
    repo = LedgerRepository(session)
    meta = record.to_meta() if record is not None else {}
    effective_date = effective_date or today()
    original = repo.transaction(transaction_id)
    if original is None:
        raise UnknownTransaction(f"no transaction {transaction_id}")
    if original.reverses_id is not None:
        raise NotReversible(
            f"transaction {transaction_id} is itself a reversal of {original.reverses_id}; "
            "book a new transaction instead"
        )
    if original.kind not in CORRECTABLE_KINDS:
        raise NotCorrectable(
            f"transaction {transaction_id} is a {original.kind}, which no reversal undoes; "
            f"only {', '.join(CORRECTABLE_KINDS)} transactions are reversed"
        )
    entries = repo.entries_of(transaction_id)
    postings = repo.limit_postings_of(transaction_id)
    new_id = repo.allocate_transaction_id()
    locked = repo.lock(
        transaction_id=new_id,
        account_ids=entries.keys() | {p.account for p in postings},
        counter_keys=[(p.account, p.key) for p in postings],
    )
    existing = repo.reversal_of(transaction_id)
    if existing is not None:
        raise AlreadyReversed(transaction_id, existing)
    planned = mirror(entries, postings)
    repo.write(
        transaction_id=new_id,
        plan=planned,
        accounts=locked.accounts,
        header={
            "kind": TransactionKind.REVERSAL,
            "effective_date": effective_date,
            "reverses_id": transaction_id,
            "district": original.district,
            "period": period,
            "details": {
                "reason": reason,
                "reverses_kind": original.kind,
                "reverses_effective_date": original.effective_date.isoformat(),
                "meta": meta,
            },
        },
        reported_as=(original.kind, original.effective_date),
    )
    return Booked(new_id, ())


def _fields(value: Limit | TransferOutcome) -> dict[str, Any]:
    """What ``dataclasses.asdict`` gives for these flat dataclasses (their fields are str, int
    or None), without its recursive deep copy."""
    return dict(vars(value))
