"""Tracing backends: how penstock records the execution of entrypoints and steps.

:class:`LoggingBackend` is the default and needs nothing beyond the standard library. Write your
own by subclassing :class:`TracingBackend` and passing an instance to :func:`penstock.configure`.
"""

from __future__ import annotations

from penstock._typing import TYPE_CHECKING
from penstock.backends.base import TracingBackend

if TYPE_CHECKING:
    from typing import Any

    from penstock.backends.logging import LoggingBackend

__all__ = ["LoggingBackend", "TracingBackend"]


def __getattr__(name: str) -> Any:
    # The logging backend imports the standard library's logging, which `import penstock` should
    # not pay for: it is loaded the first time it is asked for.
    if name == "LoggingBackend":
        from penstock.backends.logging import LoggingBackend

        return LoggingBackend
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
