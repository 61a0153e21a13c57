"""The ledger's repository: one object over a session, with the write, read and verify sides.

Each side is its own module (``writing``, ``reading``, ``verifying``); callers see one class.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ledger.repository.reading import Reading
from ledger.repository.verifying import Verifying
from ledger.repository.writing import Writing


class LedgerRepository(Writing, Reading, Verifying):
    """All the SQL of the ledger. Built from a session; methods take and return domain values."""

    def __init__(self, session: Session) -> None:
        self.session = session
