"""The verifier's SQL: running totals and transactions recomputed from the entries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain import Counter
from ledger.models import Account, Balance, Entry, LimitCounter, LimitPostingRow, Transaction


class Verifying:
    """The checks of :class:`~ledger.repository.LedgerRepository` (``mileage ledger verify``)."""

    session: Session

    def balance_mismatches(self) -> list[tuple[int, int, int, int]]:
        """(account, shard, kept, recomputed) for every balance row its entries disagree with."""
        shard = Entry.transaction_id % Account.shards
        recomputed = dict(
            ((a, s), int(total))
            for a, s, total in self.session.execute(
                select(Entry.account_id, shard, func.sum(Entry.amount))
                .join(Account, Account.id == Entry.account_id)
                .group_by(Entry.account_id, shard)
            )
        )
        out = []
        kept: dict[tuple[int, int], int] = {}
        for a, s, b in self.session.execute(
            select(Balance.account_id, Balance.shard, Balance.balance)
        ):
            kept[(a, s)] = b
        for key in sorted(kept.keys() | recomputed.keys()):
            if kept.get(key, 0) != recomputed.get(key, 0) or key not in kept:
                out.append((key[0], key[1], kept.get(key, 0), recomputed.get(key, 0)))
        return out

    def counter_mismatches(self) -> list[tuple[int, str, Counter, Counter]]:
        recomputed = {
            (a, k): Counter(int(amt), int(cnt))
            for a, k, amt, cnt in self.session.execute(
                select(
                    LimitPostingRow.account_id,
                    LimitPostingRow.key,
                    func.sum(LimitPostingRow.amount),
                    func.sum(LimitPostingRow.count),
                ).group_by(LimitPostingRow.account_id, LimitPostingRow.key)
            )
        }
        kept = {
            (a, k): Counter(amt, cnt)
            for a, k, amt, cnt in self.session.execute(
                select(
                    LimitCounter.account_id,
                    LimitCounter.key,
                    LimitCounter.amount,
                    LimitCounter.count,
                )
            )
        }
        out = []
        for key in sorted(kept.keys() | recomputed.keys()):
            have, want = kept.get(key, Counter()), recomputed.get(key, Counter())
            if have != want:
                out.append((key[0], key[1], have, want))
        return out

    def unbalanced_transactions(self) -> list[tuple[int, int]]:
        return [
            (tx, int(total))
            for tx, total in self.session.execute(
                select(Entry.transaction_id, func.sum(Entry.amount))
                .group_by(Entry.transaction_id)
                .having(func.sum(Entry.amount) != 0)
            )
        ]

    def orphan_legs(self) -> list[int]:
        return list(
            self.session.execute(
                select(Entry.transaction_id)
                .distinct()
                .outerjoin(Transaction, Transaction.id == Entry.transaction_id)
                .where(Transaction.id.is_(None))
            ).scalars()
        )
