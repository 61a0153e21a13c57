"""The import's files: which columns each kind has, reading a CSV file as Korean Excel saves
it (UTF-8 with or without a BOM, or CP949), and writing the rejected rows and the balance
differences back out for a person to read and correct."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ledger.errors import InvalidInput

__all__ = [
    "FILES",
    "CsvFile",
    "Difference",
    "FileKind",
    "FileSpec",
    "Rejected",
    "check_columns",
    "detect_encoding",
    "fields",
    "read_csv",
    "write_differences",
    "write_rejected",
]

FileKind = Literal["clinics", "patients", "events", "balances"]


@dataclass(frozen=True)
class FileSpec:
    """The columns of one kind of import file: those every file needs, and the others.

    ``added`` are optional columns that came after files of this kind were first imported:
    a row's identity counts them only when they are filled, so a row imported before they
    existed is still recognised as imported.
    """

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional + self.added


FILES: Mapping[FileKind, FileSpec] = {
    "clinics": FileSpec(
        ("legacy_id", "name", "kind", "district", "participating_since"),
        ("participating_until",),
    ),
    "patients": FileSpec(
        (
            "legacy_id",
            "clinic_legacy_id",
            "name",
            "birth_date",
            "phone",
            "conditions",
            "sms_consent",
            "enrolled_on",
        ),
    ),
    "events": FileSpec(
        ("legacy_id", "type", "patient_legacy_id", "date"),
        (
            "clinic_legacy_id",
            "systolic",
            "diastolic",
            "hba1c",
            "fasting_glucose",
            "session_legacy_id",
            "condition",
            "title",
        ),
        ("next_visit_on",),
    ),
    "balances": FileSpec(("legacy_id", "patient_legacy_id", "as_of", "balance")),
}


# Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvFile:
    """A CSV file as read: its header as written, its rows by that header, its encoding."""

    columns: list[str]
    rows: list[dict[str, str]]
    encoding: str


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without a BOM) when the bytes are UTF-8, else CP949 (Korean Excel)."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise InvalidInput(
        "the file is neither UTF-8 nor CP949; name its encoding with --encoding",
        field="encoding",
    )


def read_csv(path: Path, *, encoding: str | None = None) -> CsvFile:
    """Read a whole CSV file, detecting UTF-8 or CP949 unless ``encoding`` is given."""
    data = path.read_bytes()
    chosen = _codec(encoding) if encoding else detect_encoding(data)
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"{path.name} is not {encoding}: byte {error.start} cannot be read", field="encoding"
        ) from error
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    columns = list(reader.fieldnames or [])
    rows = [
        {key: value for key, value in row.items() if key is not None}
        for row in reader
        if any(isinstance(value, str) and value.strip() for value in row.values())
    ]
    return CsvFile(columns, rows, chosen)


def check_columns(kind: FileKind, columns: Sequence[str]) -> None:
    """Refuse a file that lacks a column its kind needs, before any row is imported."""
    present = {_column(name) for name in columns}
    missing = [name for name in FILES[kind].required if name not in present]
    if missing:
        raise InvalidInput(
            f"a {kind} file needs the column(s) {', '.join(missing)}; "
            f"this one has {', '.join(columns) or 'none'}",
            field="columns",
        )


def fields(row: Mapping[str, str]) -> dict[str, str]:
    """A row by column name (trimmed, lower case), values trimmed: what the importers read."""
    return {_column(key): (value or "").strip() for key, value in row.items()}


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as error:
        raise InvalidInput(f"unknown encoding {encoding!r}", field="encoding") from error
    return "utf-8-sig" if name == "utf-8" else name  # a BOM is no part of the first column


def _column(name: str) -> str:
    return name.strip().lower()


# Writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported, as read, and why."""

    row: dict[str, str]
    error: str


@dataclass(frozen=True)
class Difference:
    """A patient whose replayed balance at the cut-over is not the balance recorded then."""

    patient_legacy_id: str
    patient_id: str
    as_of: dt.date
    recorded: int
    replayed: int
    transaction_id: int | None

    @property
    def difference(self) -> int:
        """What the migration transaction credited the patient (negative: debited)."""
        return self.recorded - self.replayed


def write_rejected(path: Path, columns: Sequence[str], rejected: Sequence[Rejected]) -> None:
    """The rejected rows with their original columns plus ``error``, as UTF-8 with a BOM.

    The BOM makes Korean Excel open it as UTF-8; a corrected error file can be imported as
    it is (the ``error`` column is ignored and the rows imported before are skipped).
    """
    header = [*columns, *(["error"] if "error" not in columns else [])]
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header, restval="", extrasaction="ignore")
        writer.writeheader()
        for item in rejected:
            writer.writerow({**item.row, "error": item.error})


def write_differences(path: Path, differences: Sequence[Difference]) -> None:
    """The differences report as CSV: patient (legacy and our id), recorded, replayed."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "patient_legacy_id",
                "patient_id",
                "as_of",
                "recorded",
                "replayed",
                "difference",
                "transaction_id",
            ]
        )
        for d in differences:
            writer.writerow(
                [
                    d.patient_legacy_id,
                    d.patient_id,
                    d.as_of.isoformat(),
                    d.recorded,
                    d.replayed,
                    d.difference,
                    "" if d.transaction_id is None else d.transaction_id,
                ]
            )
