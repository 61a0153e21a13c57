"""Verification: recompute every running total from the append-only rows and compare."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.repository import LedgerRepository
from ledger.services.recall_due import recall_due_mismatches

__all__ = ["Mismatch", "verify"]


@dataclass(frozen=True)
class Mismatch:
    """One disagreement between a kept total and what the ledger's rows add up to."""

    what: str
    where: str
    kept: str
    recomputed: str
    source: str = "entries"

    def __str__(self) -> str:
        return f"{self.what} {self.where}: kept {self.kept}, {self.source} give {self.recomputed}"


def verify(session: Session) -> list[Mismatch]:
    """Every balance row, limit counter and transaction that disagrees with the entries, and
    every patient whose kept next recall date disagrees with their visits and recalls."""
    repo = LedgerRepository(session)
    found: list[Mismatch] = []
    for account, shard, kept, recomputed in repo.balance_mismatches():
        found.append(
            Mismatch("balance", f"account {account} shard {shard}", str(kept), str(recomputed))
        )
    for account, key, have, want in repo.counter_mismatches():
        found.append(
            Mismatch(
                "limit counter",
                f"account {account} key {key}",
                f"{have.amount} M in {have.count}",
                f"{want.amount} M in {want.count}",
            )
        )
    for transaction, total in repo.unbalanced_transactions():
        found.append(Mismatch("transaction", str(transaction), "legs", f"sum {total}"))
    for transaction in repo.orphan_legs():
        found.append(Mismatch("legs", f"transaction {transaction}", "no header", "header"))
    for patient, kept_on, worked_out in recall_due_mismatches(session):
        found.append(
            Mismatch(
                "next recall date",
                f"patient {patient}",
                str(kept_on or "none"),
                str(worked_out or "none"),
                source="visits and recalls",
            )
        )
    return found
