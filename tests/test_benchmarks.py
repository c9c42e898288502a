"""The benchmark scripts run and report their figures (their numbers are never asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
