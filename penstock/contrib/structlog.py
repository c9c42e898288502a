"""structlog: a processor that adds the running flow to every event.

Examples:
    >>> import structlog
    >>> from penstock.contrib.structlog import flow_processor
    >>> structlog.configure(processors=[flow_processor, structlog.processors.JSONRenderer()])
"""

from __future__ import annotations

from typing import Any

from penstock._context import _current_flow, _current_step, observe_steps

__all__ = ["flow_processor"]

# Events are stamped with the current step, so steps must track it once this is in use.
observe_steps()


def flow_processor(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Add ``flow_id``, ``flow`` and ``step`` to events logged inside a flow.

    Outside a flow it adds nothing. Values the caller bound or passed keep precedence, and the
    processor never raises: logging must not fail because of penstock.
    """
    try:
        ctx = _current_flow.get()
        if ctx is None:
            return event_dict
        info = _current_step.get()
        event_dict.setdefault("flow_id", ctx.flow_id)
        event_dict.setdefault("flow", ctx.flow_name if info is None else info.flow)
        if info is not None:
            event_dict.setdefault("step", info.name)
    except Exception:  # noqa: BLE001, S110 - never break logging
        pass
    return event_dict
