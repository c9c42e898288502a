"""Celery app and tasks for the integration tests, in-process or in a real worker process.

The broker and result backend come from the environment, so the same module serves the in-process
worker (memory transport) and a ``celery worker`` subprocess talking to Redis. With
``PENSTOCK_TEST_OTEL=1`` the process installs an OpenTelemetry SDK provider and penstock's
OpenTelemetry backend, so tasks can report the trace they joined.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

import penstock
from penstock import current_flow_id, entrypoint, flow, get_flow_context
from penstock.contrib.celery import flow_task, install_celery_signals

app = Celery(
    "penstock_tests",
    broker=os.environ.get("PENSTOCK_TEST_BROKER", "memory://"),
    backend=os.environ.get("PENSTOCK_TEST_BACKEND", "cache+memory://"),
)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # The memory transport polls; the default second per message would make the tests crawl.
    broker_transport_options={"polling_interval": 0.01},
)
install_celery_signals()

if os.environ.get("PENSTOCK_TEST_OTEL") == "1":
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    trace.set_tracer_provider(TracerProvider())
    penstock.configure("otel")


def _trace() -> dict[str, Any]:
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover
        return {}
    span = trace.get_current_span()
    context = span.get_span_context()
    parent = getattr(span, "parent", None)
    return {
        "trace_id": f"{context.trace_id:032x}" if context.trace_id else None,
        "parent_span_id": f"{parent.span_id:016x}" if parent is not None else None,
    }


@app.task(name="penstock_tests.report")
def report() -> dict[str, Any]:
    """Say which flow the task runs in."""
    ctx = get_flow_context()
    return {"cid": current_flow_id(), "flow": ctx.flow_name if ctx else None}


@flow("celery_sync")
@entrypoint
def start_sync(part: str) -> str | None:
    """Begin the sync, in the sending process."""
    return current_flow_id()


@flow("celery_sync")
@flow_task(app=app, after="start_sync", name="write_changelog")
def write_changelog(part: str) -> dict[str, Any]:
    """A task that is a step of the flow: its span is a child of the sender's."""
    ctx = get_flow_context()
    return {"cid": current_flow_id(), "flow": ctx.flow_name if ctx else None, **_trace()}
