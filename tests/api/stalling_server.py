"""A real server process for the crash tests: the service's app under uvicorn, whose visit
action stalls after it has done its work (booked, inside the request's transaction, not yet
committed) until the process is killed.

Test code only, run as ``python tests/api/stalling_server.py URL MARKER --port PORT``: the service
itself has no hook to slow a request. The action writes MARKER once it has booked, so the
test knows when the request is truly mid-flight.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

import actions.earning
from api.app import create_app
from ledger.settings import Settings


def main(url: str, marker: Path, port: int) -> None:
    record_visit = actions.earning.record_visit

    def stalled(*args: Any, **kwargs: Any) -> Any:
        record_visit(*args, **kwargs)
        marker.write_text("booked, not committed")
        while True:
            time.sleep(60)

    actions.earning.record_visit = stalled
    app = create_app(Settings(database_url=url))
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


if __name__ == "__main__":
    url, marker, flag, port = sys.argv[1:]
    assert flag == "--port", "usage: stalling_server.py URL MARKER --port PORT"
    main(url, Path(marker), int(port))
