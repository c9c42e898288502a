"""Fixtures for every test and doctest: a clean backend, and the registry left as it was found."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from penstock import _config, _registry
from penstock._context import _current_flow, _current_step


@pytest.fixture(autouse=True)
def _isolated_penstock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reset the backend choice and restore the registry after each test."""
    monkeypatch.delenv("PENSTOCK_BACKEND", raising=False)
    with _registry._lock:
        saved = copy.deepcopy(_registry._flows)
        saved_origins = {flow: dict(steps) for flow, steps in _registry._origins.items()}
    _config.reset()
    yield
    _config.reset()
    with _registry._lock:
        _registry._flows.clear()
        _registry._flows.update(saved)
        _registry._origins.clear()
        _registry._origins.update(saved_origins)
    # Nothing a test ran may leave a flow behind in the test's own context.
    assert _current_flow.get() is None
    assert _current_step.get() is None
