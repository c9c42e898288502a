"""The OpenTelemetry backend against the real SDK, with spans captured in memory."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import StatusCode

from penstock import (
    carry_flow,
    configure,
    current_flow_id,
    entrypoint,
    flow,
    get_backend,
    step,
)
from penstock.backends.otel import OTelBackend
from penstock.contrib.logging import FlowContextFilter

ROOT = Path(__file__).resolve().parents[2]


class Traced:
    """A real SDK provider whose finished spans land in memory."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider = provider or TracerProvider()
        self.exporter = InMemorySpanExporter()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.backend = OTelBackend(tracer_provider=self.provider)

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def by_name(self) -> dict[str, ReadableSpan]:
        return {span.name: span for span in self.spans}


@pytest.fixture
def traced() -> Traced:
    """penstock configured with the OpenTelemetry backend on a private SDK provider."""
    setup = Traced()
    configure(setup.backend)
    return setup


def trace_id_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return f"{span.context.trace_id:032x}"


def _orders() -> type:
    @flow("otel_orders")
    class Orders:
        @entrypoint
        def receive(self, order_id: str) -> str | None:
            self.validate(order_id)
            return current_flow_id()

        @step(after="receive")
        def validate(self, order_id: str) -> None:
            """Check the order."""
            self.charge(order_id)

        @step(after="validate")
        def charge(self, order_id: str) -> None: ...

    return Orders


def test_spans_nest_and_carry_penstock_and_code_attributes(traced: Traced) -> None:
    cid = _orders()().receive("A-1")
    spans = traced.by_name()
    assert set(spans) == {"receive", "validate", "charge"}
    receive, validate, charge = spans["receive"], spans["validate"], spans["charge"]
    assert receive.parent is None
    assert validate.parent is not None
    assert validate.parent.span_id == receive.context.span_id  # type: ignore[union-attr]
    assert charge.parent.span_id == validate.context.span_id  # type: ignore[union-attr]
    assert {trace_id_of(s) for s in spans.values()} == {cid}
    attributes = dict(validate.attributes or {})
    assert attributes["penstock.flow"] == "otel_orders"
    assert attributes["penstock.step"] == "validate"
    assert attributes["penstock.entrypoint"] is False
    assert attributes["penstock.outcome"] == "ok"
    assert attributes["code.function"] == "validate"
    assert attributes["code.namespace"] == f"{__name__}._orders.Orders"
    assert attributes["code.filepath"] == __file__
    assert isinstance(attributes["code.lineno"], int)
    assert dict(receive.attributes or {})["penstock.entrypoint"] is True


def test_correlation_id_is_the_trace_id_everywhere(traced: Traced) -> None:
    seen: list[tuple[str | None, str]] = []

    @entrypoint("otel_ids")
    def start() -> None:
        current = trace.get_current_span().get_span_context()
        seen.append((current_flow_id(), f"{current.trace_id:032x}"))
        assert traced.backend.get_correlation_id() == current_flow_id()

    start()
    ((flow_id, trace_id),) = seen
    assert flow_id == trace_id == trace_id_of(traced.spans[0])


def test_log_records_carry_the_trace_id(traced: Traced, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app.otel")
    caplog.handler.addFilter(FlowContextFilter())

    @entrypoint("otel_logs")
    def start() -> None:
        logging.getLogger("app.otel").info("inside")

    start()
    (record,) = [r for r in caplog.records if r.name == "app.otel"]
    assert record.correlation_id == trace_id_of(traced.spans[0])  # type: ignore[attr-defined]


def test_entrypoint_joins_a_span_that_is_already_current(traced: Traced) -> None:
    """A web framework's server span (from OpenTelemetry's own instrumentation, say)."""

    @entrypoint("otel_join")
    def handle() -> str | None:
        return current_flow_id()

    server = traced.provider.get_tracer("web-framework")
    with server.start_as_current_span("GET /orders") as server_span:
        cid = handle()
        server_trace = f"{server_span.get_span_context().trace_id:032x}"
    assert cid == server_trace
    spans = traced.by_name()
    assert spans["handle"].parent.span_id == spans["GET /orders"].context.span_id  # type: ignore[union-attr]


def test_concurrent_async_flows_each_equal_their_trace(traced: Traced) -> None:
    count = 200

    @flow("otel_async")
    class AsyncFlow:
        @entrypoint
        async def handle(self, gate: asyncio.Event) -> tuple[str | None, str, str | None]:
            await gate.wait()
            inner = await self.work()
            current = trace.get_current_span().get_span_context()
            return current_flow_id(), f"{current.trace_id:032x}", inner

        @step(after="handle")
        async def work(self) -> str | None:
            await asyncio.sleep(0)
            return current_flow_id()

    async def main() -> list[tuple[str | None, str, str | None]]:
        gate = asyncio.Event()
        tasks = [asyncio.create_task(AsyncFlow().handle(gate)) for _ in range(count)]
        await asyncio.sleep(0)
        gate.set()
        return await asyncio.gather(*tasks)

    results = asyncio.run(main())
    assert all(cid == tid == inner for cid, tid, inner in results)
    assert len({cid for cid, _, _ in results}) == count
    spans = traced.spans
    assert len(spans) == 2 * count
    by_id = {s.context.span_id: s for s in spans}  # type: ignore[union-attr]
    for span in spans:
        if span.name == "work":
            parent = by_id[span.parent.span_id]  # type: ignore[union-attr]
            assert parent.name == "handle"
            assert trace_id_of(parent) == trace_id_of(span)


def test_threads_with_carry_flow_stay_in_the_trace(traced: Traced) -> None:
    barrier = threading.Barrier(4)

    @flow("otel_threads")
    class Threads:
        @entrypoint
        def fan_out(self) -> tuple[str | None, list[str | None]]:
            with ThreadPoolExecutor(max_workers=4) as pool:
                results = list(pool.map(carry_flow(self.work), range(4)))
            return current_flow_id(), results

        @step(after="fan_out")
        def work(self, _: int) -> str | None:
            barrier.wait(timeout=10)  # all four run at once
            return current_flow_id()

    cid, results = Threads().fan_out()
    assert results == [cid] * 4
    spans = traced.by_name()
    works = [s for s in traced.spans if s.name == "work"]
    assert len(works) == 4
    assert all(s.parent.span_id == spans["fan_out"].context.span_id for s in works)  # type: ignore[union-attr]


def test_exceptions_are_recorded_and_propagate_unchanged(traced: Traced) -> None:
    error = ValueError("card declined")

    @entrypoint("otel_error")
    def charge() -> None:
        raise error

    with pytest.raises(ValueError) as caught:
        charge()
    assert caught.value is error
    (span,) = traced.spans
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: card declined"
    assert [event.name for event in span.events] == ["exception"]
    assert span.events[0].attributes["exception.type"] == "ValueError"  # type: ignore[index]
    assert dict(span.attributes or {})["penstock.outcome"] == "error"


def test_cancellation_is_not_an_error(traced: Traced) -> None:
    @entrypoint("otel_cancel")
    async def slow() -> None:
        await asyncio.sleep(10)

    @entrypoint("otel_closed")
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
    for span in traced.spans:
        assert span.status.status_code is StatusCode.UNSET
        assert span.events == ()
        assert dict(span.attributes or {})["penstock.outcome"] == "cancelled"
    assert {s.name for s in traced.spans} == {"slow", "numbers"}


def test_generator_spans_cover_the_iteration(traced: Traced) -> None:
    @flow("otel_gen")
    class Gen:
        @entrypoint
        def rows(self, n: int) -> Iterator[int]:
            for index in range(n):
                yield self.render(index)

        @step(after="rows")
        def render(self, index: int) -> int:
            return index * 10

    gen = Gen().rows(3)
    assert traced.spans == []
    assert next(gen) == 0
    assert trace.get_current_span().get_span_context().is_valid is False, "no leak between yields"
    assert list(gen) == [10, 20]
    spans = traced.spans
    rows = next(s for s in spans if s.name == "rows")
    renders = [s for s in spans if s.name == "render"]
    assert len(renders) == 3
    assert all(s.parent.span_id == rows.context.span_id for s in renders)  # type: ignore[union-attr]
    assert rows.end_time >= max(s.end_time for s in renders)  # type: ignore[type-var]


def test_async_generator_spans_cover_the_iteration(traced: Traced) -> None:
    @flow("otel_agen")
    class AGen:
        @entrypoint
        async def stream(self, n: int) -> AsyncIterator[int]:
            for index in range(n):
                await asyncio.sleep(0)
                yield await self.render(index)

        @step(after="stream")
        async def render(self, index: int) -> int:
            return index + 1

    async def main() -> list[int]:
        return [value async for value in AGen().stream(3)]

    assert asyncio.run(main()) == [1, 2, 3]
    spans = traced.spans
    stream = next(s for s in spans if s.name == "stream")
    renders = [s for s in spans if s.name == "render"]
    assert len(renders) == 3
    assert all(s.parent.span_id == stream.context.span_id for s in renders)  # type: ignore[union-attr]
    assert stream.end_time >= max(s.end_time for s in renders)  # type: ignore[type-var]


def test_ratio_sampling_keeps_about_half_and_ids_stay_valid() -> None:
    setup = Traced(TracerProvider(sampler=TraceIdRatioBased(0.5)))
    configure(setup.backend)

    @entrypoint("otel_sampled")
    def start() -> tuple[str | None, bool]:
        span = trace.get_current_span()
        return current_flow_id(), span.is_recording()

    results = [start() for _ in range(2000)]
    sampled = sum(recorded for _, recorded in results)
    assert 850 <= sampled <= 1150, sampled
    assert len(setup.spans) == sampled
    ids = [cid for cid, _ in results]
    assert all(cid is not None and len(cid) == 32 and int(cid, 16) for cid in ids)
    assert len(set(ids)) == len(ids)


def test_explicit_provider_is_used_and_repr() -> None:
    setup = Traced()
    assert configure(setup.backend) is get_backend()
    assert repr(setup.backend) == "OTelBackend(tracer_provider=TracerProvider)"
    assert repr(OTelBackend()) == "OTelBackend(tracer_provider=global)"

    @entrypoint("otel_explicit")
    def start() -> None: ...

    start()
    assert [s.name for s in setup.spans] == ["start"]


def test_a_failing_exporter_never_reaches_the_application(caplog: pytest.LogCaptureFixture) -> None:
    """The SDK isolates exporter failures; penstock's step still returns its value."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Failing(SpanExporter):
        def export(self, spans: object) -> SpanExportResult:
            raise ConnectionError("collector down")

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Failing()))
    configure(OTelBackend(tracer_provider=provider))

    @entrypoint("otel_failing_exporter")
    def start(value: int) -> int:
        return value * 3

    assert [start(i) for i in range(50)] == [i * 3 for i in range(50)]


# -- configuration that touches process-wide state runs in a fresh interpreter -------------------


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "default", **env},
        check=False,
    )


def test_auto_picks_otel_only_with_a_real_provider() -> None:
    result = run_python(
        """
        import penstock
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        print(type(penstock.configure("auto")).__name__)
        trace.set_tracer_provider(TracerProvider())
        print(type(penstock.configure("auto")).__name__)
        """
    )
    assert result.stdout.split() == ["LoggingBackend", "OTelBackend"], result.stderr


def test_environment_variable_selects_otel() -> None:
    result = run_python(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        trace.set_tracer_provider(TracerProvider())
        import penstock
        print(type(penstock.get_backend()).__name__)
        """,
        PENSTOCK_BACKEND="otel",
    )
    assert result.stdout.strip() == "OTelBackend", result.stderr


def test_otel_without_sdk_provider_warns_once_and_keeps_valid_ids() -> None:
    result = run_python(
        """
        import penstock
        from penstock import current_flow_id, entrypoint
        penstock.configure("otel")
        penstock.configure("otel")

        @entrypoint("no_provider")
        def start():
            return current_flow_id()

        ids = {start() for _ in range(100)}
        assert len(ids) == 100 and all(len(i) == 32 and int(i, 16) for i in ids), ids
        print("ok")
        """
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert result.stderr.count("RuntimeWarning") == 1, result.stderr
    assert "found no OpenTelemetry SDK tracer provider" in result.stderr
    assert "penstock.backends.otel.setup()" in result.stderr
    assert result.stderr.startswith("<string>:"), "the warning points at the caller's code"


def test_provider_installed_after_configure_is_used_without_warning() -> None:
    result = run_python(
        """
        import penstock
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        penstock.configure("otel")
        trace.set_tracer_provider(TracerProvider())

        @penstock.entrypoint("late_provider")
        def start():
            return trace.get_current_span().is_recording()

        print(start())
        """
    )
    assert result.stdout.strip() == "True", result.stderr
    assert "RuntimeWarning" not in result.stderr


def test_environment_asking_for_otel_without_it_installed_falls_back() -> None:
    result = run_python(
        """
        import sys
        sys.modules["opentelemetry"] = None
        import penstock
        print(type(penstock.get_backend()).__name__)
        """,
        PENSTOCK_BACKEND="otel",
    )
    assert result.stdout.strip() == "LoggingBackend", result.stderr
    assert (
        "PENSTOCK_BACKEND: The OpenTelemetry backend needs an optional dependency" in result.stderr
    )


def test_setup_uses_a_provider_that_is_already_installed() -> None:
    result = run_python(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        mine = TracerProvider()
        trace.set_tracer_provider(mine)
        from penstock.backends.otel import setup
        backend = setup(exporter="console")
        print(backend.tracer_provider is None, trace.get_tracer_provider() is mine)
        """
    )
    assert result.stdout.split() == ["True", "True"], result.stderr
    assert "found a tracer provider already installed" in result.stderr


def test_missing_opentelemetry_names_the_extra() -> None:
    result = run_python(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if it were not installed
        import penstock
        from penstock.errors import MissingDependencyError
        try:
            penstock.configure("otel")
        except MissingDependencyError as exc:
            assert isinstance(exc, ImportError)
            print(exc)
        print(type(penstock.configure("auto")).__name__)
        """
    )
    lines = result.stdout.splitlines()
    assert lines == [
        (
            "The OpenTelemetry backend needs an optional dependency that is not installed; "
            'install it with: pip install "penstock[otel]"'
        ),
        "LoggingBackend",
    ], result.stderr


def test_setup_prints_spans_to_the_console_and_shutdown_flushes() -> None:
    result = run_python(
        """
        import json
        import penstock
        from penstock import entrypoint
        from penstock.backends.otel import setup
        from opentelemetry import trace

        backend = setup(exporter="console", service_name="checkout")
        assert penstock.get_backend() is backend
        assert trace.get_tracer_provider() is backend.tracer_provider

        @entrypoint("one_line")
        def start():
            return penstock.current_flow_id()

        print("cid", start(), flush=True)
        penstock.shutdown()
        penstock.shutdown()  # harmless twice
        """
    )
    assert result.returncode == 0, result.stderr
    first, rest = result.stdout.split("\n", 1)
    cid = first.split()[1]
    assert '"name": "start"' in rest
    assert f'"trace_id": "0x{cid}"' in rest
    assert '"service.name": "checkout"' in rest


def test_setup_reads_the_standard_environment() -> None:
    result = run_python(
        """
        import penstock
        from penstock.backends.otel import setup
        backend = setup()
        print(backend.tracer_provider.resource.attributes["service.name"])
        print(len(backend.tracer_provider._active_span_processor._span_processors))
        """,
        OTEL_TRACES_EXPORTER="none",
        OTEL_SERVICE_NAME="from-env",
    )
    assert result.stdout.split() == ["from-env", "0"], result.stderr


def test_setup_with_otlp_but_no_exporter_package_names_the_extra() -> None:
    result = run_python(
        """
        import sys
        sys.modules["opentelemetry.exporter"] = None
        from penstock.backends.otel import setup
        from penstock.errors import MissingDependencyError
        try:
            setup(exporter="otlp")
        except MissingDependencyError as exc:
            print(exc)
        try:
            setup(exporter="zipkin")
        except ValueError as exc:
            print(exc)
        """
    )
    assert result.stdout.splitlines() == [
        (
            "setup(exporter='otlp') needs an optional dependency that is not installed; "
            'install it with: pip install "penstock[otlp]"'
        ),
        "Unknown exporter 'zipkin' for setup(); choose 'console', 'otlp' or 'none'.",
    ], result.stderr
