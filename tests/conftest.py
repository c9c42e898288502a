"""Fixtures shared by the tests (the isolation fixture for every test is in the root conftest)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import pytest


class CapturedRecords(Sequence[logging.LogRecord]):
    """A live view of the records caplog captured in the running test phase."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog

    @overload
    def __getitem__(self, index: int) -> logging.LogRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[logging.LogRecord]: ...
    def __getitem__(self, index: int | slice) -> logging.LogRecord | Sequence[logging.LogRecord]:
        return self._caplog.records[index]

    def __len__(self) -> int:
        return len(self._caplog.records)


@pytest.fixture
def step_records(caplog: pytest.LogCaptureFixture) -> CapturedRecords:
    """Capture records at INFO for the ``penstock`` logger; the view fills as the test runs."""
    caplog.set_level(logging.INFO, logger="penstock")
    return CapturedRecords(caplog)


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on sys.path for modules the test writes; they are forgotten again afterwards."""
    folder = str(tmp_path)
    sys.path.insert(0, folder)
    yield tmp_path
    sys.path.remove(folder)
    inside = folder + os.sep  # not a sibling folder whose name merely starts the same
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(inside):
            del sys.modules[name]
