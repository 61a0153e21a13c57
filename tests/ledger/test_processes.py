"""A claim's holder is told apart from a killed process by its identity: host, boot, pid and
start time (``ledger.processes``). No database."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys

from ledger.processes import ProcessIdentity, current, identity_of, is_running


def test_this_process_runs() -> None:
    assert is_running(current()) is True
    assert current().pid == os.getpid()


def test_a_process_that_was_killed_does_not_run() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        identity = identity_of(child.pid)
        assert identity is not None
        assert is_running(identity) is True
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert is_running(identity) is False


def test_a_killed_process_not_yet_reaped_does_not_run() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    identity = identity_of(child.pid)
    assert identity is not None
    os.kill(child.pid, signal.SIGKILL)
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # a zombie, still in /proc
    try:
        assert is_running(identity) is False
    finally:
        child.wait()


def test_a_pid_given_to_another_process_is_not_the_holder() -> None:
    reused = dataclasses.replace(current(), started="1")
    assert is_running(reused) is False


def test_after_a_reboot_no_process_of_before_runs() -> None:
    assert is_running(dataclasses.replace(current(), boot="another-boot")) is False


def test_another_hosts_process_cannot_be_told() -> None:
    assert is_running(dataclasses.replace(current(), host="elsewhere.example")) is None


def test_an_identity_reads_back_as_written() -> None:
    identity = current()
    assert ProcessIdentity.parse(str(identity)) == identity
    assert ProcessIdentity.parse("not an identity") is None
    assert ProcessIdentity.parse("") is None
