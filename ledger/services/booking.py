"""Booking: open accounts, book transfers within limits, reverse a transaction.

Functions take the session first and flush; the caller commits (see ``ledger.db``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ledger.clock import today
from ledger.domain import AccountType, Limit, Transfer, TransferOutcome, mirror, plan
from ledger.errors import (
    AlreadyReversed,
    IdempotencyConflict,
    NotReversible,
    UnknownTransaction,
)
from ledger.models import Transaction
from ledger.records import Record, ReversalRecord
from ledger.repository import LedgerRepository
from ledger.vocabulary import TransactionKind

__all__ = ["Booked", "book", "open_account", "reverse"]


@dataclass(frozen=True)
class Booked:
    """A booked transaction: its id, what each transfer credited, and whether it was new."""

    transaction_id: int
    outcomes: tuple[TransferOutcome, ...]
    replayed: bool = False


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
    idempotency_key: str | None = None,
    district: str | None = None,
    period: str | None = None,
    record: Record | None = None,
) -> Booked:
    """Book ``transfers`` as one transaction, each credited what its limits leave.

    The same ``idempotency_key`` with the same request returns the first transaction and
    books nothing; with a different request it raises :class:`IdempotencyConflict`.
    """
    repo = LedgerRepository(session)
    meta = record.to_meta() if record is not None else {}
    # The repository books with Core statements, which do not autoflush: write what the
    # caller added to the session first, before the booking takes its locks.
    session.flush()
    request_hash = _hash(
        {
            "kind": kind,
            "effective_date": effective_date.isoformat(),
            "transfers": [_transfer_json(t) for t in transfers],
            "district": district,
            "period": period,
            "meta": meta,
        }
    )
    if idempotency_key is not None:
        found = _replay(repo, idempotency_key, request_hash)
        if found is not None:
            return found
    transaction_id = repo.allocate_transaction_id()
    locked = repo.lock(
        transaction_id=transaction_id,
        account_ids={t.debit for t in transfers} | {t.credit for t in transfers},
        counter_keys=[(t.credit, limit.key) for t in transfers for limit in t.limits],
    )
    if idempotency_key is not None:
        # Looked up again under lock: a twin of this request may have committed meanwhile.
        found = _replay(repo, idempotency_key, request_hash)
        if found is not None:
            return found
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
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
            "district": district,
            "period": period,
            "details": {
                "transfers": [_fields(o) for o in planned.outcomes],
                "meta": meta,
            },
        },
    )
    return Booked(transaction_id, tuple(planned.outcomes))


def reverse(
    session: Session,
    *,
    transaction_id: int,
    reason: str,
    effective_date: dt.date | None = None,
    idempotency_key: str | None = None,
    period: str | None = None,
    record: ReversalRecord | None = None,
) -> Booked:
    """Undo a transaction with its mirror image: every entry and limit counter move negated.

    The reversal is dated ``effective_date`` (today in Seoul by default), never the
    original's date: the past is not edited. A reversal may take a patient's balance below
    zero (mileage already spent), since a correction must always be bookable.
    """
    repo = LedgerRepository(session)
    meta = record.to_meta() if record is not None else {}
    effective_date = effective_date or today()
    request_hash = _hash(
        {
            "reverses": transaction_id,
            "reason": reason,
            "effective_date": effective_date.isoformat(),
            "meta": meta,
        }
    )
    if idempotency_key is not None:
        found = _replay(repo, idempotency_key, request_hash)
        if found is not None:
            return found
    original = repo.transaction(transaction_id)
    if original is None:
        raise UnknownTransaction(f"no transaction {transaction_id}")
    if original.reverses_id is not None:
        raise NotReversible(
            f"transaction {transaction_id} is itself a reversal of {original.reverses_id}; "
            "book a new transaction instead"
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
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
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
    )
    return Booked(new_id, ())


def _replay(repo: LedgerRepository, key: str, request_hash: str) -> Booked | None:
    found = repo.transaction_by_key(key)
    if found is None:
        return None
    if found.request_hash != request_hash:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used for a different request "
            f"(transaction {found.id}); use a new key"
        )
    return Booked(found.id, _outcomes(found), replayed=True)


def _outcomes(tx: Transaction) -> tuple[TransferOutcome, ...]:
    return tuple(TransferOutcome(**o) for o in (tx.details or {}).get("transfers", []))


def _transfer_json(t: Transfer) -> dict[str, Any]:
    return {
        "debit": t.debit,
        "credit": t.credit,
        "amount": t.amount,
        "limits": [_fields(limit) for limit in t.limits],
        "min_debit_balance": t.min_debit_balance,
        "follows": t.follows,
        "allow_negative": t.allow_negative,
        "tag": t.tag,
    }


def _fields(value: Limit | TransferOutcome) -> dict[str, Any]:
    """What ``dataclasses.asdict`` gives for these flat dataclasses (their fields are str, int
    or None), without its recursive deep copy: request hashes and details are unchanged."""
    return dict(vars(value))


def _hash(payload: Mapping[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
