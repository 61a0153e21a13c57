"""The README's examples work as printed, for a new user: `mileage demo`, serve, curl."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.pgcluster import free_port

README = Path(__file__).parent.parent / "README.md"
MILEAGE = str(Path(sys.executable).parent / "mileage")


def try_it_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Try it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """A new user's folder: the demo filled with the default settings, the service up."""
    home = tmp_path_factory.mktemp("new-user")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILEAGE_")}
    demo = subprocess.run(
        [MILEAGE, "demo"], cwd=home, env=env, capture_output=True, text=True, timeout=120
    )
    assert demo.returncode == 0, demo.stderr
    assert (home / "var" / "demo-keys.env").exists()
    (home / "demo.out").write_text(demo.stdout, encoding="utf-8")
    port = free_port()
    log = home / "serve.log"
    with log.open("w") as sink:  # the child keeps its own handle
        server = subprocess.Popen(
            [MILEAGE, "serve", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the service did not start in 30 s"
                time.sleep(0.2)
        yield home, port
    finally:
        server.terminate()
        server.wait(10)


def test_the_readme_has_curl_examples() -> None:
    assert len(try_it_blocks()) >= 5


@pytest.mark.parametrize("number", range(len(try_it_blocks())))
def test_each_readme_example_works_as_printed(served: tuple[Path, int], number: int) -> None:
    home, port = served
    block = try_it_blocks()[number].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip()


def test_running_an_example_twice_books_nothing_more(served: tuple[Path, int]) -> None:
    home, port = served
    visit = next(b for b in try_it_blocks() if "/visits" in b)
    visit = visit.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    first = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", visit],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
    )
    again = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", visit],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == again.returncode == 0
    assert first.stdout == again.stdout


def test_the_demo_prints_a_console_account_per_role_that_signs_in(
    served: tuple[Path, int],
) -> None:
    home, port = served
    printed = (home / "demo.out").read_text(encoding="utf-8")
    assert "open http://127.0.0.1:8000/ and sign in" in printed
    people = re.findall(r"login (\S+) +password (\S+) +(\S+) \((.+)\)", printed)
    assert [login for login, *_ in people] == ["demo-city", "demo-hc-11740", "demo-clinic"]
    for login, password, name, where in people:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as web:
            form = web.get("/")
            assert str(form.url).endswith("/console/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            fields = {"csrf_token": token[1], "login": login, "password": password}
            home_page = web.post("/console/login", data=fields)
            assert str(home_page.url).endswith("/console/"), "no password change for the demo"
            assert f"{name}님" in home_page.text
            assert where in home_page.text
