"""Shared fixtures: each test starts with a clean backend and leaves the registry as it was."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from typing import overload

import pytest

from penstock import _config, _registry
from penstock._context import _current_flow, _current_step


@pytest.fixture(autouse=True)
def _isolated_penstock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reset the backend choice and restore the registry after each test."""
    monkeypatch.delenv("PENSTOCK_BACKEND", raising=False)
    saved = copy.deepcopy(_registry._flows)
    _config.reset()
    yield
    _config.reset()
    with _registry._lock:
        _registry._flows.clear()
        _registry._flows.update(saved)
    # Nothing a test ran may leave a flow behind in the test's own context.
    assert _current_flow.get() is None
    assert _current_step.get() is None


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
