"""Stamp every log record with the flow it was emitted in.

Add :class:`FlowContextFilter` to a handler and every record that handler sees, whichever logger
emitted it (your own ``logger.info`` calls included), carries ``correlation_id``, ``flow`` and
``step`` attributes. Outside a flow the attributes are set to a harmless default, so a format
string that uses them never fails.

Examples:
    >>> import logging
    >>> from penstock.contrib.logging import FlowContextFilter
    >>> handler = logging.StreamHandler()
    >>> handler.addFilter(FlowContextFilter())
    >>> handler.setFormatter(logging.Formatter("%(message)s [cid=%(correlation_id)s]"))
"""

from __future__ import annotations

import logging

from penstock._context import _current_flow, _current_step, observe_steps

__all__ = ["FlowContextFilter", "install"]

_FIELDS = ("correlation_id", "flow", "step")


class FlowContextFilter(logging.Filter):
    """A logging filter that adds ``correlation_id``, ``flow`` and ``step`` to each record.

    It never drops a record, and it never overwrites an attribute the record already has (a value
    passed with ``extra=``, or penstock's own step records, keep theirs).

    Args:
        default: The value the three attributes get outside a flow.
    """

    def __init__(self, default: str | None = "-") -> None:
        super().__init__()
        self.default = default
        observe_steps()  # records are stamped with the current step: steps must track it

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp ``record`` and let it through."""
        ctx = _current_flow.get()
        fields = record.__dict__
        if ctx is None:
            for name in _FIELDS:
                fields.setdefault(name, self.default)
            return True
        info = _current_step.get()
        fields.setdefault("correlation_id", ctx._flow_id)
        # Inside a step, name the step's own flow, as penstock's step records do; it differs from
        # the context's flow only when one flow calls a step of another.
        fields.setdefault("flow", ctx._flow_name if info is None else info.flow)
        fields.setdefault("step", self.default if info is None else info.name)
        return True


def install(
    logger: logging.Logger | str | None = None, default: str | None = "-"
) -> FlowContextFilter:
    """Add a :class:`FlowContextFilter` to every handler of ``logger`` (by default the root logger).

    Call it after ``logging.basicConfig()`` or ``logging.config.dictConfig()``. Handlers that
    already have a ``FlowContextFilter`` are left alone, so calling it twice is harmless.

    Returns:
        The filter that was added.

    Raises:
        ValueError: The logger has no handlers yet, so there is nothing to add the filter to.

    Examples:
        >>> import logging
        >>> from penstock.contrib import logging as penstock_logging
        >>> logging.basicConfig(format="%(message)s cid=%(correlation_id)s")  # doctest: +SKIP
        >>> penstock_logging.install()  # doctest: +SKIP
    """
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    if not target.handlers:
        name = target.name if target.name != "root" else "the root logger"
        msg = (
            f"{name} has no handlers to add the flow filter to; call install() after "
            "logging.basicConfig() or dictConfig(), or add FlowContextFilter to your handlers."
        )
        raise ValueError(msg)
    flow_filter = FlowContextFilter(default)
    for handler in target.handlers:
        if not any(isinstance(existing, FlowContextFilter) for existing in handler.filters):
            handler.addFilter(flow_filter)
    return flow_filter
