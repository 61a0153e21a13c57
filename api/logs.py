"""Structured logs: one JSON object a line, with dotted event names.

Names and phone numbers never reach a log line: requests are logged by method, route
template (``/v1/patients/{patient_id}``, never the path as sent, which can hold whatever a
caller typed), status, latency, request id and key; SQL parameters are hidden from error
messages (see ``ledger.db.make_engine``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from ledger.clock import SEOUL

FIELDS = (
    "request_id",
    "method",
    "route",
    "status",
    "latency_ms",
    "key_id",
    "role",
    "attempt",
    "error",
    "job",
    "count",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": dt.datetime.fromtimestamp(record.created, SEOUL).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
