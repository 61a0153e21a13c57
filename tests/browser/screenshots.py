"""``make screenshots``: a PNG of each console page on the demo's data, in ``docs/screens/``.

A new demo district is filled in a temporary folder (``mileage demo``), served on a free
port and opened in Debian's headless Chromium, signed in as each demo person in turn. The
README shows the pictures; run this again after a page changes and look at them before
committing. Not part of ``make test`` (the tree stays clean there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

from tests.browser.conftest import FLAGS, system_chromium
from tests.pgcluster import free_port

MILEAGE = str(Path(sys.executable).parent / "mileage")
SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
DESK = ViewportSize(width=1280, height=900)
TABLET = ViewportSize(width=820, height=1180)
RECEIPT = ViewportSize(width=340, height=700)  # about 80 mm of paper on screen


@dataclass(frozen=True)
class Shot:
    """One picture: its file name, and how to reach the page from the person's home page."""

    name: str
    reach: Callable[[Page, dict[str, str]], None]
    viewport: ViewportSize | None = None


def go(path: str) -> Callable[[Page, dict[str, str]], None]:
    """Open ``path``, where ``{PATIENT_ID}`` and the like come from the demo's keys file."""

    def reach(page: Page, demo: dict[str, str]) -> None:
        page.goto(page.url.split("/console")[0] + path.format(**demo))

    return reach


def home(page: Page, demo: dict[str, str]) -> None:
    """The person's home page, where signing in leaves them."""


def open_first_class(page: Page, demo: dict[str, str]) -> None:
    """The newest class of the health centre, with a search for a common surname."""
    go("/console/education")(page, demo)
    page.locator("table a").first.click()
    page.fill("#q", "김")
    page.press("#q", "Enter")
    page.wait_for_load_state()


def open_latest_receipt(page: Page, demo: dict[str, str]) -> None:
    """The receipt of the sample patient's latest entry, from their statement."""
    go("/console/patients/{PATIENT_ID}/statement")(page, demo)
    page.locator("a[href*='/console/receipts/']").last.click()
    page.wait_for_load_state()


SHOTS: dict[str, list[Shot]] = {
    "city": [Shot("home", home), Shot("staff", go("/console/staff"))],
    "health_center": [
        Shot("home", home),
        Shot("clinics", go("/console/districts/11740/clinics")),
        Shot("texts", go("/console/districts/11740/texts")),
        Shot("education", go("/console/education")),
        Shot("class", open_first_class),
        Shot("audit", go("/console/districts/11740/audit")),
        Shot("staff", go("/console/staff")),
    ],
    "clinic": [
        Shot("home", home),
        Shot("desk", go("/console/desk")),
        Shot("register", go("/console/patients/new")),
        Shot("patient", go("/console/patients/{PATIENT_ID}")),
        Shot("patient-tablet", go("/console/patients/{PATIENT_ID}"), TABLET),
        Shot("payment", go("/console/patients/{PATIENT_ID}/payment")),
        Shot("statement", go("/console/patients/{PATIENT_ID}/statement")),
        Shot("receipt", open_latest_receipt),
        Shot("receipt-80mm", open_latest_receipt, RECEIPT),
        Shot("correction", go("/console/patients/{PATIENT_ID}/edit")),
        Shot("quarter", go("/console/clinic/quarter")),
        Shot("staff", go("/console/staff")),
    ],
}
ROLES = {"demo-city": "city", "demo-clinic": "clinic"}


@contextmanager
def demo_served(folder: Path) -> Iterator[str]:
    """A demo district filled in ``folder`` and served there; yields its address."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILEAGE_")}
    subprocess.run([MILEAGE, "demo", "--patients", "120"], cwd=folder, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [MILEAGE, "serve", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        address = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(address + "/healthz", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the demo service did not start") from None
                time.sleep(0.2)
        yield address
    finally:
        server.terminate()
        server.wait(10)


def read_demo(folder: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The demo's ids (its keys file) and its people's logins and passwords."""
    keys = dict(
        line.split("=", 1)
        for line in (folder / "var" / "demo-keys.env").read_text().splitlines()
        if "=" in line
    )
    people = [
        (row.split("\t")[2], row.split("\t")[3])
        for row in (folder / "var" / "demo-accounts.txt").read_text().splitlines()
    ]
    return keys, people


def role_of(login: str) -> str:
    return ROLES.get(login, "health_center")


def take(address: str, keys: dict[str, str], people: list[tuple[str, str]], out: Path) -> int:
    """Sign in as each person and photograph their pages; returns how many were written."""
    path = system_chromium()
    if path is None:
        raise SystemExit("no system Chromium: run `sh tests/ensure-browser.sh` first")
    written = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=[*FLAGS, "--lang=ko-KR"])
        page = browser.new_page(viewport=DESK, locale="ko-KR")
        page.goto(address + "/")
        page.screenshot(path=out / "sign-in.png", full_page=True)
        written += 1
        page.close()
        for login, password in people:
            role = role_of(login)
            page = browser.new_page(viewport=DESK, locale="ko-KR")
            page.goto(address + "/console/login")
            page.fill("#login", login)
            page.fill("#password", password)
            page.press("#password", "Enter")
            page.wait_for_url(re.compile(r".*/console/$"))
            for shot in SHOTS[role]:
                page.set_viewport_size(shot.viewport or DESK)
                page.goto(address + "/console/")
                shot.reach(page, keys)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=out / f"{role}-{shot.name}.png", full_page=True)
                written += 1
            page.close()
        browser.close()
    return written


def main() -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="mileage-screens-") as folder,
        demo_served(Path(folder)) as address,
    ):
        keys, people = read_demo(Path(folder))
        written = take(address, keys, people, SCREENS)
    print(f"{written} screenshots in {SCREENS}")


if __name__ == "__main__":
    main()
