"""History import: the previous system's rows, each imported once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import now
from ledger.models.base import Base, TZDateTime
from ledger.vocabulary import ImportKind, values

IMPORT_KINDS = values(ImportKind)


class ImportRow(Base):
    """A row of the previous system's records, imported once: its legacy id, what it became.

    ``record_id`` is our clinic, patient, visit, attendance or education session id (for a
    balance, the patient's); ``transaction_id`` the transaction the row booked, if any.
    ``row_hash`` tells a second import of the same row (nothing to do) from a different row
    under the same legacy id (refused).
    """

    __tablename__ = "import_rows"
    __table_args__ = (
        CheckConstraint(f"kind IN {IMPORT_KINDS!r}", name="kind"),
        Index("ix_import_rows_kind_record", "kind", "record_id"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str | None] = mapped_column(String(32))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    row_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
