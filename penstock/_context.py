"""The flow context: which flow invocation is running, its correlation ID and its metadata.

Two context variables carry the state. ``_current_flow`` holds the :class:`FlowContext` of the
running invocation and changes only at entrypoints; ``_current_step`` holds the step that is
running and changes at every step. Keeping them apart means a step costs one variable set and
reset, and concurrent steps never write to the flow context object. (The one write after
creation: the OpenTelemetry backend replaces a new entrypoint's provisional ID with the trace id
of its span, before the entrypoint's own code runs.)

Both are always restored with the token their ``set()`` returned, never by setting ``None``:
resetting by token puts back exactly what was there before, even when flows nest.
"""

from __future__ import annotations

import contextvars
import functools
import os
import random
from types import MappingProxyType

from penstock._typing import TYPE_CHECKING
from penstock.errors import NotInFlowError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, ParamSpec, TypeVar

    from penstock._types import StepInfo

    P = ParamSpec("P")
    R = TypeVar("R")

_MISSING: Any = object()

# A generator of our own, seeded from the operating system: the application seeding the global
# `random` (tests, simulations) must neither make IDs repeat nor see its sequence shifted by us.
_ids = random.Random()  # noqa: S311 - correlation IDs identify, they do not protect
_getrandbits = _ids.getrandbits
if hasattr(os, "register_at_fork"):
    # A forked worker would otherwise draw the same IDs as its parent and its siblings.
    os.register_at_fork(after_in_child=_ids.seed)


class FlowContext:
    """The state of one running flow invocation.

    Attributes are read-only; change metadata with :func:`set_flow_context_value`.

    Examples:
        >>> from penstock import get_flow_context
        >>> get_flow_context() is None  # outside any entrypoint
        True
    """

    __slots__ = ("_flow_id", "_flow_name", "_metadata", "_observation")

    def __init__(
        self, flow_id: str, flow_name: str, metadata: dict[str, Any] | None = None
    ) -> None:
        self._flow_id = flow_id
        self._flow_name = flow_name
        self._metadata: dict[str, Any] = {} if metadata is None else metadata
        self._observation: Any = None

    @property
    def flow_id(self) -> str:
        """The correlation ID: 32 lowercase hexadecimal characters, shared by every step."""
        return self._flow_id

    @property
    def flow_name(self) -> str:
        """The name of the flow whose entrypoint started this context."""
        return self._flow_name

    @property
    def metadata(self) -> Mapping[str, Any]:
        """A read-only view of the values set with :func:`set_flow_context_value`."""
        return MappingProxyType(self._metadata)

    def __repr__(self) -> str:
        return (
            f"FlowContext(flow_id={self._flow_id!r}, flow_name={self._flow_name!r}, "
            f"metadata={self._metadata!r})"
        )


_current_flow: contextvars.ContextVar[FlowContext | None] = contextvars.ContextVar(
    "penstock_flow", default=None
)
_current_step: contextvars.ContextVar[StepInfo | None] = contextvars.ContextVar(
    "penstock_step", default=None
)


class _Observed:
    """Whether anything can read the current step, which decides whether steps track it."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = False


#: Setting the current-step variable is most of what a step costs when nothing is recorded, so
#: steps only do it once something reads it: a recording backend (always), the log filter or
#: the structlog processor (from the moment they are created).
observed = _Observed()


def observe_steps() -> None:
    """Make every step track itself as the current step from now on."""
    observed.steps = True


# A correlation ID received from another process (penstock.propagation.continue_flow): the next
# top-level entrypoint continues it instead of starting a fresh one.
_incoming_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "penstock_incoming_id", default=None
)


def new_flow_id() -> str:
    """Return a fresh correlation ID: 128 random bits as 32 lowercase hex characters.

    All 128 bits are random (unlike ``uuid4``, which fixes six of them), so trace-id ratio
    samplers that read the low bits see a uniform distribution. An all-zero ID is invalid in
    W3C Trace Context and is drawn again.
    """
    # %-formatting is the fastest way to hex here; this runs for every top-level entrypoint.
    # A zero draw (one chance in 2**128) is drawn again.
    return "%032x" % (_getrandbits(128) or _getrandbits(128) or 1)


def current_flow_id() -> str | None:
    """Return the correlation ID of the running flow, or ``None`` outside any flow.

    Examples:
        >>> from penstock import current_flow_id
        >>> current_flow_id() is None
        True
    """
    ctx = _current_flow.get()
    return None if ctx is None else ctx._flow_id


def get_flow_context() -> FlowContext | None:
    """Return the :class:`FlowContext` of the running flow, or ``None`` outside any flow."""
    return _current_flow.get()


def current_step() -> StepInfo | None:
    """Return the step that is running in this context, or ``None``."""
    return _current_step.get()


def get_flow_context_value(key: str, default: Any = None) -> Any:
    """Return the metadata value stored under ``key`` in the running flow.

    Returns ``default`` when the key was never set or when no flow is running, so downstream
    code can read optional metadata without guarding.

    Examples:
        >>> from penstock import get_flow_context_value
        >>> get_flow_context_value("user", "anonymous")
        'anonymous'
    """
    ctx = _current_flow.get()
    if ctx is None:
        return default
    return ctx._metadata.get(key, default)


def set_flow_context_value(key: str, value: Any) -> None:
    """Store ``value`` under ``key`` in the running flow's metadata.

    Later steps of the same invocation read it with :func:`get_flow_context_value`. A nested
    entrypoint gets its own copy, so what it sets does not leak back into the caller's flow.

    Raises:
        TypeError: ``key`` is not a string.
        NotInFlowError: No flow is running; call it from inside an entrypoint or step.
    """
    given: object = key  # checked at run time too, for callers without a type checker
    if not isinstance(given, str):
        msg = f"set_flow_context_value() needs a str key, got {type(key).__name__}: {key!r}."
        raise TypeError(msg)
    ctx = _current_flow.get()
    if ctx is None:
        msg = (
            f"set_flow_context_value({key!r}, ...) was called outside any flow; call it from "
            "code that runs inside an @entrypoint (or a step it calls)."
        )
        raise NotInFlowError(msg)
    ctx._metadata[key] = value


def carry_flow(func: Callable[P, R]) -> Callable[P, R]:
    """Bind ``func`` to the current flow so it can run in another thread.

    Context variables do not follow work into a ``ThreadPoolExecutor``: a pool thread runs with
    its own, empty context. The callable returned here runs ``func`` in a copy of the context
    that was current when ``carry_flow`` was called, so ``current_flow_id()``, metadata and
    steps work inside it. Each call gets its own copy, so the callable can be submitted many
    times and run concurrently (``executor.map`` included).

    Examples:
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> from penstock import carry_flow
        >>> with ThreadPoolExecutor() as pool:
        ...     list(pool.map(carry_flow(str.upper), ["a", "b"]))
        ['A', 'B']

    ``asyncio.to_thread`` already copies the context and needs no help.
    """
    snapshot = contextvars.copy_context()

    @functools.wraps(func)
    def run_in_flow(*args: P.args, **kwargs: P.kwargs) -> R:
        # A Context can be entered by one thread at a time, so every call runs in a fresh copy.
        return snapshot.copy().run(func, *args, **kwargs)

    return run_in_flow
