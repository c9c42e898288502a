"""Tracing backends: how penstock records the execution of entrypoints and steps.

:class:`LoggingBackend` is the default and needs nothing beyond the standard library. Write your
own by subclassing :class:`TracingBackend` and passing an instance to :func:`penstock.configure`.
"""

from penstock.backends.base import TracingBackend
from penstock.backends.logging import LoggingBackend

__all__ = ["LoggingBackend", "TracingBackend"]
