"""A whole file, row by row, each row in its own committed transaction.

A row that fails is rejected with its reason and the rest of the file goes on; only a
database that cannot be reached stops the run (what was imported stays, and a new run
resumes, since imported rows are skipped). Every row acts as the system principal
``mileage import`` at the moment it is imported.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from actions.context import system_context
from actions.importing import cells
from actions.importing.bookkeeping import LEGACY_ID_MAX
from actions.importing.files import Difference, FileKind, Rejected, fields
from actions.importing.rows import IMPORTERS, Importer, RowImported
from ledger import clock
from ledger.db import run_in_transaction
from ledger.errors import InvalidInput, LedgerError
from notifications.calendar import SendingCalendar

__all__ = ["PRINCIPAL", "ImportReport", "import_file"]

log = logging.getLogger("ledger.importing")

# Who imported rows are recorded (``recorded_by``) and audited as.
PRINCIPAL = "mileage import"


@dataclass
class ImportReport:
    """What a file's import did, row by row, in counts; rejected rows with their reasons."""

    imported: int = 0
    already_imported: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)


def import_file(
    factory: sessionmaker[Session],
    kind: FileKind,
    rows: Sequence[dict[str, str]],
    *,
    calendar: SendingCalendar,
    now: Callable[[], dt.datetime] = clock.now,
    on_row: Callable[[], None] | None = None,
) -> ImportReport:
    """Import every row of a file, each in its own committed transaction.

    Events are replayed in date order, as the rules count them. ``calendar`` is the texts'
    sending calendar (an imported visit's reminder is queued by it); ``now`` is the clock each
    row is imported at; ``on_row`` is called after each row (a progress bar).
    """
    importer = IMPORTERS[kind]
    report = ImportReport()
    rejected: list[tuple[int, Rejected]] = []
    for position, original in _in_order(kind, rows):
        outcome = _import_row(factory, importer, original, calendar=calendar, now=now())
        if isinstance(outcome, Rejected):
            rejected.append((position, outcome))
        else:
            if outcome.status == "imported":
                report.imported += 1
            else:
                report.already_imported += 1
            if outcome.difference is not None:
                report.differences.append(outcome.difference)
        if on_row is not None:
            on_row()
    report.rejected = [item for _, item in sorted(rejected, key=lambda pair: pair[0])]
    log.info(
        "ledger.import.done",
        extra={
            "kind": kind,
            "imported": report.imported,
            "already_imported": report.already_imported,
            "rejected": len(report.rejected),
        },
    )
    return report


def _import_row(
    factory: sessionmaker[Session],
    importer: Importer,
    original: dict[str, str],
    *,
    calendar: SendingCalendar,
    now: dt.datetime,
) -> RowImported | Rejected:
    """One row in its own transaction, or the reason it was rejected."""
    row = fields(original)
    ctx = system_context(PRINCIPAL, calendar, now=now)

    def work(session: Session) -> RowImported:
        cells.check_text(row)
        return importer(session, ctx, row)

    reason, cause = "", ""
    for attempt in (1, 2):
        try:
            return run_in_transaction(factory, work)
        except LedgerError as error:
            reason, cause = _reason(error), type(error).__name__
            if ctx.refusals:  # a refused attempt is audited, though its row rolled back
                run_in_transaction(factory, ctx.write_refusals)
        except IntegrityError as error:
            # A twin import waits on the row's legacy id (see ``bookkeeping``); another
            # key it took meanwhile is found by one more attempt.
            reason = f"the database refused the row: {_first_line(error.orig)}"
            cause = "IntegrityError"
            if attempt == 1:
                continue
        except DataError as error:
            reason = f"the database refused a value: {_first_line(error.orig)}"
            cause = "DataError"
        break
    # The reason stays out of the log: it may quote the row (a name, a phone number).
    log.info(
        "ledger.import.rejected",
        extra={"legacy_id": row.get("legacy_id", "")[:LEGACY_ID_MAX], "error": cause},
    )
    return Rejected(original, reason)


def _in_order(kind: FileKind, rows: Sequence[dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
    """Rows with their positions: events by date, as written within a day; others as written.

    A date that cannot be read sorts first; its row is rejected anyway.
    """
    numbered = list(enumerate(rows))
    if kind != "events":
        return numbered
    return sorted(
        numbered,
        key=lambda item: cells.parse_date(fields(item[1]).get("date", "")) or dt.date.min,
    )


def _reason(error: LedgerError) -> str:
    if isinstance(error, InvalidInput) and error.field and not str(error).startswith(error.field):
        return f"{error.field}: {error}"
    return str(error)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
