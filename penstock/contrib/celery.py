"""Celery: tasks continue the flow that sent them, and can be steps of a flow themselves.

Call :func:`install_celery_signals` once, where the Celery app is created (it matters in both
the processes that send tasks and the workers)::

    from celery import Celery
    from penstock.contrib.celery import install_celery_signals

    app = Celery("shop")
    install_celery_signals()

A task sent from inside a flow then runs in that flow's context, with the same correlation ID
(under OpenTelemetry its spans are children of the span that sent it); a task sent outside any
flow gets a fresh ID of its own. Nothing carries over from one task to the next in a worker.

:func:`flow_task` makes a Celery task that is also a step of a flow::

    @flow("bom_sync")
    @flow_task(after="publish_change_events", queue="changelog")
    def create_change_logs(changelog_dicts): ...
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from celery import shared_task
from celery.signals import before_task_publish, task_postrun, task_prerun

from penstock._context import FlowContext, _current_flow, new_flow_id
from penstock._decorators import _spec_of, step
from penstock.propagation import CORRELATION_HEADER, _otel_backend, extract, inject

if TYPE_CHECKING:
    from collections.abc import Callable

    from celery import Celery

    from penstock._decorators import AfterSpec

__all__ = ["flow_task", "install_celery_signals"]

#: The flow name of a task's context when the task is not a step of a flow itself.
DEFAULT_FLOW_NAME = "celery.task"

_installed_lock = threading.Lock()
_installed: dict[str, str] = {}
# Per task id, what task_prerun changed and task_postrun must undo. Prerun, task and postrun run
# one after the other in the same thread and context, so the tokens stay valid.
_active: dict[str, tuple[Any, list[object]]] = {}


def _header_name() -> str:
    return _installed.get("header", CORRELATION_HEADER)


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Write the sender's flow into the message headers, keeping values the sender set itself."""
    if headers is None:
        return
    try:
        outgoing: dict[str, str] = {}
        inject(outgoing, header=_header_name())
        present = {str(name).lower() for name in headers}
        for name, value in outgoing.items():
            if name.lower() not in present:
                headers[name] = value
    except Exception:  # noqa: BLE001, S110 - telemetry never stops a task from being sent
        pass


def _task_headers(task: Any) -> dict[str, Any]:
    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None)
    return dict(headers) if isinstance(headers, dict) else {}


def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Enter the flow the task was sent from (or the caller's, when run eagerly)."""
    if task_id is None or task is None:
        return
    try:
        incoming = extract(_task_headers(task), header=_header_name())
        parent = _current_flow.get()
        flow_id = incoming.correlation_id or (parent.flow_id if parent else None) or new_flow_id()
        otel_tokens: list[object] = []
        backend = _otel_backend()
        if backend is not None and incoming.correlation_id is not None:
            from opentelemetry import context as otel_context
            from opentelemetry import trace

            remote = backend.remote_context(dict(incoming.headers), incoming.correlation_id)
            if remote is not None:
                otel_tokens.append(otel_context.attach(remote))
                trace_id = trace.get_current_span().get_span_context().trace_id
                flow_id = f"{trace_id:032x}" if trace_id else flow_id
        spec = _spec_of(task) or _spec_of(getattr(task, "run", None))
        flow_name = spec.flow if spec is not None and spec.flow else DEFAULT_FLOW_NAME
        metadata = dict(parent._metadata) if parent is not None else {}
        token = _current_flow.set(FlowContext(flow_id, flow_name, metadata))
        _active[task_id] = (token, otel_tokens)
    except Exception:  # noqa: BLE001, S110 - the task runs even if telemetry cannot
        pass


def _on_postrun(task_id: str | None = None, **_: Any) -> None:
    """Restore the context the worker had before the task, so nothing leaks to the next one."""
    entry = _active.pop(task_id, None) if task_id is not None else None
    if entry is None:
        return
    token, otel_tokens = entry
    try:
        _current_flow.reset(token)
    finally:
        if otel_tokens:
            from opentelemetry import context as otel_context

            for otel_token in reversed(otel_tokens):
                otel_context.detach(otel_token)  # type: ignore[arg-type]


def install_celery_signals(*, header: str = CORRELATION_HEADER) -> None:
    """Connect penstock to Celery's signals, in senders and workers alike. Idempotent.

    Args:
        header: The message header the correlation ID travels in.
    """
    with _installed_lock:
        _installed["header"] = header
        # weak=False: the handlers are module functions, but be explicit that they must stay.
        before_task_publish.connect(_on_publish, weak=False, dispatch_uid="penstock.publish")
        task_prerun.connect(_on_prerun, weak=False, dispatch_uid="penstock.prerun")
        task_postrun.connect(_on_postrun, weak=False, dispatch_uid="penstock.postrun")


def uninstall_celery_signals() -> None:
    """Disconnect what :func:`install_celery_signals` connected."""
    with _installed_lock:
        before_task_publish.disconnect(dispatch_uid="penstock.publish")
        task_prerun.disconnect(dispatch_uid="penstock.prerun")
        task_postrun.disconnect(dispatch_uid="penstock.postrun")
        _installed.clear()


def flow_task(
    *,
    after: AfterSpec = None,
    name: str | None = None,
    app: Celery | None = None,
    **task_options: Any,
) -> Callable[[Callable[..., Any]], Any]:
    """Make a Celery task that is also a penstock step; put ``@flow("name")`` above it.

    Args:
        after: The steps the task follows in the flow's diagram.
        name: The step's name in the flow (by default the function's); Celery's task name is
            set with ``task_options``, as usual.
        app: The Celery app to register the task with; by default ``shared_task``.
        **task_options: Passed to Celery's task decorator (``queue``, ``bind``, ``max_retries``...).

    Examples:
        >>> from penstock import flow
        >>> from penstock.contrib.celery import flow_task
        >>> @flow("doc_sync")
        ... @flow_task(after="receive", ignore_result=True)
        ... def write_changelog(part: str) -> None: ...
        >>> hasattr(write_changelog, "delay")
        True
    """
    decorate_step = step(after=after, name=name)
    # The task is a step, and a step needs the flow the signals bring along.
    if not _installed:
        install_celery_signals()

    def decorate(func: Callable[..., Any]) -> Any:
        traced = decorate_step(func)
        task_decorator = (
            app.task(**task_options) if app is not None else shared_task(**task_options)
        )
        task = task_decorator(traced)
        # @flow above finds the step on the task. object.__setattr__ stores it on the object Celery
        # returned itself: on shared_task's lazy proxy, a plain setattr would create the task
        # right away, in whatever app happens to be current.
        object.__setattr__(task, "__penstock_step__", _spec_of(traced))
        return task

    return decorate
