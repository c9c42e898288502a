"""Choosing the backend, and isolating the application from a backend that fails."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from penstock import configure, entrypoint, get_backend
from penstock.backends import LoggingBackend, TracingBackend


class RecordingBackend(TracingBackend):
    """A real backend that keeps what it was asked to record."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    @contextlib.contextmanager
    def span(self, step_name: str, flow_name: str, **attrs: Any) -> Iterator[None]:
        self.calls.append((step_name, flow_name, attrs))
        yield

    def get_correlation_id(self) -> str:
        return ""


class BrokenBackend(TracingBackend):
    """Fails in the phases it is told to."""

    def __init__(self, *, on: set[str]) -> None:
        self.on = on

    def is_recording(self) -> bool:
        if "check" in self.on:
            raise RuntimeError("check failed")
        return True

    @contextlib.contextmanager
    def span(self, step_name: str, flow_name: str, **attrs: Any) -> Iterator[None]:
        if "open" in self.on:
            raise RuntimeError("open failed")
        yield
        if "close" in self.on:
            raise RuntimeError("close failed")

    def get_correlation_id(self) -> str:
        return ""


class SwallowingBackend(RecordingBackend):
    """Its context manager claims to handle every exception; penstock must not let it."""

    def span(self, step_name: str, flow_name: str, **attrs: Any) -> contextlib.suppress:
        return contextlib.suppress(BaseException)


def test_default_is_logging() -> None:
    backend = get_backend()
    assert isinstance(backend, LoggingBackend)
    assert get_backend() is backend, "chosen once, then kept"


def test_configure_by_name_and_instance() -> None:
    assert isinstance(configure("logging"), LoggingBackend)
    assert isinstance(configure("auto"), LoggingBackend)
    assert isinstance(configure(), LoggingBackend)
    mine = RecordingBackend()
    assert configure(mine) is mine
    assert get_backend() is mine

    @entrypoint("configured")
    def run() -> None: ...

    run()
    assert mine.calls == [("run", "configured", {"entrypoint": True})]


def test_unknown_backend_name_lists_the_choices() -> None:
    with pytest.raises(
        ValueError,
        match="Unknown penstock backend 'zipkin'; choose one of 'logging', 'otel', 'auto'",
    ):
        configure("zipkin")


def test_configure_rejects_other_types() -> None:
    with pytest.raises(
        TypeError, match="takes a backend name or a TracingBackend instance, got int"
    ):
        configure(3)  # type: ignore[arg-type]


def test_environment_variable_chooses_when_nothing_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PENSTOCK_BACKEND", " Logging ")
    assert isinstance(get_backend(), LoggingBackend)


def test_bad_environment_variable_warns_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSTOCK_BACKEND", "nonsense")
    with pytest.warns(
        RuntimeWarning, match=r"PENSTOCK_BACKEND: Unknown penstock backend 'nonsense'.*Using 'auto'"
    ):
        backend = get_backend()
    assert isinstance(backend, LoggingBackend)


def test_configure_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSTOCK_BACKEND", "nonsense")
    mine = RecordingBackend()
    configure(mine)
    assert get_backend() is mine


@pytest.mark.parametrize("phase", ["check", "open", "close"])
def test_failing_backend_never_changes_results_and_is_logged_once(
    phase: str, caplog: pytest.LogCaptureFixture
) -> None:
    """10,000 calls through a broken backend: same results, same exceptions, one log record."""
    caplog.set_level(logging.ERROR, logger="penstock")
    configure(BrokenBackend(on={phase}))
    error = KeyError("app error")

    @entrypoint("isolated")
    def compute(value: int) -> int:
        if value < 0:
            raise error
        return value * 2

    @entrypoint("isolated_async")
    async def compute_async(value: int) -> int:
        return value + 1

    @entrypoint("isolated_gen")
    def produce(n: int) -> Iterator[int]:
        yield from range(n)

    for value in range(10_000):
        assert compute(value) == value * 2
    with pytest.raises(KeyError) as caught:
        compute(-1)
    assert caught.value is error
    assert asyncio.run(compute_async(1)) == 2
    assert list(produce(3)) == [0, 1, 2]
    failures = [r for r in caplog.records if r.name == "penstock"]
    assert len(failures) == 1
    message = failures[0].getMessage()
    expected = {
        "check": "while checking whether to record; the step ran without a span.",
        "open": "while opening a span; the step ran without it.",
        "close": "while closing a span; the step's result is unaffected.",
    }[phase]
    assert f"raised RuntimeError {expected}" in message
    assert failures[0].flow == "isolated"  # type: ignore[attr-defined]
    assert failures[0].step == "compute"  # type: ignore[attr-defined]
    assert failures[0].exc_info is not None


def test_backend_cannot_swallow_the_application_exception() -> None:
    configure(SwallowingBackend())
    error = ZeroDivisionError("real")

    @entrypoint("swallow")
    def divide() -> float:
        raise error

    with pytest.raises(ZeroDivisionError) as caught:
        divide()
    assert caught.value is error


def test_a_logging_handler_that_raises_does_not_break_the_step() -> None:
    """A broken handler makes the backend fail; the failure report fails too; nothing escapes."""

    class Exploding(logging.Handler):
        def handle(self, record: logging.LogRecord) -> bool:
            raise OSError("disk full")

    logger = logging.getLogger("penstock.exploding")
    logger.propagate = False
    handler = Exploding()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    penstock_logger = logging.getLogger("penstock")
    penstock_logger.addHandler(handler)
    try:
        configure(LoggingBackend(logger=logger))

        @entrypoint("exploding")
        def run(value: int) -> int:
            return value + 1

        assert [run(i) for i in range(100)] == list(range(1, 101))
    finally:
        logger.removeHandler(handler)
        penstock_logger.removeHandler(handler)


def test_reconfiguring_reports_failures_again(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="penstock")

    @entrypoint("reconfigured")
    def run() -> None: ...

    broken = BrokenBackend(on={"open"})
    configure(broken)
    run()
    run()
    configure(broken)
    run()
    assert len([r for r in caplog.records if r.name == "penstock"]) == 2


def test_environment_warning_points_at_the_calling_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSTOCK_BACKEND", "nonsense")

    @entrypoint("warned")
    def run() -> None: ...

    with pytest.warns(RuntimeWarning) as warned:
        run()
    assert warned[0].filename == __file__
