"""structlog's processor, and JSON logs through the standard library with python-json-logger."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from pythonjsonlogger.json import JsonFormatter

from penstock import current_flow_id, entrypoint, flow, step
from penstock.contrib.logging import FlowContextFilter
from penstock.contrib.structlog import flow_processor


@pytest.fixture
def events() -> Iterator[list[dict[str, Any]]]:
    """structlog configured with penstock's processor, capturing every event dict."""
    captured: list[dict[str, Any]] = []

    def capture(logger: Any, method_name: str, event_dict: dict[str, Any]) -> str:
        captured.append(dict(event_dict))
        return json.dumps(event_dict)

    structlog.configure(
        processors=[flow_processor, capture],
        logger_factory=structlog.ReturnLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    yield captured
    structlog.reset_defaults()


def test_events_inside_a_flow_carry_it(events: list[dict[str, Any]]) -> None:
    log = structlog.get_logger()

    @flow("structlog_flow")
    class Orders:
        @entrypoint
        def receive(self) -> str | None:
            log.info("received")
            self.check()
            return current_flow_id()

        @step(after="receive")
        def check(self) -> None:
            log.info("checked", step="explicit-wins")

    cid = Orders().receive()
    assert events[0] == {
        "event": "received",
        "flow_id": cid,
        "flow": "structlog_flow",
        "step": "receive",
    }
    assert events[1]["step"] == "explicit-wins", "a value the caller passed is never overwritten"
    assert events[1]["flow_id"] == cid


def test_outside_a_flow_nothing_is_added(events: list[dict[str, Any]]) -> None:
    structlog.get_logger().info("idle")
    assert events == [{"event": "idle"}]


def test_bound_values_keep_precedence(events: list[dict[str, Any]]) -> None:
    log = structlog.get_logger().bind(flow_id="bound-by-caller")

    @entrypoint("structlog_bound")
    def run() -> None:
        log.info("x")

    run()
    assert events[0]["flow_id"] == "bound-by-caller"


def test_processor_never_raises() -> None:
    class Hostile(dict):  # type: ignore[type-arg]
        def setdefault(self, *args: Any) -> Any:
            raise RuntimeError("broken mapping")

    @entrypoint("structlog_hostile")
    def run() -> dict[str, Any]:
        return flow_processor(None, "info", Hostile(event="x"))

    assert run() == {"event": "x"}


def test_json_logs_with_the_filter_and_python_json_logger() -> None:
    """The guide's recipe for JSON logs: penstock's filter, python-json-logger's formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(FlowContextFilter(default=None))
    handler.setFormatter(
        JsonFormatter("{levelname}{name}{message}{correlation_id}{flow}{step}", style="{")
    )
    logger = logging.getLogger("app.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:

        @entrypoint("json_logs")
        def handle() -> str | None:
            logger.info("inside", extra={"order_id": "A-1"})
            return current_flow_id()

        cid = handle()
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside == {
        "levelname": "INFO",
        "name": "app.json",
        "message": "inside",
        "correlation_id": cid,
        "flow": "json_logs",
        "step": "handle",
        "order_id": "A-1",
    }
    assert outside["correlation_id"] is None
    assert outside["flow"] is None
