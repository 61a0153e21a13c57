"""Spreadsheets for the officers who file them: CSV (UTF-8 with a BOM, so Excel reads Korean)
and XLSX (Korean headers, thousands separators, a totals row, the period in the title)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

__all__ = ["Sheet", "to_csv", "to_xlsx"]

MONEY = "#,##0"
RATE = "0.00%"
# A text beginning with one of these is a formula to Excel and LibreOffice (OWASP's CSV
# injection rule): a clinic named "=HYPERLINK(...)" must stay a name in the file an officer
# opens.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    """A text that cannot start a formula: prefixed with an apostrophe, as OWASP advises."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Sheet:
    """A table to download: its file name (without extension), title, header and rows.

    ``totals`` is a last, bold row; ``rate_columns`` hold fractions shown as percentages;
    ``extra_sheets`` are further (name, rows) pages of the workbook (XLSX only).
    """

    filename: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    totals: Sequence[Any] | None = None
    rate_columns: Sequence[int] = ()
    extra_sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]] = ()
    sheet_name: str = "보고"


def to_csv(sheet: Sheet) -> bytes:
    """The header, the rows and the totals row as CSV, UTF-8 with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(sheet.headers)
    writer.writerows([_inert(v) for v in row] for row in sheet.rows)
    if sheet.totals is not None:
        writer.writerow([_inert(v) for v in sheet.totals])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(sheet: Sheet) -> bytes:
    """One sheet: the title, a bold header row, the rows and a bold totals row."""
    book = Workbook()
    page = book.active
    assert page is not None
    page.title = sheet.sheet_name
    page.append([sheet.title])
    page["A1"].font = Font(bold=True, size=14)
    page.append([])
    _append(page, sheet.headers, bold=True, rates=())
    for row in sheet.rows:
        _append(page, row, bold=False, rates=sheet.rate_columns)
    if sheet.totals is not None:
        _append(page, sheet.totals, bold=True, rates=sheet.rate_columns)
    for index, header in enumerate(sheet.headers):
        cells = [str(header), *(_shown(r[index]) for r in sheet.rows)]
        widest = max(_width(text) for text in cells)
        page.column_dimensions[get_column_letter(index + 1)].width = min(max(widest, 10), 40)
    for name, extra in sheet.extra_sheets:
        more = book.create_sheet(name)
        for row in extra:
            _append(more, row, bold=False, rates=())
        more.column_dimensions["A"].width = more.column_dimensions["B"].width = 24
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _append(page: Any, values: Sequence[Any], *, bold: bool, rates: Sequence[int]) -> None:
    page.append(list(values))
    for position, cell in enumerate(page[page.max_row]):
        if cell.data_type == "f":  # openpyxl reads a text starting with "=" as a formula
            cell.data_type = "s"
            cell.quotePrefix = True
        if bold:
            cell.font = Font(bold=True)
        if position in rates:
            cell.number_format = RATE
        elif isinstance(cell.value, int) and not isinstance(cell.value, bool):
            cell.number_format = MONEY


def _shown(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _width(text: str) -> int:
    """Columns a text takes in Excel: Hangul is about twice as wide as Latin letters."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 2
