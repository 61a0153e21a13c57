"""Which process this is, and whether the process of a recorded identity still runs.

A row that a process holds while it works (an idempotency claim on SQLite) names its holder,
so that another process can tell a holder still at work from one that was killed, without
waiting for a lease to run out. An identity is the host's name, the kernel's boot id, the
process id and the process's start time (clock ticks since boot, from ``/proc``): a pid that
the kernel handed to a new process after a restart, or after a reboot, is another process.

The check answers for this host only. For an identity of another host it answers ``None``
(it cannot tell), and the caller falls back to a lease. Where ``/proc`` is missing (macOS), a
process is checked by its pid alone, which a reused pid can fool until the claim's lease runs
out; the service is run on Linux.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessIdentity", "current", "identity_of", "is_running"]

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessIdentity:
    host: str
    boot: str
    pid: int
    started: str

    def __str__(self) -> str:
        return f"{self.pid}:{self.started}:{self.boot}:{self.host}"

    @classmethod
    def parse(cls, text: str) -> ProcessIdentity | None:
        """The identity ``str(identity)`` wrote, or None for text in another shape."""
        pid, sep1, rest = text.partition(":")
        started, sep2, rest = rest.partition(":")
        boot, sep3, host = rest.partition(":")
        if not (sep1 and sep2 and sep3 and pid.isascii() and pid.isdigit()):
            return None
        return cls(host, boot, int(pid), started)


def _boot_id() -> str:
    with contextlib.suppress(OSError):
        return (PROC / "sys/kernel/random/boot_id").read_text().strip()
    return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from ``/proc/<pid>/stat``; None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], fields[19]  # fields 3 (state) and 22 (starttime) of proc(5)


def identity_of(pid: int) -> ProcessIdentity | None:
    """The identity of this host's process ``pid``; None when there is none."""
    stat = _stat(pid)
    if stat is None and PROC.is_dir():
        return None
    return ProcessIdentity(socket.gethostname(), _boot_id(), pid, stat[1] if stat else "")


_current: ProcessIdentity | None = None


def current() -> ProcessIdentity:
    """This process's identity (computed again after a fork: a worker is its own process)."""
    global _current
    pid = os.getpid()
    if _current is None or _current.pid != pid:
        _current = identity_of(pid)
        assert _current is not None, "this process has no entry in /proc"
    return _current


def is_running(identity: ProcessIdentity) -> bool | None:
    """Whether the process of ``identity`` still runs; None when it is another host's."""
    here = current()
    if identity.host != here.host:
        return None
    if identity.boot != here.boot:
        return False  # the host rebooted since
    if identity.pid == here.pid:
        return identity.started == here.started
    if here.started:  # /proc is here: the pid must be the same process, and not a zombie
        stat = _stat(identity.pid)
        return stat is not None and stat[0] not in ("Z", "X") and stat[1] == identity.started
    try:
        os.kill(identity.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True
