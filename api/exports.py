"""Downloads for the officers who file them: CSV (UTF-8 with a BOM, so Excel reads Korean)
and XLSX (Korean headers, thousands separators, a totals row, the period in the title)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY = "#,##0"
RATE = "0.00%"


def csv_response(filename: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=_disposition(filename + ".csv"),
    )


def xlsx_response(
    filename: str,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    totals: Sequence[Any] | None = None,
    rate_columns: Sequence[int] = (),
    extra_sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]] = (),
) -> Response:
    """One sheet: the title, a bold header row, the rows and a bold totals row."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "정산" if "정산" in title else "보고"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    _append(sheet, headers, bold=True, rates=())
    for row in rows:
        _append(sheet, row, bold=False, rates=rate_columns)
    if totals is not None:
        _append(sheet, totals, bold=True, rates=rate_columns)
    for index, header in enumerate(headers):
        cells = [str(header), *(_shown(r[index]) for r in rows)]
        widest = max(_width(text) for text in cells)
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(widest, 10), 40)
    for name, extra in extra_sheets:
        page = book.create_sheet(name)
        for row in extra:
            _append(page, row, bold=False, rates=())
        page.column_dimensions["A"].width = page.column_dimensions["B"].width = 24
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), media_type=XLSX, headers=_disposition(filename + ".xlsx"))


def _append(sheet: Any, values: Sequence[Any], *, bold: bool, rates: Sequence[int]) -> None:
    sheet.append(list(values))
    for position, cell in enumerate(sheet[sheet.max_row]):
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


def _disposition(filename: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return {
        "Content-Disposition": f'attachment; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(filename)}"
    }
