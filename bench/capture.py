"""The SQL the service sends for one booking, read back from PostgreSQL's statement log.

A booking is run on an engine whose connection has ``log_statement = all``; the server's log
then holds every statement of it with its parameters, including what no client-side hook
sees (the pool's ping, BEGIN, COMMIT). :func:`pgbench_script` turns those statements into a
pgbench script: each parameter becomes its literal value, or a pgbench variable where the
caller says that value varies from one booking to the next. The booking also runs under a
libpq trace, which counts its round trips: the messages after which the client waits for
the server (a simple Query, or the Sync that ends an extended-protocol batch or pipeline).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import TypeVar

from psycopg import pq
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import make_engine, make_session_factory

__all__ = [
    "Captured",
    "Logged",
    "capture",
    "logging_engine",
    "parse_log",
    "pgbench_script",
    "script_round_trips",
]

T = TypeVar("T")

# The default log_line_prefix, '%m [%p] ': a timestamp, then the backend's pid.
RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[(?P<pid>\d+)\] (?P<level>[A-Z0-9]+):  "
    r"(?P<message>.*)$"
)
STATEMENT = re.compile(r"^(?:statement|execute [^:]+): (?P<sql>.*)$", re.DOTALL)
PARAMETER = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")
PLACEHOLDER = re.compile(r"\$(\d+)")
TIMESTAMP = re.compile(
    r"^'(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d(?:\.\d+)?)([+-]\d\d)(?::?(\d\d))?'$"
)
# pgbench reads ':name' anywhere in a command as a variable, quoted or not.
PGBENCH_VARIABLE = re.compile(r"(?<!:):[A-Za-z0-9_\u0080-\U0010ffff]")
EMPTY_QUERY = ";"
# A message the client sends and then waits for the server's answer to, in a libpq trace.
ROUND_TRIP = re.compile(r"^F\t\d+\t(?:Query|Sync)\b", re.M)


@dataclass(frozen=True)
class Logged:
    """One statement as the server logged it; ``params`` are SQL literals by placeholder."""

    sql: str
    params: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Captured:
    """What one booking sent: its statements as logged, and its round trips as traced."""

    statements: list[Logged]
    round_trips: int


def logging_engine(url: str) -> Engine:
    """An engine of a single connection whose every statement the server logs."""
    return make_engine(
        url, pool_size=1, max_overflow=0, connect_args={"options": "-c log_statement=all"}
    )


def capture(engine: Engine, work: Callable[[sessionmaker[Session]], T]) -> tuple[T, Captured]:
    """Run ``work`` on ``engine`` (from :func:`logging_engine`); return what it sent."""
    with engine.connect() as connection:
        pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        data_directory = Path(connection.execute(text("SHOW data_directory")).scalar_one())
    # The engine's pool holds this one connection, so ``work`` runs on it too.
    raw = engine.raw_connection()
    pgconn = raw.driver_connection.pgconn  # type: ignore[union-attr]
    raw.close()
    # tests/pgcluster.py starts the server with `pg_ctl -l server.log` beside its data/.
    log = data_directory.parent / "server.log"
    start = log.stat().st_size
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            result = work(make_session_factory(engine))
        finally:
            pgconn.untrace()  # which flushes the trace into the file
        trace.seek(0)
        traced = trace.read().decode(errors="replace")
    with log.open("rb") as stream:
        stream.seek(start)
        written = stream.read().decode()
    return result, Captured(parse_log(written, pid), len(ROUND_TRIP.findall(traced)))


def parse_log(written: str, pid: int) -> list[Logged]:
    """The statements backend ``pid`` logged, in order; any error it logged raises."""
    statements: list[Logged] = []
    for record_pid, level, message in _records(written):
        if record_pid != pid:
            continue
        if level in {"ERROR", "FATAL", "PANIC"}:
            raise RuntimeError(f"the captured booking failed: {message}")
        statement = STATEMENT.match(message) if level == "LOG" else None
        if statement:
            statements.append(Logged(statement["sql"]))
        elif level == "DETAIL" and message.startswith("parameters: ") and statements:
            params = {int(n): literal for n, literal in PARAMETER.findall(message)}
            statements[-1] = Logged(statements[-1].sql, params)
    return statements


def pgbench_script(
    statements: Sequence[Logged],
    *,
    variables: Mapping[str, str],
    prologue: Iterable[str] = (),
    gsets: Mapping[str, Sequence[str]] | None = None,
    pipelined: bool = True,
    header: Iterable[str] = (),
) -> str:
    """A pgbench script sending ``statements`` in order, one round trip each as captured.

    ``variables`` maps a captured parameter value to the pgbench expression that replaces it
    (``{"1234": ":pid"}``); every other parameter stays the literal it was. ``gsets`` maps a
    statement's SQL to the meta-commands that follow it, its result columns stored by
    ``\\gset``. Consecutive runs of one statement are an ``executemany``, which psycopg 3
    sends in pipeline mode, so when ``pipelined`` they share one pgbench pipeline.
    """
    lines = [f"-- {line}" for line in header]
    lines += prologue
    for sql, group in groupby(statements, key=lambda s: s.sql):
        batch = list(group)
        if pipelined and len(batch) > 1:
            lines.append("\\startpipeline")
        for statement in batch:
            lines += _command(statement, variables, (gsets or {}).get(sql))
        if pipelined and len(batch) > 1:
            lines.append("\\endpipeline")
    return "\n".join(lines) + "\n"


def script_round_trips(statements: Sequence[Logged], *, pipelined: bool = True) -> int:
    """The round trips of :func:`pgbench_script`'s script: one per statement, or per pipeline."""
    if not pipelined:
        return len(statements)
    return sum(1 for _ in groupby(statements, key=lambda s: s.sql))


def _records(written: str) -> list[tuple[int, str, str]]:
    records: list[tuple[int, str, str]] = []
    for line in written.splitlines():
        match = RECORD.match(line)
        if match:
            records.append((int(match["pid"]), match["level"], match["message"]))
        elif records:
            pid, level, message = records[-1]
            records[-1] = (pid, level, f"{message}\n{line}")
    return records


def _command(
    statement: Logged, variables: Mapping[str, str], gset: Sequence[str] | None
) -> list[str]:
    if statement.sql.strip() == EMPTY_QUERY:
        # pgbench skips a command that is only ';'; with a comment it still sends the
        # empty query, one round trip, as the pool's ping does.
        return ["/* pool pre-ping, an empty query */ ;"]

    def substitute(match: re.Match[str]) -> str:
        literal = statement.params[int(match[1])]
        return variables.get(_unquote(literal), _pgbench_literal(literal))

    sql = PLACEHOLDER.sub(substitute, statement.sql)
    if gset is None:
        return [f"{sql};"]
    return [f"{sql} \\gset", *gset]


def _unquote(literal: str) -> str:
    if literal == "NULL":
        return literal
    return literal[1:-1].replace("''", "'")


def _pgbench_literal(literal: str) -> str:
    """``literal`` as pgbench will pass it through unchanged."""
    stamp = TIMESTAMP.match(literal)
    if stamp:
        # ISO 8601 basic format: the same instant to PostgreSQL, and no ':' for pgbench.
        y, mo, d, h, mi, s, tz_h, tz_m = stamp.groups()
        literal = f"'{y}{mo}{d}T{h}{mi}{s}{tz_h}{tz_m or ''}'"
    if PGBENCH_VARIABLE.search(literal):
        raise ValueError(f"pgbench would read a variable in the literal {literal}")
    return literal
