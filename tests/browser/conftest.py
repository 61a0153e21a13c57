"""The browser tests' fixtures: Debian's headless Chromium driven by Playwright
(``chromium``), and the app served on a free port over the test database (``served``)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine

from api.app import create_app
from ledger.settings import Settings
from tests.pgcluster import free_port

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def system_chromium() -> str | None:
    for name in ("chromium", "chromium-headless-shell"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    path = system_chromium()
    if path is None:  # never a skip: a browser test that does not run is a failure
        pytest.fail(
            "no system Chromium: `make test` installs Debian's chromium "
            "(tests/ensure-browser.sh), or run: sudo apt-get install -y chromium"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(engine: Engine, database_url: str) -> Iterator[str]:
    """The app served on a free port, in a thread, over the test database."""
    app = create_app(Settings(database_url=database_url), engine=engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
