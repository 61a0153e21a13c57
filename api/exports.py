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
from openpyxl.styles import Alignment, Font
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
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "정산" if "정산" in title else "보고"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append(list(headers))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for row in rows:
        sheet.append(list(row))
    if totals is not None:
        sheet.append(list(totals))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=4, max_row=sheet.max_row):
        for cell in row:
            if isinstance(cell.value, int) and not isinstance(cell.value, bool):
                cell.number_format = MONEY
            if cell.column - 1 in rate_columns:
                cell.number_format = RATE
    for index, header in enumerate(headers, start=1):
        widest = max(
            [len(str(header)) * 2]
            + [
                len(f"{r[index - 1]:,}")
                if isinstance(r[index - 1], int)
                else len(str(r[index - 1])) * 2
                for r in rows
            ]
            or [10]
        )
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 10), 40)
    for name, extra in extra_sheets:
        page = book.create_sheet(name)
        for row in extra:
            page.append(list(row))
            for cell in page[page.max_row]:
                if isinstance(cell.value, int) and not isinstance(cell.value, bool):
                    cell.number_format = MONEY
        page.column_dimensions["A"].width = 24
        page.column_dimensions["B"].width = 24
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), media_type=XLSX, headers=_disposition(filename + ".xlsx"))


def _disposition(filename: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return {
        "Content-Disposition": f'attachment; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(filename)}"
    }
