"""Verification: recompute every running total and read model from the append-only rows
(and the registry's events) and compare; rebuild the read models."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.repository import LedgerRepository, figures
from ledger.services.recall_due import recall_due_mismatches

__all__ = ["Mismatch", "rebuild_read_models", "verify"]


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
    """Every balance row, limit counter, transaction and read-model row that disagrees with
    the entries, and every patient whose kept next recall date disagrees with their visits
    and recalls.

    Begun here, the check reads one snapshot on PostgreSQL too (REPEATABLE READ): bookings
    committed while it runs, between its statements, are not mistaken for mismatches. (A
    SQLite read transaction is one snapshot already.)
    """
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
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
    return found + read_model_mismatches(session)


def read_model_mismatches(session: Session) -> list[Mismatch]:
    """Every read-model row that disagrees with what the entries and events add up to,
    named by district, clinic (``-`` for a district's own rows), month or quarter, figure."""
    report, settlement = figures.kept(session)
    recounted_report, recounted_settlement = figures.recounted(session)
    found: list[Mismatch] = []
    for key in sorted(report.keys() | recounted_report.keys()):
        have, want = report.get(key, 0), recounted_report.get(key, 0)
        if have != want:
            district, clinic, month, figure, shard = key
            where = (
                f"district {district} clinic {clinic or '-'} month {month // 100}-{month % 100:02d}"
            )
            where += "" if clinic else f" shard {shard}"
            found.append(Mismatch(f"report figure {figure}", where, str(have), str(want)))
    for line_key in sorted(settlement.keys() | recounted_settlement.keys()):
        have, want = settlement.get(line_key, 0), recounted_settlement.get(line_key, 0)
        if have != want:
            district, period, clinic, figure = line_key
            where = f"district {district} clinic {clinic} quarter {period}"
            found.append(Mismatch(f"settlement figure {figure}", where, str(have), str(want)))
    return found


def rebuild_read_models(session: Session) -> tuple[int, int]:
    """Recount every read-model row from the entries and events, set-based, in the caller's
    transaction; (report rows, settlement rows) kept afterwards."""
    return figures.rebuild(session)
