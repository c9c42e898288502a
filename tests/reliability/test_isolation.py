"""A broken backend or logging handler never changes what the application sees."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from penstock import configure, entrypoint, step
from penstock.backends import LoggingBackend, TracingBackend

CALLS = 10_000


class Broken(TracingBackend):
    """Raises where it is told to: opening, closing, or everywhere."""

    def __init__(self, where: str) -> None:
        self.where = where

    def is_recording(self) -> bool:
        if self.where == "everywhere":
            raise RuntimeError("is_recording broke")
        return True

    @contextlib.contextmanager
    def span(self, step_name: str, flow_name: str, **attrs: Any) -> Iterator[None]:
        if self.where in ("open", "everywhere"):
            raise RuntimeError("open broke")
        yield
        if self.where == "close":
            raise RuntimeError("close broke")

    def get_correlation_id(self) -> str:
        raise RuntimeError("get_correlation_id broke")


class ExplodingHandler(logging.Handler):
    def handle(self, record: logging.LogRecord) -> bool:
        raise OSError("the log disk is full")


@entrypoint("isolation")
def compute(value: int) -> int:
    if value < 0:
        raise KeyError(value)
    return inner(value) * 2


@step("isolation", after="compute")
def inner(value: int) -> int:
    return value + 1


@entrypoint("isolation_async")
async def compute_async(value: int) -> int:
    return value + 1


@entrypoint("isolation_gen")
def produce(count: int) -> Iterator[int]:
    yield from range(count)


@entrypoint("isolation_agen")
async def produce_async(count: int) -> AsyncIterator[int]:
    for index in range(count):
        yield index


def _exercise() -> None:
    for value in range(CALLS):
        assert compute(value) == (value + 1) * 2
    for value in (-1, -2):
        with pytest.raises(KeyError) as caught:
            compute(value)
        assert caught.value.args == (value,)

    async def run_async() -> tuple[list[int], list[int]]:
        results = [await compute_async(value) for value in range(CALLS)]
        streamed = [item async for item in produce_async(CALLS)]
        return results, streamed

    results, streamed = asyncio.run(run_async())
    assert results == [value + 1 for value in range(CALLS)]
    assert streamed == list(range(CALLS))
    assert list(produce(CALLS)) == list(range(CALLS))


@pytest.mark.parametrize("where", ["open", "close", "everywhere"])
def test_a_raising_backend_changes_nothing_and_is_logged_once(
    where: str, caplog: pytest.LogCaptureFixture, figures: list[str]
) -> None:
    caplog.set_level(logging.ERROR, logger="penstock")
    configure(Broken(where))
    _exercise()
    failures = [r for r in caplog.records if r.name == "penstock"]
    # One record per failing phase, however many calls failed.
    expected = {"open": 1, "close": 1, "everywhere": 1}[where]
    assert len(failures) == expected, [r.getMessage() for r in failures]
    figures.append(
        f"backend raising on {where}: {4 * CALLS + 2:,} calls (sync, async, generators), "
        f"results unchanged, {len(failures)} log record"
    )


def test_a_raising_logging_handler_changes_nothing(figures: list[str]) -> None:
    logger = logging.getLogger("penstock")
    handler = ExplodingHandler()
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        configure(LoggingBackend())
        _exercise()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    figures.append(f"logging handler raising on every record: {4 * CALLS + 2:,} calls unchanged")
