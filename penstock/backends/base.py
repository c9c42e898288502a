"""The interface every tracing backend implements."""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod

from penstock._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any

__all__ = ["TracingBackend"]


def _cancelled(exc: BaseException) -> bool:
    """Whether ``exc`` means "stopped from outside" rather than "failed".

    asyncio is only looked up, not imported: if the application never imported it, no task can
    have been cancelled, and importing it would cost every application that does not use it.
    """
    if isinstance(exc, GeneratorExit):
        return True
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


class TracingBackend(ABC):
    """Records the execution of entrypoints and steps.

    penstock calls :meth:`span` around every entrypoint and step and enters the context manager
    it returns for as long as the work runs: the whole call for functions and coroutines, the
    whole iteration for generators. The flow context is already set when the span opens, so
    :func:`penstock.current_flow_id` and :func:`penstock.get_flow_context` work inside
    ``__enter__`` and ``__exit__``.

    A backend never breaks the application: if :meth:`span`, ``__enter__`` or ``__exit__``
    raises, penstock logs the failure once and runs the step without the span. The return value
    of ``__exit__`` is ignored, so a backend cannot swallow the application's exceptions.

    Examples:
        >>> import contextlib
        >>> from penstock.backends import TracingBackend
        >>> class PrintBackend(TracingBackend):
        ...     @contextlib.contextmanager
        ...     def span(self, step_name, flow_name, **attrs):
        ...         print("enter", flow_name, step_name)
        ...         yield
        ...     def get_correlation_id(self):
        ...         from penstock import current_flow_id
        ...         return current_flow_id() or ""
    """

    @abstractmethod
    def span(self, step_name: str, flow_name: str, **attrs: Any) -> AbstractContextManager[Any]:
        """Return a context manager that records one execution of a step.

        Args:
            step_name: The step's name.
            flow_name: The name of the flow the step belongs to.
            **attrs: Extra facts about the step; penstock passes ``entrypoint`` (a bool).
        """

    @abstractmethod
    def get_correlation_id(self) -> str:
        """Return the correlation ID of the current execution, or ``""`` when there is none."""

    def is_recording(self) -> bool:
        """Tell whether :meth:`span` would record anything right now.

        penstock asks before every step and skips :meth:`span` when the answer is ``False``,
        which keeps the cost of a step close to a plain function call when nothing is recorded.
        The default says ``True``; override it only with a check that is cheap.
        """
        return True
