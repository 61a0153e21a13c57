"""A smoke-sized run of ``bench.seoul`` on both engines, so that the bench does not rot: a
hundredth of Seoul simulated into an empty database, then every read timed once."""

from __future__ import annotations

from bench.seoul import run


def test_the_bench_times_every_read_after_a_small_seoul(database_url: str) -> None:
    lines = run(database_url, fraction=0.01, runs=1)

    assert lines[0].startswith("engine") and "Seoul x 0.01" in lines[0]
    timed = [line.split("  ")[0] for line in lines[1:]]
    reads = ("quarter settlement draft", "district report", "annual table", "clinic report")
    for read in (*reads, "patient statement", "daily recall scan", "visit booking"):
        assert any(name.startswith(read) for name in timed), read
    assert all(" ms  (" in line for line in lines[1:])
