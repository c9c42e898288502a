"""The benchmark scripts run and report their figures (their numbers are never asserted here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_otel_benchmark_runs_and_reports_its_target() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_otel"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=ROOT,
    )
    assert "| raw start_as_current_span |" in result.stdout
    assert "| penstock step (OTelBackend) |" in result.stdout
    assert "Target: penstock step (OTelBackend) at most 1.10x" in result.stdout


def test_docs_benchmark_counts_the_instructions_a_command_executes(tmp_path: Path) -> None:
    if shutil.which("valgrind") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("valgrind is missing; .ci/run installs it for this test")
        pytest.skip("valgrind is not installed (apt-get install valgrind)")
    from benchmarks.bench_docs import _instructions

    folder = tmp_path / "run"
    folder.mkdir()
    idle = _instructions([sys.executable, "-c", "pass"], folder)
    busy = _instructions([sys.executable, "-c", "sum(range(300_000))"], folder)
    assert idle is not None
    assert busy is not None
    # Python's start-up alone runs tens of millions of instructions; the loop adds millions more.
    assert idle > 10_000_000
    assert busy > idle + 3_000_000
