"""A spreadsheet as a download: the file, its media type and a Korean-safe file name."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi.responses import Response

from ledger.services.sheets import Sheet, to_csv, to_xlsx

__all__ = ["FILES", "download"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The OpenAPI description of a route that also answers with a file.
FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "as CSV or XLSX with ?format=",
    }
}


def download(sheet: Sheet, format: Literal["csv", "xlsx"]) -> Response:
    if format == "csv":
        body, media_type = to_csv(sheet), "text/csv; charset=utf-8"
    else:
        body, media_type = to_xlsx(sheet), XLSX
    return Response(body, media_type=media_type, headers=_disposition(f"{sheet.filename}.{format}"))


def _disposition(filename: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return {
        "Content-Disposition": f'attachment; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(filename)}"
    }
