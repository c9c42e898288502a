"""The default backend: structured records through the standard library's ``logging``."""

from __future__ import annotations

import functools
import logging
from time import perf_counter
from typing import TYPE_CHECKING, Any

from penstock._context import _current_flow
from penstock.backends.base import TracingBackend, _cancelled

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["LoggingBackend"]

_current_flow_get = _current_flow.get


def _exception_name(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class _LogSpan:
    """One step execution: a ``step.start`` record on enter, ``step.end`` on exit."""

    __slots__ = ("_backend", "_extra", "_start")

    def __init__(self, backend: LoggingBackend, extra: dict[str, Any]) -> None:
        self._backend = backend
        self._extra = extra
        self._start = 0.0

    def __enter__(self) -> None:
        extra = self._extra
        # One dict serves both records: a record copies the extras when it is created, so
        # updating the dict for the end record leaves the start record as it was.
        extra["event"] = "step.start"
        backend = self._backend
        backend._emit("step.start %s.%s", (extra["flow"], extra["step"]), extra=extra)
        self._start = perf_counter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # To the microsecond. Not round(x, 3): that goes through a decimal string and cost a
        # third of a microsecond, a third of all penstock adds to a recorded step; the two can
        # differ only where a duration lies exactly halfway between two microseconds.
        duration_ms = int((perf_counter() - self._start) * 1_000_000.0 + 0.5) / 1000.0
        extra = self._extra
        extra["event"] = "step.end"
        extra["duration_ms"] = duration_ms
        backend = self._backend
        flow, step = extra["flow"], extra["step"]
        if exc is None:
            extra["outcome"] = "ok"
            backend._emit("step.end %s.%s ok in %.3f ms", (flow, step, duration_ms), extra=extra)
        elif _cancelled(exc):
            extra["outcome"] = "cancelled"
            backend._emit(
                "step.end %s.%s cancelled after %.3f ms", (flow, step, duration_ms), extra=extra
            )
        else:
            name = _exception_name(exc)
            extra["outcome"] = "error"
            extra["error"] = name
            # Only the exception's type: its message may hold user data, and the application
            # decides itself whether and how to log the exception.
            backend._emit(
                "step.end %s.%s failed with %s after %.3f ms",
                (flow, step, name, duration_ms),
                extra=extra,
            )


class LoggingBackend(TracingBackend):
    """Log a ``step.start`` and a ``step.end`` record for every entrypoint and step.

    Every record carries the extras ``flow``, ``step``, ``correlation_id``, ``entrypoint`` and
    ``event``; the end record adds ``duration_ms`` and ``outcome`` (``ok``, ``error`` or
    ``cancelled``), and ``error`` with the exception's type when the step raised. Records go to
    the ``penstock`` logger at ``INFO`` unless told otherwise. When that logger is not enabled for
    the level, steps record nothing and cost almost nothing.

    Args:
        logger: The logger, or its name, to write to.
        level: The level of the records.

    Examples:
        >>> import penstock
        >>> from penstock.backends import LoggingBackend
        >>> backend = penstock.configure(LoggingBackend(logger="myapp.flows"))
    """

    def __init__(
        self, logger: logging.Logger | str = "penstock", level: int = logging.INFO
    ) -> None:
        self._logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self._level = level
        # Only called once is_recording() said yes, so the logger's own level check, which
        # Logger.log() would repeat for every record, is skipped: Logger._log() is what
        # Logger.info() and Logger.log() call once they have checked.
        self._emit = functools.partial(self._logger._log, level)
        # Asked before every step: bound straight to the logger's own method, the check costs
        # one call instead of two.
        self.is_recording = functools.partial(self._logger.isEnabledFor, level)  # type: ignore[method-assign]

    @property
    def logger(self) -> logging.Logger:
        """The logger the records go to."""
        return self._logger

    @property
    def level(self) -> int:
        """The level of the records."""
        return self._level

    def __repr__(self) -> str:
        return f"LoggingBackend(logger={self.logger.name!r}, level={self.level!r})"

    def is_recording(self) -> bool:
        """Return whether the logger would emit records at the configured level."""
        return self.logger.isEnabledFor(self.level)

    def span(
        self, step_name: str, flow_name: str, entrypoint: bool = False, **attrs: Any
    ) -> _LogSpan:
        """Return the context manager that logs one execution of ``step_name``."""
        ctx = _current_flow_get()
        extra: dict[str, Any] = {
            "flow": flow_name,
            "step": step_name,
            "correlation_id": None if ctx is None else ctx._flow_id,
            "entrypoint": entrypoint,
        }
        if attrs:
            extra.update(attrs)
        return _LogSpan(self, extra)

    def get_correlation_id(self) -> str:
        """Return the running flow's correlation ID, or ``""`` outside any flow."""
        ctx = _current_flow.get()
        return "" if ctx is None else ctx._flow_id
