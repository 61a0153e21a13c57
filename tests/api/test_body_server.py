"""A real ``mileage serve`` process under abuse: 256 MiB bodies from an anonymous caller, and a
caller who writes its own X-Forwarded-For and X-Request-Id.

The body is sent in 1 MiB chunks over a plain socket, as an attacker would, to the Twilio
webhook (no key needed, and it reads its body before checking the signature). The server must
answer 413 before the body has been sent whole, and close, while its memory (the peak RSS from
``/proc/<pid>/status``) grows by far less than the body.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import free_port

MILEAGE = str(Path(sys.executable).parent / "mileage")
MIB = 1 << 20
HUGE = 256 * MIB
WEBHOOK = "/v1/webhooks/twilio/status"


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, env: dict[str, str]) -> None:
        self.process, self.port, self.env = process, port, env

    def status(self, field: str) -> int:
        """A memory figure of the server process, in bytes (VmRSS, VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} for the server")

    def reset_peak(self) -> None:
        """Start VmHWM afresh from the present RSS (Linux: ``clear_refs`` 5)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("served")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILEAGE_")}
    env["MILEAGE_DATABASE_URL"] = database_url
    port = free_port()
    log = home / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [MILEAGE, "serve", "--no-scheduler", "--port", str(port)],
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
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the service did not start in 30 s"
                time.sleep(0.1)
        yield Server(process, port, env)
    finally:
        process.terminate()
        process.wait(10)


def answer_of(sock: socket.socket) -> bytes:
    """What the server answered (status line and headers at least), read until it closes."""
    received = b""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in received and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        received += chunk
    return received


def send_chunked(port: int, path: str, total: int) -> tuple[int, bytes]:
    """POST ``total`` bytes in 1 MiB chunks, stopping as soon as the server answers or shuts
    the connection; (bytes sent, the answer)."""
    frame = f"{MIB:x}\r\n".encode() + b"a" * MIB + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode()
        )
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(frame)
                sent += MIB
            if sent >= total:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server said its piece and closed
        return sent, answer_of(sock)


def test_a_256_mib_body_is_refused_while_it_streams_and_memory_stays_bounded(
    server: Server,
) -> None:
    server.reset_peak()
    before = server.status("VmRSS")
    started = time.monotonic()

    sent, answer = send_chunked(server.port, WEBHOOK, HUGE)

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"application/problem+json" in answer
    assert sent < 32 * MIB, f"{sent // MIB} MiB sent before the refusal"
    assert server.status("VmHWM") - before < 64 * MIB
    assert time.monotonic() - started < 10
    assert server.process.poll() is None
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=5) as ok:
        assert ok.status == 200  # and it serves the next caller


def test_a_declared_length_over_the_limit_is_refused_before_any_of_it_is_sent(
    server: Server,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"POST {WEBHOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {HUGE}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode()
        )
        answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"connection: close" in answer.lower()


def test_a_caller_cannot_write_its_own_address_or_request_id_into_the_audit(
    server: Server,
) -> None:
    """No proxy is trusted by default: forwarded headers are the caller's say-so."""
    created = subprocess.run(
        [MILEAGE, "keys", "create", "--role", "city"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    forged = {"X-Forwarded-For": "203.0.113.7", "X-Request-Id": "forged-request-id"}

    def read_audit() -> tuple[str, dict[str, object]]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/v1/audit?limit=1",
            headers={"Authorization": f"Bearer {key}", **forged},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["X-Request-Id"], json.loads(response.read())

    first_id, _ = read_audit()
    _, page = read_audit()
    entry = page["items"][0]  # type: ignore[index]
    assert first_id != "forged-request-id"
    assert entry["action"] == "audit.read"
    assert (entry["client"], entry["request_id"]) == ("127.0.0.1", first_id)
