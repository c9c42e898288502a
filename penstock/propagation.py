"""Carry a flow across processes: HTTP calls, message queues, task queues.

The sending side writes the current flow into the outgoing headers with :func:`inject`; the
receiving side wraps its entrypoint call in :func:`continue_flow`, and the entrypoint continues
the caller's correlation ID instead of starting a fresh one.

Both backends send an ``X-Correlation-ID`` header. The OpenTelemetry backend also sends the W3C
``traceparent`` and ``tracestate`` headers through OpenTelemetry's configured propagators, so the
receiving side's spans join the caller's trace.

Incoming values are validated: a correlation ID must be 32 hexadecimal characters (a UUID with
hyphens is accepted and normalised) and not all zeros. Anything else is ignored, never echoed or
logged, and the flow starts with a fresh ID.

Examples:
    >>> from penstock import current_flow_id, entrypoint
    >>> from penstock.propagation import continue_flow, inject
    >>> @entrypoint("doc_worker")
    ... def handle() -> str | None:
    ...     return current_flow_id()
    >>> with continue_flow({"X-Correlation-ID": "0af7651916cd43dd8448eb211c80319c"}):
    ...     handle()
    '0af7651916cd43dd8448eb211c80319c'
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from penstock import _config
from penstock._context import _current_flow, _incoming_id

if TYPE_CHECKING:
    from penstock.backends.otel import OTelBackend

__all__ = [
    "CORRELATION_HEADER",
    "IncomingFlow",
    "continue_flow",
    "extract",
    "inject",
    "parse_correlation_id",
]

#: The header penstock writes and reads the correlation ID under.
CORRELATION_HEADER = "X-Correlation-ID"

#: Carriers: a mapping of header names to values, or a list of ``(name, value)`` pairs whose
#: values may be ``bytes`` (Kafka message headers, for instance).
Carrier = Mapping[str, Any] | Iterable[tuple[Any, Any]] | None

_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}\Z")
_ZERO = "0" * 32
_LONGEST = 64  # well past any valid value; longer input is rejected before any parsing


def parse_correlation_id(value: object) -> str | None:
    """Return ``value`` as a valid correlation ID, or ``None`` when it is not one.

    Accepts 32 hexadecimal characters in either case, or a UUID with hyphens, as ``str`` or
    ASCII ``bytes``, with surrounding whitespace; returns it as 32 lowercase hex characters. An
    all-zero ID is invalid.

    Examples:
        >>> from penstock.propagation import parse_correlation_id
        >>> parse_correlation_id("0AF76519-16CD-43DD-8448-EB211C80319C")
        '0af7651916cd43dd8448eb211c80319c'
        >>> parse_correlation_id("<script>") is None
        True
    """
    if isinstance(value, (bytes, bytearray)):
        if len(value) > _LONGEST:
            return None
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str) or len(value) > _LONGEST:
        return None
    candidate = value.strip().lower()
    if _UUID.match(candidate):
        candidate = candidate.replace("-", "")
    if not _HEX32.match(candidate) or candidate == _ZERO:
        return None
    return candidate


def _header_dict(carrier: Carrier) -> dict[str, str]:
    """Return the carrier's headers with lowercase names and text values; drops undecodable ones."""
    if carrier is None:  # confluent-kafka's Message.headers() is None when there are none
        return {}
    given: object = carrier  # checked at run time too: a str would iterate as characters
    if isinstance(given, (str, bytes)):
        msg = (
            "Headers must be a mapping or a list of (name, value) pairs, "
            f"got {type(carrier).__name__}."
        )
        raise TypeError(msg)
    items: Iterable[tuple[Any, Any]]
    items = carrier.items() if isinstance(carrier, Mapping) else carrier
    headers: dict[str, str] = {}
    for key, value in items:
        name = key.decode("latin-1") if isinstance(key, (bytes, bytearray)) else key
        text = value
        if isinstance(value, (bytes, bytearray)):
            try:
                text = bytes(value).decode("ascii")
            except UnicodeDecodeError:
                continue
        if isinstance(name, str) and isinstance(text, str):
            headers.setdefault(name.lower(), text)
    return headers


def _otel_backend() -> OTelBackend | None:
    # Resolve the backend now (as the first step would) so that auto-detection has happened;
    # the OpenTelemetry module is loaded only if that backend is the one in use.
    backend = _config.get_backend()
    module = sys.modules.get("penstock.backends.otel")
    if module is None:
        return None
    return backend if isinstance(backend, module.OTelBackend) else None


def inject(carrier: Any, *, header: str = CORRELATION_HEADER) -> Any:
    """Write the current flow into ``carrier`` and return it.

    ``carrier`` is a mutable mapping of headers (values are written as ``str``), or a list of
    ``(name, value)`` pairs, to which ``(name, bytes)`` pairs are appended as Kafka clients expect.
    Outside a flow nothing is written, except the trace context of a current OpenTelemetry span.

    Args:
        carrier: The outgoing headers.
        header: The name of the correlation-ID header.

    Examples:
        >>> from penstock import entrypoint
        >>> from penstock.propagation import inject
        >>> @entrypoint("doc_sender")
        ... def send() -> dict[str, str]:
        ...     return inject({})
        >>> list(send())
        ['X-Correlation-ID']
    """
    outgoing: dict[str, str] = {}
    backend = _otel_backend()
    if backend is not None:
        backend.inject(outgoing)
    ctx = _current_flow.get()
    if ctx is not None:
        outgoing[header] = ctx.flow_id
    # Values written before (a retried message, say) are replaced, whatever their case.
    replaced = {name.lower() for name in outgoing}
    if isinstance(carrier, MutableMapping):
        for old in [key for key in carrier if isinstance(key, str) and key.lower() in replaced]:
            del carrier[old]
        for name, value in outgoing.items():
            carrier[name] = value
    elif isinstance(carrier, list):
        carrier[:] = [pair for pair in carrier if _pair_name(pair) not in replaced]
        carrier.extend((name, value.encode("ascii")) for name, value in outgoing.items())
    else:
        msg = (
            "inject() writes into a mutable mapping of headers or a list of (name, value) pairs, "
            f"got {type(carrier).__name__}."
        )
        raise TypeError(msg)
    return carrier


def _pair_name(pair: object) -> str | None:
    if not isinstance(pair, tuple) or not pair:
        return None
    name = pair[0]
    if isinstance(name, (bytes, bytearray)):
        name = bytes(name).decode("latin-1")
    return name.lower() if isinstance(name, str) else None


@dataclass(frozen=True)
class IncomingFlow:
    """What :func:`extract` found in incoming headers.

    Attributes:
        correlation_id: The validated correlation ID, or ``None`` when none was valid.
        headers: The incoming headers, names in lowercase, for the propagators.
    """

    correlation_id: str | None
    # Every incoming header, Authorization included: kept out of repr() so logging the object
    # cannot leak them.
    headers: Mapping[str, str] = field(repr=False)


def extract(carrier: Carrier, *, header: str = CORRELATION_HEADER) -> IncomingFlow:
    """Read and validate the flow that ``carrier`` carries.

    The correlation ID comes from the ``header`` header; without a valid one, the trace id of a
    valid W3C ``traceparent`` is used, so a flow continues the trace of an OpenTelemetry caller.
    Header names match in any case. Invalid values are dropped without a trace.

    Examples:
        >>> from penstock.propagation import extract
        >>> extract([("x-correlation-id", b"0af7651916cd43dd8448eb211c80319c")]).correlation_id
        '0af7651916cd43dd8448eb211c80319c'
    """
    headers = _header_dict(carrier)
    correlation_id = parse_correlation_id(headers.get(header.lower()))
    if correlation_id is None:
        traceparent = headers.get("traceparent", "")
        usable = len(traceparent) <= _LONGEST + 16  # a traceparent is 55 characters
        match = _TRACEPARENT.match(traceparent.strip().lower()) if usable else None
        if match and match.group(1) != _ZERO:
            correlation_id = match.group(1)
    return IncomingFlow(correlation_id=correlation_id, headers=headers)


@contextlib.contextmanager
def continue_flow(
    carrier: Carrier | IncomingFlow, *, header: str = CORRELATION_HEADER
) -> Iterator[IncomingFlow]:
    """Make the entrypoints called inside the block continue the flow ``carrier`` carries.

    An entrypoint called in the block (and not nested in another flow) takes the incoming
    correlation ID as its own; under the OpenTelemetry backend its span also joins the caller's
    trace. When the headers hold nothing valid, the entrypoint starts a fresh flow as usual.

    Examples:
        >>> from penstock import current_flow_id, entrypoint
        >>> from penstock.propagation import continue_flow
        >>> @entrypoint("doc_consumer")
        ... def consume() -> str | None:
        ...     return current_flow_id()
        >>> with continue_flow({"X-Correlation-ID": "not valid"}):
        ...     len(consume())
        32
    """
    incoming = carrier if isinstance(carrier, IncomingFlow) else extract(carrier, header=header)
    token = _incoming_id.set(incoming.correlation_id)
    otel_token = None
    backend = _otel_backend()
    if backend is not None:
        remote = backend.remote_context(dict(incoming.headers), incoming.correlation_id)
        if remote is not None:
            from opentelemetry import context as otel_context

            otel_token = otel_context.attach(remote)
    try:
        yield incoming
    finally:
        if otel_token is not None:
            from opentelemetry import context as otel_context

            otel_context.detach(otel_token)
        _incoming_id.reset(token)
