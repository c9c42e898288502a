"""What every web integration does for a request: enter its flow, answer with its ID, clean up.

A request gets a flow context for its whole life, streamed bodies included. Its correlation ID
continues a valid incoming ``X-Correlation-ID`` (or, under OpenTelemetry, the incoming trace);
anything else is ignored and a fresh ID is used. Under the OpenTelemetry backend a server span
covers the request, unless the framework's own OpenTelemetry instrumentation already opened
one, so the correlation ID is always the trace id.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from penstock._context import FlowContext, _current_flow, new_flow_id
from penstock.propagation import CORRELATION_HEADER, Carrier, _otel_backend, extract

if TYPE_CHECKING:
    from penstock.backends.otel import OTelBackend

__all__ = ["CORRELATION_HEADER", "RequestScope", "iterate_in", "iterate_in_async"]

DEFAULT_FLOW_NAME = "http.request"


class RequestScope:
    """The flow context of one request, from the first byte in to the last byte out.

    Args:
        headers: The request's headers.
        method: The HTTP method, for the server span's name.
        path: The request path, for the server span's attributes.
        header: The correlation-ID header name, incoming and outgoing.
        flow_name: The flow name the request's context carries.
    """

    def __init__(
        self,
        headers: Carrier,
        *,
        method: str = "",
        path: str = "",
        header: str = CORRELATION_HEADER,
        flow_name: str = DEFAULT_FLOW_NAME,
    ) -> None:
        self.header = header
        self._incoming = extract(headers, header=header)
        self._method = method.upper()
        self._path = path
        self._flow_name = flow_name
        self._span: Any = None
        self._otel_tokens: list[object] = []
        self._flow_token: contextvars.Token[FlowContext | None] | None = None
        self.context: FlowContext | None = None

    def start(self) -> FlowContext:
        """Enter the request's flow in the current context and return it."""
        backend = _otel_backend()
        flow_id = self._incoming.correlation_id or new_flow_id()
        if backend is not None:
            flow_id = self._start_otel(backend, flow_id)
        parent = _current_flow.get()
        if parent is not None:
            # Inside a flow already (an app calling another app in-process): same operation.
            flow_id = parent.flow_id
        self.context = FlowContext(flow_id, self._flow_name, {})
        self._flow_token = _current_flow.set(self.context)
        return self.context

    def _start_otel(self, backend: OTelBackend, flow_id: str) -> str:
        from opentelemetry import context as otel_context
        from opentelemetry import trace

        remote = backend.remote_context(dict(self._incoming.headers), self._incoming.correlation_id)
        if remote is not None:
            self._otel_tokens.append(otel_context.attach(remote))
        current = trace.get_current_span().get_span_context()
        if not (current.is_valid and not current.is_remote):
            # No server span from the framework's own instrumentation: open one, so the request
            # has a span and the correlation ID a trace to be the id of.
            attributes = {"http.request.method": self._method or "_OTHER"}
            if self._path:
                attributes["url.path"] = self._path
            self._span = backend.tracer.start_span(
                self._method or "HTTP", kind=trace.SpanKind.SERVER, attributes=attributes
            )
            self._otel_tokens.append(otel_context.attach(trace.set_span_in_context(self._span)))
        trace_id = trace.get_current_span().get_span_context().trace_id
        return f"{trace_id:032x}" if trace_id else flow_id

    def response_headers(self) -> list[tuple[str, str]]:
        """The headers to add to the response."""
        return [] if self.context is None else [(self.header, self.context.flow_id)]

    def set_status(self, status: int, route: str | None = None) -> None:
        """Record the response's status (and the matched route) on the server span."""
        span = self._span
        if span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        span.set_attribute("http.response.status_code", status)
        if route:
            span.set_attribute("http.route", route)
            span.update_name(f"{self._method} {route}")
        if status >= 500:  # noqa: PLR2004 - server errors are the span's errors, by convention
            span.set_status(Status(StatusCode.ERROR))

    def leave(self) -> None:
        """Restore the context as it was before :meth:`start`; the span may stay open."""
        if self._flow_token is not None:
            _current_flow.reset(self._flow_token)
            self._flow_token = None
        if self._otel_tokens:
            from opentelemetry import context as otel_context

            for token in reversed(self._otel_tokens):
                otel_context.detach(token)  # type: ignore[arg-type]
            self._otel_tokens = []

    def finish(self, error: BaseException | None = None) -> None:
        """End the server span, if penstock opened one; safe to call more than once."""
        span, self._span = self._span, None
        if span is None:
            return
        if error is not None and isinstance(error, Exception):
            from opentelemetry.trace import Status, StatusCode

            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


def iterate_in(
    context: contextvars.Context, body: Iterable[Any], on_close: Any = None
) -> Iterator[Any]:
    """Yield ``body``'s items, producing each inside ``context``; call ``on_close`` at the end.

    A streamed body is produced after the view has returned, by the server: running it in a copy
    of the request's context keeps the flow in force until the last chunk, without ever leaving
    it behind in the server's own context.
    """
    iterator = context.run(iter, body)
    try:
        while True:
            try:
                chunk = context.run(next, iterator)
            except StopIteration:
                return
            yield chunk
    finally:
        close = getattr(body, "close", None)
        try:
            if close is not None:
                context.run(close)
        finally:
            if on_close is not None:
                context.run(on_close)


async def iterate_in_async(
    context: contextvars.Context, body: Any, on_close: Any = None
) -> AsyncIterator[Any]:
    """The asynchronous :func:`iterate_in`, for async streamed bodies."""
    from penstock._decorators import _RunIn

    iterator = context.run(body.__aiter__)
    try:
        while True:
            try:
                chunk = await _RunIn(context, iterator.__anext__())
            except StopAsyncIteration:
                return
            yield chunk
    finally:
        close = getattr(iterator, "aclose", None)
        try:
            if close is not None:
                await _RunIn(context, close())
        finally:
            if on_close is not None:
                context.run(on_close)
