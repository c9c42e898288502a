"""Figures the reliability tests measure, printed at the end of the run."""

from __future__ import annotations

import pytest

_FIGURES: list[str] = []


@pytest.fixture
def figures() -> list[str]:
    """Append a line to print it in the 'penstock reliability figures' summary."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the reliability tests measured, so the run shows the numbers, not just dots."""
    if _FIGURES:
        terminalreporter.section("penstock reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
