"""The logging filter that stamps every record with its flow."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from penstock import current_flow_id, entrypoint, flow, step
from penstock.contrib.logging import FlowContextFilter, install


@pytest.fixture
def stream_logger() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    """A logger whose handler formats with the flow fields, as users would set it up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(name)s|%(message)s|%(correlation_id)s|%(flow)s|%(step)s")
    )
    logger = logging.getLogger("app.filtered")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    yield logger, stream, handler
    logger.removeHandler(handler)


def test_records_inside_a_flow_carry_its_fields(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = stream_logger
    handler.addFilter(FlowContextFilter())

    @flow("filtered")
    class Filtered:
        @entrypoint
        def start(self) -> str | None:
            logger.info("in entrypoint")
            self.work()
            logger.info("back")
            return current_flow_id()

        @step(after="start")
        def work(self) -> None:
            logger.info("in step")

    cid = Filtered().start()
    logger.info("outside")
    lines = stream.getvalue().splitlines()
    assert lines == [
        f"app.filtered|in entrypoint|{cid}|filtered|start",
        f"app.filtered|in step|{cid}|filtered|work",
        f"app.filtered|back|{cid}|filtered|start",
        "app.filtered|outside|-|-|-",
    ]


def test_values_passed_with_extra_are_not_overwritten(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = stream_logger
    handler.addFilter(FlowContextFilter(default=None))

    @entrypoint("extra_kept")
    def start() -> None:
        logger.info("explicit", extra={"flow": "mine"})

    start()
    logger.info("none")
    first, second = stream.getvalue().splitlines()
    assert first.split("|")[3] == "mine"
    assert second == "app.filtered|none|None|None|None"


def test_filter_on_a_handler_stamps_records_from_every_logger() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(correlation_id)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    flow_filter = install()
    try:
        assert flow_filter in handler.filters
        assert install() is not None
        assert sum(isinstance(f, FlowContextFilter) for f in handler.filters) == 1

        @entrypoint("root_stamped")
        def start() -> str | None:
            logging.getLogger("some.library").info("hello")
            return current_flow_id()

        cid = start()
        assert f"some.library {cid}" in stream.getvalue().splitlines()
        # penstock's own records are stamped consistently with the filter.
        assert f"penstock {cid}" in stream.getvalue().splitlines()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_install_on_a_named_logger() -> None:
    logger = logging.getLogger("app.install_target")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        install("app.install_target", default="n/a")
        (only,) = handler.filters
        assert isinstance(only, FlowContextFilter)
        assert only.default == "n/a"
    finally:
        logger.removeHandler(handler)


def test_install_without_handlers_is_an_error() -> None:
    with pytest.raises(
        ValueError, match=r"app.no_handlers has no handlers .* after logging.basicConfig"
    ):
        install("app.no_handlers")


def test_a_step_of_another_flow_is_stamped_with_its_own_flow(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = stream_logger
    handler.addFilter(FlowContextFilter())

    @step("shared_helpers")
    def helper() -> None:
        logger.info("helping")

    @entrypoint("caller_flow")
    def start() -> None:
        helper()

    start()
    assert stream.getvalue().split("|")[3:5] == ["shared_helpers", "helper\n"]


def test_backend_failure_record_fits_the_flow_format() -> None:
    """The record penstock logs about a failing backend has the fields a flow format uses."""
    import contextlib

    from penstock import configure
    from penstock.backends import TracingBackend

    class Broken(TracingBackend):
        def span(
            self, step_name: str, flow_name: str, **attrs: object
        ) -> contextlib.nullcontext[None]:
            raise RuntimeError("down")

        def get_correlation_id(self) -> str:
            return ""

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s [%(flow)s/%(step)s %(correlation_id)s]"))
    penstock_logger = logging.getLogger("penstock")
    penstock_logger.addHandler(handler)
    try:
        configure(Broken())

        @entrypoint("broken_backend")
        def start() -> str | None:
            return current_flow_id()

        cid = start()
    finally:
        penstock_logger.removeHandler(handler)
    first_line = stream.getvalue().splitlines()[0]
    assert first_line.endswith(f"[broken_backend/start {cid}]")
    assert "--- Logging error ---" not in stream.getvalue()
