"""The OpenTelemetry backend: every entrypoint and step is a real span.

Under this backend the correlation ID *is* the trace id: an entrypoint's span starts (or joins) a
trace, and the flow takes that trace's id as its correlation ID, so ``current_flow_id()``, the
log lines stamped by :class:`~penstock.contrib.logging.FlowContextFilter` and the trace viewer
all show the same 32 hex characters.

Examples:
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> import penstock
    >>> from penstock.backends.otel import OTelBackend
    >>> backend = penstock.configure(OTelBackend(tracer_provider=TracerProvider()))
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import TYPE_CHECKING, Any

from penstock._context import _current_flow, _current_step, new_flow_id
from penstock._version import __version__
from penstock.backends.base import TracingBackend, _cancelled
from penstock.errors import MissingDependencyError

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.trace import (
        NonRecordingSpan,
        SpanContext,
        Status,
        StatusCode,
        TraceFlags,
    )
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without the package
    raise MissingDependencyError("The OpenTelemetry backend", "otel") from exc

if TYPE_CHECKING:
    from collections.abc import MutableMapping
    from types import TracebackType

    from penstock._types import StepInfo

__all__ = ["OTelBackend", "has_sdk_provider", "setup"]

_TRACER_NAME = "penstock"
_INVALID_TRACE_ID = 0
_warned_no_provider = False
_warn_lock = threading.Lock()


def has_sdk_provider() -> bool:
    """Return whether a real tracer provider is installed globally, not the API's placeholder.

    With only the API, OpenTelemetry hands out no-op spans whose trace id is zero; penstock then
    keeps its own correlation IDs instead.
    """
    provider = trace.get_tracer_provider()
    return not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def _step_attributes(info: StepInfo) -> dict[str, Any]:
    namespace, _, function = info.qualname.rpartition(".")
    module_and_class = f"{info.module}.{namespace}" if namespace else info.module
    return {
        "penstock.flow": info.flow,
        "penstock.step": info.name,
        "penstock.entrypoint": info.entrypoint,
        "code.function": function,
        "code.namespace": module_and_class.replace(".<locals>", ""),
        "code.filepath": info.file,
        "code.lineno": info.line,
    }


class _OTelSpan:
    """One execution of a step as a span, current for as long as the step runs."""

    __slots__ = ("_backend", "_name", "_span", "_token")

    def __init__(self, backend: OTelBackend, name: str) -> None:
        self._backend = backend
        self._name = name

    def __enter__(self) -> trace.Span:
        backend = self._backend
        info = _current_step.get()
        attributes = backend.attributes_for(info) if info is not None else None
        span = backend.tracer.start_span(
            self._name,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        self._span = span
        self._token = otel_context.attach(trace.set_span_in_context(span))
        if info is not None and info.entrypoint:
            # The entrypoint started or joined a trace: from now on its id is the flow's
            # correlation ID. A no-op span (API without SDK) has trace id 0 and changes nothing.
            trace_id = span.get_span_context().trace_id
            ctx = _current_flow.get()
            if trace_id != _INVALID_TRACE_ID and ctx is not None:
                ctx._flow_id = f"{trace_id:032x}"
        return span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self._span
        try:
            if exc is None:
                span.set_attribute("penstock.outcome", "ok")
            elif _cancelled(exc):
                # Stopped from outside (a cancelled task, a generator closed early): the span
                # says so, but it is not an error of the application.
                span.set_attribute("penstock.outcome", "cancelled")
            else:
                span.set_attribute("penstock.outcome", "error")
                span.record_exception(exc)
                text = str(exc)
                description = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
                span.set_status(Status(StatusCode.ERROR, description))
        finally:
            otel_context.detach(self._token)
            span.end()


class OTelBackend(TracingBackend):
    """Record every entrypoint and step as an OpenTelemetry span.

    Spans are named after the step and carry ``penstock.flow``, ``penstock.step``,
    ``penstock.entrypoint``, ``penstock.outcome`` and the semantic-convention code attributes
    ``code.function``, ``code.namespace``, ``code.filepath`` and ``code.lineno``. A step's span is
    a child of the span that is current when it runs, and it ends when the step's work ends (for
    generators, when the iteration ends).

    Args:
        tracer_provider: The provider to create spans with. Without one, the global provider is
            used, even one installed after this backend was created. Passing one explicitly suits
            tests and applications that keep several providers.

    Raises:
        MissingDependencyError: OpenTelemetry is not installed (``pip install "penstock[otel]"``).
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self.tracer_provider = tracer_provider
        if tracer_provider is None:
            # A proxy tracer: it follows the global provider, even one set later.
            self.tracer: trace.Tracer = trace.get_tracer(_TRACER_NAME, __version__)
        else:
            self.tracer = tracer_provider.get_tracer(_TRACER_NAME, __version__)
        self._attributes: dict[int, tuple[StepInfo, dict[str, Any]]] = {}

    def __repr__(self) -> str:
        provider = "global" if self.tracer_provider is None else type(self.tracer_provider).__name__
        return f"OTelBackend(tracer_provider={provider})"

    def attributes_for(self, info: StepInfo) -> dict[str, Any]:
        """Return the span attributes of ``info``, computed once per step definition."""
        cached = self._attributes.get(id(info))
        if cached is not None and cached[0] is info:
            return cached[1]
        attributes = _step_attributes(info)
        self._attributes[id(info)] = (info, attributes)
        return attributes

    def span(self, step_name: str, flow_name: str, **attrs: Any) -> _OTelSpan:
        """Return a context manager that runs a step inside a new current span."""
        if self.tracer_provider is None and not _warned_no_provider:
            # Checked when the first span opens, not at configure(): installing the provider
            # after configuring penstock is fine.
            warn_if_no_provider()
        return _OTelSpan(self, step_name)

    def get_correlation_id(self) -> str:
        """Return the current trace id as 32 hex characters, or ``""`` when there is none."""
        trace_id = trace.get_current_span().get_span_context().trace_id
        return f"{trace_id:032x}" if trace_id else ""

    # -- propagation, used by penstock.propagation ---------------------------------------------

    def inject(self, headers: MutableMapping[str, str]) -> None:
        """Write the current trace context into ``headers`` with the configured propagators."""
        from opentelemetry import propagate  # loads the propagators' entry points: only if used

        propagate.inject(headers)

    def remote_context(
        self, headers: dict[str, str], correlation_id: str | None
    ) -> otel_context.Context | None:
        """Return the context an incoming flow continues in, or ``None`` for a fresh trace.

        A valid ``traceparent`` (or whatever the configured propagators read) wins. Without one,
        a valid correlation ID still continues: it becomes the trace id, under a remote parent
        that stands for the caller.
        """
        from opentelemetry import propagate

        extracted = propagate.extract(headers)
        if trace.get_current_span(extracted).get_span_context().is_valid:
            return extracted
        if correlation_id is None:
            return None
        parent = SpanContext(
            trace_id=int(correlation_id, 16),
            span_id=int(new_flow_id()[:16], 16) or 1,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        return trace.set_span_in_context(NonRecordingSpan(parent))


def warn_if_no_provider() -> None:
    """Warn, once per process, that the global provider is OpenTelemetry's no-op placeholder."""
    global _warned_no_provider  # noqa: PLW0603 - one warning per process
    with _warn_lock:
        if _warned_no_provider:
            return
        if has_sdk_provider():
            return
        _warned_no_provider = True
    from penstock._config import _caller_stacklevel

    warnings.warn(
        "penstock's OpenTelemetry backend found no OpenTelemetry SDK tracer provider, so no "
        "spans are recorded (correlation IDs still work). Install one with "
        "trace.set_tracer_provider(...), call penstock.backends.otel.setup(), or pass "
        "OTelBackend(tracer_provider=...).",
        RuntimeWarning,
        stacklevel=_caller_stacklevel(),
    )


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            try:
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                    OTLPSpanExporter,
                )
            except ImportError as exc:
                raise MissingDependencyError("setup(exporter='otlp')", "otlp") from exc
        return OTLPSpanExporter()
    msg = f"Unknown exporter {name!r} for setup(); choose 'console', 'otlp' or 'none'."
    raise ValueError(msg)


def setup(exporter: str | None = None, *, service_name: str | None = None) -> OTelBackend:
    """Set up tracing in one line, for applications that have none yet.

    Creates an OpenTelemetry SDK tracer provider with the SDK's own batch processor and exporter,
    installs it globally when no other provider is installed, and makes penstock record to it.
    The standard ``OTEL_*`` environment variables configure it as usual: ``OTEL_SERVICE_NAME`` and
    ``OTEL_RESOURCE_ATTRIBUTES`` the resource, ``OTEL_EXPORTER_OTLP_*`` the OTLP exporter.

    Args:
        exporter: ``"console"`` prints finished spans (for local development), ``"otlp"`` sends
            them to a collector (needs ``opentelemetry-exporter-otlp``), ``"none"`` records
            without exporting. By default ``OTEL_TRACES_EXPORTER`` decides, and otherwise
            ``"otlp"`` when an OTLP endpoint is configured, else ``"console"``.
        service_name: Overrides ``OTEL_SERVICE_NAME``.

    Returns:
        The backend now in force. :func:`penstock.shutdown` flushes and shuts down what this
        created.

    Examples:
        >>> from penstock.backends.otel import setup
        >>> backend = setup(exporter="none", service_name="checkout")  # doctest: +SKIP
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from penstock import _config

    if has_sdk_provider():
        # The application already traces: record into its provider rather than beside it.
        warnings.warn(
            "penstock.backends.otel.setup() found a tracer provider already installed; "
            "penstock records to it and creates nothing (use configure('otel') for this).",
            RuntimeWarning,
            stacklevel=2,
        )
        existing = OTelBackend()
        _config.configure(existing)
        return existing
    if exporter is None:
        configured = os.environ.get("OTEL_TRACES_EXPORTER", "").split(",")[0].strip().lower()
        if configured:
            exporter = configured
        elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        ):
            exporter = "otlp"
        else:
            exporter = "console"
    exporter = exporter.strip().lower()
    attributes = {"service.name": service_name} if service_name else {}
    provider = TracerProvider(resource=Resource.create(attributes))
    if exporter != "none":
        provider.add_span_processor(BatchSpanProcessor(_exporter(exporter)))
    if not has_sdk_provider():
        trace.set_tracer_provider(provider)
    backend = OTelBackend(tracer_provider=provider)
    _config.configure(backend)
    _config.own(provider.shutdown)
    return backend
