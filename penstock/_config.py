"""Which backend records flows: chosen by :func:`configure`, the environment, or detection."""

from __future__ import annotations

import os
import sys
import threading
import warnings

from penstock._typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable
    from typing import Literal

    BackendName = Literal["logging", "otel", "auto"]

    from penstock._observe import Observation
    from penstock._types import StepInfo

from penstock._context import _current_flow, _current_step
from penstock.backends.base import TracingBackend

ENV_VAR = "PENSTOCK_BACKEND"
_CHOICES = ("logging", "otel", "auto")

_lock = threading.Lock()
# The active backend; None until configure() is called or the first step needs one. The
# wrappers read this module attribute directly, which is the cheapest lookup Python offers.
backend: TracingBackend | None = None
# The active penstock.observe() observation, if any: read by the wrappers on the recording path.
observer: Observation | None = None
# (id(backend), phase) pairs whose failure has been reported, so each is logged only once.
_reported: set[tuple[int, str]] = set()
_PHASES = {
    "checking": ("checking whether to record", "the step ran without a span"),
    "opening": ("opening a span", "the step ran without it"),
    "closing": ("closing a span", "the step's result is unaffected"),
    "observing": ("recording an observation", "the step ran unaffected"),
}


def _logging_backend() -> TracingBackend:
    # Imported when first needed: the standard library's logging is not free to import, and
    # `import penstock` should cost an application as little as possible.
    from penstock.backends.logging import LoggingBackend

    return LoggingBackend()


def _penstock_logger() -> logging.Logger:
    import logging

    return logging.getLogger("penstock")


def _by_name(name: str) -> TracingBackend:
    if name == "logging":
        return _logging_backend()
    if name == "otel":
        from penstock.backends.otel import OTelBackend

        return OTelBackend()
    if name == "auto":
        return _detect()
    choices = ", ".join(repr(choice) for choice in _CHOICES)
    msg = (
        f"Unknown penstock backend {name!r}; choose one of {choices} "
        "or pass a TracingBackend instance."
    )
    raise ValueError(msg)


def _detect() -> TracingBackend:
    # OpenTelemetry only when a real tracer provider is installed: with the API alone every span
    # would be a no-op with trace id zero, losing the logs and gaining nothing.
    if "opentelemetry.trace" not in sys.modules and not _importable("opentelemetry.trace"):
        return _logging_backend()
    try:
        from opentelemetry import trace

        placeholder = isinstance(
            trace.get_tracer_provider(), (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
        )
        if placeholder:
            return _logging_backend()
        from penstock.backends.otel import OTelBackend
    except ImportError:  # pragma: no cover - importable, but broken
        return _logging_backend()
    return OTelBackend()


def _importable(module: str) -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def configure(backend: TracingBackend | BackendName | str = "auto") -> TracingBackend:
    """Choose how penstock records entrypoints and steps, and return the backend in force.

    Args:
        backend: ``"logging"`` for structured ``logging`` records, ``"otel"`` for OpenTelemetry
            spans, ``"auto"`` to let penstock pick (OpenTelemetry when a real tracer provider is
            installed, else logging), or a :class:`~penstock.backends.TracingBackend` instance.

    Without any call to ``configure``, the first step that runs reads the ``PENSTOCK_BACKEND``
    environment variable (same names), and falls back to ``"auto"``.

    Raises:
        ValueError: ``backend`` is a name penstock does not know; the message lists the choices.
        TypeError: ``backend`` is neither a name nor a ``TracingBackend``.

    Examples:
        >>> import penstock
        >>> penstock.configure("logging")
        LoggingBackend(logger='penstock', level=20)
    """
    given: object = backend  # checked at run time too: configure() is often fed from settings
    if isinstance(given, str):
        chosen = _by_name(given)
    elif isinstance(given, TracingBackend):
        chosen = given
    else:
        msg = (
            "configure() takes a backend name or a TracingBackend instance, got "
            f"{type(backend).__name__}: {backend!r}."
        )
        raise TypeError(msg)
    _install(chosen)
    return chosen


def _install(chosen: TracingBackend) -> None:
    global backend  # noqa: PLW0603 - the one place the active backend changes
    with _lock:
        backend = chosen
        _reported.clear()


def get_backend() -> TracingBackend:
    """Return the active backend, choosing it now if nothing has been configured yet."""
    current = backend
    return current if current is not None else _resolve()


def _resolve() -> TracingBackend:
    """Pick the backend on first use: ``PENSTOCK_BACKEND``, then detection."""
    global backend  # noqa: PLW0603 - lazily filled on first use
    with _lock:
        if backend is not None:
            return backend
        name = os.environ.get(ENV_VAR, "").strip().lower()
        chosen: TracingBackend | None = None
        if name:
            try:
                chosen = _by_name(name)
            except (ValueError, ImportError) as exc:
                # Raising here would fail the application's first request over a typo in its
                # environment; say it loudly and keep going with detection instead.
                warnings.warn(
                    f"{ENV_VAR}: {exc} Using 'auto'.",
                    RuntimeWarning,
                    stacklevel=_caller_stacklevel(),
                )
        backend = chosen if chosen is not None else _detect()
        return backend


def _caller_stacklevel() -> int:
    """Return the ``stacklevel`` that points a warning at the first frame outside penstock."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)  # the only portable way to find the caller on 3.10
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


_owned: list[Callable[[], object]] = []


def own(shutdown_callback: Callable[[], object]) -> None:
    """Remember something penstock created, to be shut down by :func:`shutdown`."""
    with _lock:
        _owned.append(shutdown_callback)


def shutdown() -> None:
    """Flush and shut down whatever penstock itself created.

    That is the tracer provider of :func:`penstock.backends.otel.setup`, for instance; providers
    you created yourself are left alone.

    Safe to call more than once, and at exit. Steps keep running afterwards; what they record is
    no longer exported.
    """
    with _lock:
        callbacks = list(reversed(_owned))
        _owned.clear()
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:  # noqa: BLE001, PERF203 - shutting down must never raise
            _penstock_logger().warning("penstock: shutting down %r failed: %s", callback, exc)


def reset() -> None:
    """Forget the configured backend, so the next step chooses again (for tests)."""
    global backend  # noqa: PLW0603 - tests start from a clean slate
    with _lock:
        backend = None
        _reported.clear()


def report_failure(
    failed: TracingBackend, phase: str, exc: BaseException, step: StepInfo | None = None
) -> None:
    """Log that ``failed`` raised during ``phase``, once per backend and phase, and never raise.

    The step that triggered it (``step``, or the current one) goes on without its span; the
    application sees nothing.
    """
    key = (id(failed), phase)
    if key in _reported:
        return
    _reported.add(key)
    doing, consequence = _PHASES.get(phase, (phase, "the step ran unaffected"))
    message = (
        "penstock: backend %r raised %s while %s; %s. "
        "Further failures of this backend in this phase are not logged."
    )
    ctx = _current_flow.get()
    info = step if step is not None else _current_step.get()
    # The same fields the step records carry, so a format string that uses them still works.
    extra = {
        "flow": "-" if ctx is None else ctx.flow_name,
        "step": "-" if info is None else info.name,
        "correlation_id": "-" if ctx is None else ctx.flow_id,
    }
    try:
        _penstock_logger().error(
            message, failed, type(exc).__name__, doing, consequence, exc_info=exc, extra=extra
        )
    except Exception:  # noqa: BLE001 - logging itself is broken; stderr is all that is left
        # Nowhere left to report if stderr fails too; never raise into the host.
        try:  # noqa: SIM105 - no contextlib: import time matters
            sys.stderr.write(
                f"penstock: backend {failed!r} raised {type(exc).__name__} while {phase} a span\n"
            )
        except Exception:  # noqa: BLE001, S110 - no contextlib: import time matters
            pass
