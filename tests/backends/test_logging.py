"""The default backend: what its records say, and that it never alters the application."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator, Sequence

import pytest

from penstock import configure, current_flow_id, entrypoint, flow, step
from penstock.backends import LoggingBackend
from tests.conftest import CapturedRecords


def _penstock(records: Sequence[logging.LogRecord]) -> list[logging.LogRecord]:
    return [record for record in records if record.name == "penstock"]


def _order_flow() -> type:
    @flow("logged_orders")
    class LoggedOrders:
        @entrypoint
        def receive(self, order_id: str) -> str:
            return self.validate(order_id)

        @step(after="receive")
        def validate(self, order_id: str) -> str:
            return order_id.lower()

    return LoggedOrders


def test_start_and_end_records_with_extras(step_records: CapturedRecords) -> None:
    configure("logging")
    assert _order_flow()().receive("ORD-9") == "ord-9"
    records = _penstock(step_records)
    events = [(r.event, r.step) for r in records]  # type: ignore[attr-defined]
    assert events == [
        ("step.start", "receive"),
        ("step.start", "validate"),
        ("step.end", "validate"),
        ("step.end", "receive"),
    ]
    ids = {r.correlation_id for r in records}  # type: ignore[attr-defined]
    assert len(ids) == 1
    (cid,) = ids
    assert re.fullmatch(r"[0-9a-f]{32}", cid)
    for record in records:
        assert record.levelno == logging.INFO
        assert record.flow == "logged_orders"  # type: ignore[attr-defined]
        assert record.entrypoint is (record.step == "receive")  # type: ignore[attr-defined]
    end = records[2]
    assert end.outcome == "ok"  # type: ignore[attr-defined]
    assert isinstance(end.duration_ms, float)  # type: ignore[attr-defined]
    assert end.duration_ms >= 0  # type: ignore[attr-defined]
    assert end.duration_ms == round(end.duration_ms, 3)  # type: ignore[attr-defined]
    assert end.getMessage().startswith("step.end logged_orders.validate ok in ")
    assert end.getMessage().endswith(f"{end.duration_ms:.3f} ms")  # type: ignore[attr-defined]
    assert records[0].getMessage() == "step.start logged_orders.receive"


def test_failing_step_says_so_and_the_exception_is_untouched(
    step_records: CapturedRecords,
) -> None:
    error = ValueError("card declined: 4111 1111 1111 1111")

    @entrypoint("failing")
    def charge() -> None:
        raise error

    with pytest.raises(ValueError) as caught:
        charge()
    assert caught.value is error
    end = _penstock(step_records)[-1]
    assert end.outcome == "error"  # type: ignore[attr-defined]
    assert end.error == "ValueError"  # type: ignore[attr-defined]
    assert end.getMessage().startswith("step.end failing.charge failed with ValueError after ")
    assert "4111" not in end.getMessage(), "the exception's message may hold user data"


def test_error_names_non_builtin_exceptions_with_their_module(
    step_records: CapturedRecords,
) -> None:
    class PaymentError(Exception):
        pass

    @entrypoint("custom_error")
    def pay() -> None:
        raise PaymentError

    with pytest.raises(PaymentError):
        pay()
    end = _penstock(step_records)[-1]
    assert end.error == f"{__name__}.{PaymentError.__qualname__}"  # type: ignore[attr-defined]


def test_cancellation_is_not_an_error(step_records: CapturedRecords) -> None:
    @entrypoint("cancelled_flow")
    async def slow() -> None:
        await asyncio.sleep(10)

    @entrypoint("closed_gen")
    def numbers() -> Iterator[int]:
        yield 1
        yield 2

    async def main() -> None:
        task = asyncio.create_task(slow())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    gen = numbers()
    next(gen)
    gen.close()
    ends = [r for r in _penstock(step_records) if r.event == "step.end"]  # type: ignore[attr-defined]
    assert [(r.step, r.outcome) for r in ends] == [  # type: ignore[attr-defined]
        ("slow", "cancelled"),
        ("numbers", "cancelled"),
    ]


def test_generator_span_covers_the_whole_iteration(step_records: CapturedRecords) -> None:
    @entrypoint("gen_span")
    def produce() -> Iterator[int]:
        logging.getLogger("penstock.test").info("inside")
        yield 1
        logging.getLogger("penstock.test").info("still inside")
        yield 2

    gen = produce()
    assert not step_records, "creating the generator runs nothing"
    assert list(gen) == [1, 2]
    names = [(r.name, r.getMessage().split(" ")[0]) for r in step_records]
    assert names == [
        ("penstock", "step.start"),
        ("penstock.test", "inside"),
        ("penstock.test", "still"),
        ("penstock", "step.end"),
    ]


def test_logger_below_info_records_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="penstock")
    backend = configure("logging")
    assert not backend.is_recording()
    assert _order_flow()().receive("A") == "a"
    assert _penstock(caplog.records) == []


def test_custom_logger_and_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="myapp.flows")
    backend = LoggingBackend(logger="myapp.flows", level=logging.DEBUG)
    configure(backend)
    assert repr(backend) == "LoggingBackend(logger='myapp.flows', level=10)"

    @entrypoint("custom_logger")
    def run() -> None: ...

    run()
    records = [r for r in caplog.records if r.name == "myapp.flows"]
    assert [r.levelno for r in records] == [logging.DEBUG, logging.DEBUG]
    same = LoggingBackend(logger=logging.getLogger("myapp.flows"))
    assert same.logger is backend.logger


def test_span_outside_a_flow_and_correlation_id(step_records: CapturedRecords) -> None:
    """Used directly, the backend still works; get_correlation_id follows the flow."""
    backend = LoggingBackend()
    assert backend.get_correlation_id() == ""
    with backend.span("manual", "manual_flow", region="eu"):
        pass
    start = _penstock(step_records)[0]
    assert start.correlation_id is None  # type: ignore[attr-defined]
    assert start.region == "eu"  # type: ignore[attr-defined]

    @entrypoint("cid_flow")
    def run() -> tuple[str, str | None]:
        return backend.get_correlation_id(), current_flow_id()

    from_backend, from_context = run()
    assert from_backend == from_context
