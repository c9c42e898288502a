"""penstock's OpenTelemetry backend against a raw ``tracer.start_as_current_span``.

Both sides run the same trivial work inside the same SDK provider with a span processor
installed, and open their spans with the same attributes; the only difference is penstock.
Target: a penstock step costs at most 1.10 times the raw span.

Run with ``make bench`` (all benchmarks) or ``python -m benchmarks.bench_otel``.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import penstock
from benchmarks._harness import measure, report
from penstock import entrypoint, step
from penstock.backends.otel import OTelBackend, _step_attributes


def work() -> int:
    return 1


def run() -> dict:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    penstock.configure(OTelBackend(tracer_provider=provider))
    tracer = provider.get_tracer("raw")

    traced_work = step("bench_otel", name="work")(work)

    @entrypoint("bench_otel")
    def penstock_steps(ops: int) -> None:
        for _ in range(ops):
            traced_work()
        exporter.clear()

    info = penstock.get_flow("bench_otel").steps["work"]
    attributes = {**_step_attributes(info), "penstock.outcome": "ok"}

    def raw_spans(ops: int) -> None:
        with tracer.start_as_current_span("outer"):
            for _ in range(ops):
                with tracer.start_as_current_span("work", attributes=attributes):
                    work()
        exporter.clear()

    results = measure(
        {"raw start_as_current_span": raw_spans, "penstock step (OTelBackend)": penstock_steps},
        reference="raw start_as_current_span",
        ops=500,
        rounds=41,
    )
    return report(
        "OpenTelemetry backend: cost per step",
        results,
        target=("penstock step (OTelBackend)", 1.10),
    )


if __name__ == "__main__":
    run()
