"""History import: the previous system's clinics, patients, events and balances, from CSV.

A batch edge, like a route: it reads and parses, then writes through the same actions as
live entry (``register_clinic``, ``register_patient``, ``record_visit``,
``record_attendance``), so the ledger holds what the rules award, the audit trail names the
``mileage import`` principal, and an imported visit with a booked follow-up queues its
reminder as one recorded over HTTP does. The late-entry window is lifted: history is old by
nature. Balances at a cut-over date are migrated (:func:`actions.migration.migrate_balance`)
to the balance the old system told each patient; where the patient's events were replayed
too, a recorded balance that differs from the replayed one is reported.

- :mod:`~actions.importing.files`: the kinds of file and their columns, reading CSV as
  Korean Excel saves it, writing the rejected rows and the differences;
- :mod:`~actions.importing.cells`: one cell as the value it means (dates, flags, codes);
- :mod:`~actions.importing.bookkeeping`: ``import_rows``, what each legacy id became, so a
  row is imported once and one with different content under the same id is refused;
- :mod:`~actions.importing.rows`: one row of each kind, through its action;
- :mod:`~actions.importing.batch`: a whole file, each row in its own transaction
  (:func:`import_file`), so a bad row is rejected with its reason and the rest goes on.
"""

from actions.importing.batch import PRINCIPAL, ImportReport, import_file
from actions.importing.files import (
    FILES,
    CsvFile,
    Difference,
    FileKind,
    FileSpec,
    Rejected,
    check_columns,
    detect_encoding,
    fields,
    read_csv,
    write_differences,
    write_rejected,
)
from actions.importing.rows import (
    RowImported,
    import_balance,
    import_clinic,
    import_event,
    import_patient,
)

__all__ = [
    "FILES",
    "PRINCIPAL",
    "CsvFile",
    "Difference",
    "FileKind",
    "FileSpec",
    "ImportReport",
    "Rejected",
    "RowImported",
    "check_columns",
    "detect_encoding",
    "fields",
    "import_balance",
    "import_clinic",
    "import_event",
    "import_file",
    "import_patient",
    "read_csv",
    "write_differences",
    "write_rejected",
]
