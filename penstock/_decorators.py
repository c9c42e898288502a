"""``@flow``, ``@entrypoint`` and ``@step``: declaration at import time, tracing at run time.

A decorated function is replaced by a thin wrapper of the same kind (``def``, ``async def``,
generator or async generator) that keeps the original's name, docstring and signature. At run
time the wrapper sets the flow context, asks the active backend for a span, runs the original and
hands back exactly what it returned or raised. The backend can fail without the application ever
noticing.
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
from types import FunctionType

from penstock import _config
from penstock._context import (
    FlowContext,
    _current_flow,
    _current_step,
    _getrandbits,
    _incoming_id,
    observed,
)
from penstock._registry import _lock as _registry_lock
from penstock._registry import add_to_flow, note_attached, note_unattached, register
from penstock._types import StepInfo, _new_fields, _set, _StepFields
from penstock._typing import TYPE_CHECKING, cast, overload
from penstock.errors import FlowDefinitionError, NotInFlowError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable
    from contextlib import AbstractContextManager
    from typing import Any, TypeVar

    from penstock._observe import Observation
    from penstock._types import StepKind
    from penstock.backends.base import TracingBackend

    #: What ``after=`` accepts: a step name, a decorated step, or a list of either.
    AfterSpec = str | Callable[..., Any] | Iterable[str | Callable[..., Any]] | None

    T = TypeVar("T")


_SPEC_ATTR = "__penstock_step__"


# -- argument checking --------------------------------------------------------------------------


def _check_name(value: object, what: str) -> str:
    if type(value) is str and value and not value.isspace():  # a usable name, the usual case
        return value
    if not isinstance(value, str):
        msg = f"{what} must be a str, got {type(value).__name__}: {value!r}."
        raise TypeError(msg)
    if not value.strip():
        msg = f"{what} must not be empty or blank; give it a descriptive name."
        raise FlowDefinitionError(msg)
    return value


def _qualname(obj: object) -> str:
    return str(getattr(obj, "__qualname__", None) or repr(obj))


def _spec_of(obj: object) -> StepInfo | None:
    """The step record of a decorated function (or method descriptor), joined a flow or not."""
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
    spec = getattr(obj, _SPEC_ATTR, None)
    # Typed as what it is once joined; see _decorate().
    return cast("StepInfo", spec) if isinstance(spec, _StepFields) else None


def _normalize_after(after: AfterSpec) -> tuple[str | StepInfo, ...]:
    if after is None:
        return ()
    if type(after) is str and after and not after.isspace():  # one name, the usual case, first
        return (after,)
    if isinstance(after, str) or callable(after) or isinstance(after, (classmethod, staticmethod)):
        items: list[object] = [after]
    elif isinstance(after, (list, tuple, set, frozenset)):
        items = list(after)
    else:
        msg = (
            "after= takes a step name, a decorated step, or a list of them; "
            f"got {type(after).__name__}: {after!r}."
        )
        raise TypeError(msg)
    refs: list[str | StepInfo] = []
    for item in items:
        ref: str | StepInfo
        if isinstance(item, str):
            ref = _check_name(item, "A step name in after=")
        else:
            spec = _spec_of(item)
            if spec is None:
                if callable(item):
                    label = _qualname(item)
                    msg = (
                        f"after= got {label}, which is not a penstock step; decorate it with "
                        "@step or @entrypoint, or pass its step name as a string."
                    )
                    raise FlowDefinitionError(msg)
                msg = (
                    "after= takes step names (str) or decorated steps, "
                    f"got {type(item).__name__}: {item!r}."
                )
                raise TypeError(msg)
            ref = spec
        if ref not in refs:
            refs.append(ref)
    return tuple(refs)


# -- registration -------------------------------------------------------------------------------


# The code-object flags inspect reads; read here directly, because `import inspect` would cost
# every application several milliseconds when it imports penstock.
_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


_CO_ASYNC_OR_GENERATOR = _CO_GENERATOR | _CO_COROUTINE | _CO_ASYNC_GENERATOR


def _kind_of(func: Callable[..., Any]) -> StepKind:
    code = getattr(func, "__code__", None)
    if code is not None:
        flags = code.co_flags
    else:  # not a plain function (a partial, a callable object): ask inspect
        import inspect

        flags = (
            (_CO_ASYNC_GENERATOR if inspect.isasyncgenfunction(func) else 0)
            | (_CO_COROUTINE if inspect.iscoroutinefunction(func) else 0)
            | (_CO_GENERATOR if inspect.isgeneratorfunction(func) else 0)
        )
    if flags & _CO_ASYNC_GENERATOR:
        return "async_generator"
    if flags & _CO_COROUTINE:
        return "coroutine"
    if flags & _CO_GENERATOR:
        return "generator"
    return "function"


def _first_doc_line(doc: object) -> str:
    """The first non-blank line of a docstring, stripped; empty for none."""
    if not doc or not isinstance(doc, str):
        return ""
    if doc.isprintable():  # one line, the usual summary-only docstring: no line breaks at all
        return doc.strip()
    # Past the leading blank lines, the first line ends at the first of any of the line breaks
    # str.splitlines() knows; only the text up to the first newline needs splitting.
    first = doc.lstrip().partition("\n")[0]
    return first.splitlines()[0].strip() if first else ""


def _unwrap(func: Callable[..., Any]) -> Callable[..., Any]:
    """Follow ``__wrapped__`` to the original function, as inspect.unwrap does."""
    seen = {id(func)}
    while (inner := getattr(func, "__wrapped__", None)) is not None and id(inner) not in seen:
        seen.add(id(inner))
        func = inner
    return func


def _location(func: Callable[..., Any]) -> tuple[str, int]:
    if type(func) is FunctionType and "__wrapped__" not in func.__dict__:
        original: Callable[..., Any] = func  # the common case: a plain function, unwrapped
    else:
        original = func if getattr(func, "__wrapped__", None) is None else _unwrap(func)
    code = getattr(original, "__code__", None)
    if code is not None:
        filename = code.co_filename
        if "/." in filename or "//" in filename or "\\" in filename:
            # Normalised, so a path reached through "../" reads as the file it is.
            filename = os.path.normpath(filename)
        return filename, code.co_firstlineno
    import inspect

    try:
        return inspect.getsourcefile(original) or "<unknown>", 0
    except TypeError:
        return "<unknown>", 0


def _after_names(step: StepInfo, flow_name: str) -> tuple[str, ...]:
    """The names ``step`` comes after, its decorated steps checked to be in ``flow_name``.

    Only for an ``after=`` that names decorated steps: one of names alone is kept as it is (see
    _join_flow).
    """
    after: list[str] = []
    for ref in step._refs:
        if isinstance(ref, str):
            after.append(ref)
            continue
        if ref.flow and ref.flow != flow_name:
            msg = (
                f"Step {step.name!r} of flow {flow_name!r} declares after={ref.name!r}, which is "
                f"a step of flow {ref.flow!r}; after= links steps within one flow."
            )
            raise FlowDefinitionError(msg)
        after.append(ref.name)
    # Decorated steps and names may name the same step twice: once is enough.
    return tuple(dict.fromkeys(after))


def _join_flow(step: StepInfo, flow_name: str) -> None:
    """Make ``step`` a step of ``flow_name`` and register it; idempotent for the same flow."""
    joined = step.flow
    if joined and joined != flow_name:
        msg = (
            f"Step {step.name!r} ({_qualname(step._func)}) already belongs to flow "
            f"{joined!r} and cannot also join flow {flow_name!r}; a step is part of one flow."
        )
        raise FlowDefinitionError(msg)
    refs = step._refs
    # after= as names alone, the usual case, is kept as it is: the tuple the decorator already
    # holds will do, one object fewer per step. Anything else is looked at.
    after: tuple[str, ...] = refs  # type: ignore[assignment]
    for ref in refs:
        if type(ref) is not str:
            after = _after_names(step, flow_name)
            break
    if joined:
        register(step, flow_name)  # joined before (a class given @flow twice, say): once more
        return
    func = step._func
    file, line = _location(func)
    if type(func) is FunctionType:  # these attributes are always there, of these types
        module, qualname, doc = func.__module__ or "<unknown>", func.__qualname__, func.__doc__
        qualname = qualname or _qualname(func)
    else:
        module = getattr(func, "__module__", None) or "<unknown>"
        qualname, doc = _qualname(func), getattr(func, "__doc__", None)
    step.after = after
    step.module = module
    step.qualname = qualname
    step.file = file
    step.line = line
    step.doc = _first_doc_line(doc)
    # Registered, then published, under the registry's lock: a reader of the registry sees the
    # step either not at all or finished, and the wrappers (which read no lock) only run it once
    # its flow is set, last. A refused step is left exactly as it was, still in no flow.
    with _registry_lock:
        add_to_flow(step, flow_name)
        if step._noted:  # while the record still hashes by identity, as when it was noted
            note_attached(step)
            step._noted = False
        step.__class__ = StepInfo  # immutable from here on
        _set(step, "flow", flow_name)  # StepInfo's own __setattr__ refuses, as it should


def _note(step: StepInfo) -> None:
    """List ``step`` as decorated but in no flow yet, for validate_flows()."""
    file, line = _location(step._func)
    qualname = _qualname(step._func)
    note_unattached(
        step, name=step.name, qualname=qualname, file=file, line=line, entry=step.entrypoint
    )
    step._noted = True


# -- run time -----------------------------------------------------------------------------------


def _unregistered(step: StepInfo) -> FlowDefinitionError:
    what = "Entrypoint" if step.entrypoint else "Step"
    return FlowDefinitionError(
        f"{what} {step.name!r} ({_qualname(step._func)}) is not part of any flow; put "
        f'@flow("name") on its class or above the function, or name the flow in the decorator: '
        f'@{"entrypoint" if step.entrypoint else "step"}("flow_name").'
    )


def _outside_flow(info: StepInfo) -> NotInFlowError:
    if info.kind in ("generator", "async_generator"):
        # A generator's body, and so its step, starts at the first next(), not at the call.
        return NotInFlowError(
            f"Generator step {info.name!r} of flow {info.flow!r} was first iterated outside a "
            "running flow; start iterating it inside the entrypoint, or make the generator "
            "itself an @entrypoint."
        )
    return NotInFlowError(
        f"Step {info.name!r} of flow {info.flow!r} was called outside a running flow; call it "
        f"from an @entrypoint of {info.flow!r}, or call {info.qualname}.__wrapped__ to run the "
        "undecorated function (in a unit test, say)."
    )


def _activate(info: StepInfo) -> None:
    """Enter ``info`` in the current context, for good: only for a private context copy."""
    parent = _current_flow.get()
    if info.entrypoint:
        _current_flow.set(_new_context(parent, info))
    elif parent is None:
        raise _outside_flow(info)
    _current_step.set(info)


def _recording(backend: TracingBackend) -> bool:
    try:
        return backend.is_recording()
    except Exception as exc:  # noqa: BLE001 - telemetry never breaks the application
        _config.report_failure(backend, "checking", exc)
        return False


def _open(backend: TracingBackend, info: StepInfo) -> AbstractContextManager[Any] | None:
    try:
        span = backend.span(info.name, info.flow, entrypoint=info.entrypoint)
        span.__enter__()
    except Exception as exc:  # noqa: BLE001 - telemetry never breaks the application
        _config.report_failure(backend, "opening", exc)
        return None
    return span


def _close(
    backend: TracingBackend, span: AbstractContextManager[Any] | None, exc: BaseException | None
) -> None:
    if span is None:
        return
    try:
        if exc is None:
            span.__exit__(None, None, None)
        else:
            # The return value is ignored on purpose: a backend must not swallow the exception.
            span.__exit__(type(exc), exc, exc.__traceback__)
    except Exception as error:  # noqa: BLE001 - telemetry never breaks the application
        if error is not exc:
            _config.report_failure(backend, "closing", error)


def _start_in_private_context(
    info: StepInfo,
) -> tuple[TracingBackend, AbstractContextManager[Any] | None]:
    """Activate ``info`` and open its span; run inside a generator's private context."""
    _activate(info)  # the private context is thrown away afterwards, so nothing is reset
    backend = _config.backend or _config.get_backend()
    span = _open(backend, info) if _recording(backend) else None
    observer = _config.observer
    if observer is not None:
        return backend, _ObservedSpan(observer, info, span)
    return backend, span


# The wrappers below are the hot path of every decorated call. They bind the context variables'
# methods once, inline what they can, and skip the current-step variable entirely when nothing
# can read it (no recording backend, no log filter or structlog processor): a step must cost
# little more than a plain call when nothing is recorded. benchmarks/bench_core.py measures it.
_flow_get = _current_flow.get
_flow_set = _current_flow.set
_flow_reset = _current_flow.reset
_step_set = _current_step.set
_step_reset = _current_step.reset
_incoming_get = _incoming_id.get
_new_flow_context = FlowContext.__new__


def _new_context(parent: FlowContext | None, info: StepInfo) -> FlowContext:
    # Slots filled directly: cheaper than a call to __init__, on every entrypoint.
    ctx = _new_flow_context(FlowContext)
    if parent is None:
        ctx._flow_id = _incoming_get() or "%032x" % (_getrandbits(128) or 1)
        ctx._metadata = {}
    else:
        # One flow calling into another in-process: same operation, so same ID; the inner flow
        # gets its own copy of the metadata so it cannot change the caller's.
        ctx._flow_id = parent._flow_id
        ctx._metadata = dict(parent._metadata)
    ctx._flow_name = info.flow
    ctx._observation = None
    return ctx


def _check_failed(backend: TracingBackend, exc: Exception, info: StepInfo) -> bool:
    _config.report_failure(backend, "checking", exc, info)
    return False


def _run_step(  # noqa: PLR0917 - the hot path: positional arguments are the cheapest to pass
    backend: TracingBackend,
    recording: bool,
    info: StepInfo,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run ``func`` as the current step, inside a span when ``recording``."""
    step_token = _step_set(info)
    observer = _config.observer
    started = _observe_enter(observer, info) if observer is not None else 0
    try:
        if not recording:
            return func(*args, **kwargs)
        try:  # _open(), inlined: this runs for every recorded step
            span: AbstractContextManager[Any] | None = backend.span(
                info.name, info.flow, entrypoint=info.entrypoint
            )
            span.__enter__()  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - telemetry never breaks the application
            _config.report_failure(backend, "opening", exc)
            span = None
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            _close(backend, span, exc)
            raise
        _close(backend, span, None)
        return result
    finally:
        if observer is not None:
            _observe_exit(observer, info, started)
        _step_reset(step_token)


def _observe_enter(observer: Observation, info: StepInfo) -> int:
    try:
        return observer._enter(info)
    except Exception as exc:  # noqa: BLE001 - observing never breaks the application
        _config.report_failure(_config.get_backend(), "observing", exc, info)
        return 0


def _observe_exit(observer: Observation, info: StepInfo, started: int) -> None:
    if not started:
        return
    try:
        observer._exit(info, started)
    except Exception as exc:  # noqa: BLE001 - observing never breaks the application
        _config.report_failure(_config.get_backend(), "observing", exc, info)


class _ObservedSpan:
    """The observer around a generator's span, so both last as long as the iteration."""

    __slots__ = ("_info", "_observer", "_span", "_started")

    def __init__(
        self, observer: Observation, info: StepInfo, span: AbstractContextManager[Any] | None
    ) -> None:
        self._observer, self._info, self._span = observer, info, span
        self._started = _observe_enter(observer, info)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> None:
        _observe_exit(self._observer, self._info, self._started)
        if self._span is not None:
            self._span.__exit__(*exc_info)


# Each wrapper closes over the step's record alone, and finds the function in it: one closure
# cell per decorated function rather than two, for the same work per call (the record's flow
# is checked instead of a separate StepInfo being looked up).


def _function_wrapper(step: StepInfo) -> Callable[..., Any]:
    if step.entrypoint:

        def entry_wrapper(*args: Any, **kwargs: Any) -> Any:
            info = step
            if not info.flow:
                raise _unregistered(info)
            parent = _flow_get()
            if parent is None:  # a new flow, the usual case: _new_context() inlined
                ctx = _new_flow_context(FlowContext)
                ctx._flow_id = _incoming_get() or "%032x" % (_getrandbits(128) or 1)
                ctx._metadata = {}
                ctx._flow_name = info.flow
                ctx._observation = None
            else:
                ctx = _new_context(parent, info)
            flow_token = _flow_set(ctx)
            try:
                backend = _config.backend or _config.get_backend()
                try:
                    recording = backend.is_recording()
                except Exception as exc:  # noqa: BLE001 - telemetry never breaks the application
                    recording = _check_failed(backend, exc, info)
                if recording or observed.steps:
                    return _run_step(backend, recording, info, info._func, args, kwargs)
                return info._func(*args, **kwargs)
            finally:
                _flow_reset(flow_token)

        return entry_wrapper

    def step_wrapper(*args: Any, **kwargs: Any) -> Any:
        info = step
        if not info.flow:
            raise _unregistered(info)
        if _flow_get() is None:
            raise _outside_flow(info)
        backend = _config.backend or _config.get_backend()
        try:
            recording = backend.is_recording()
        except Exception as exc:  # noqa: BLE001 - telemetry never breaks the application
            recording = _check_failed(backend, exc, info)
        if recording or observed.steps:
            return _run_step(backend, recording, info, info._func, args, kwargs)
        return info._func(*args, **kwargs)

    return step_wrapper


def _coroutine_wrapper(step: StepInfo) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        info = step
        if not info.flow:
            raise _unregistered(info)
        func: Callable[..., Awaitable[Any]] = info._func
        # A coroutine runs in one task from start to end, so setting and resetting the context
        # variables around the await is safe; the span covers the whole coroutine.
        parent = _flow_get()
        flow_token = None
        if info.entrypoint:
            flow_token = _flow_set(_new_context(parent, info))
        elif parent is None:
            raise _outside_flow(info)
        step_token = _step_set(info)
        observer = _config.observer
        started = _observe_enter(observer, info) if observer is not None else 0
        try:
            backend = _config.backend or _config.get_backend()
            try:
                recording = backend.is_recording()
            except Exception as exc:  # noqa: BLE001 - telemetry never breaks the application
                recording = _check_failed(backend, exc, info)
            if not recording:
                return await func(*args, **kwargs)
            span = _open(backend, info)
            try:
                result = await func(*args, **kwargs)
            except BaseException as exc:
                _close(backend, span, exc)
                raise
            _close(backend, span, None)
            return result
        finally:
            if observer is not None:
                _observe_exit(observer, info, started)
            _step_reset(step_token)
            if flow_token is not None:
                _flow_reset(flow_token)

    return wrapper


def _generator_wrapper(step: StepInfo) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        info = step
        if not info.flow:
            raise _unregistered(info)
        func: Callable[..., Generator[Any, Any, Any]] = info._func
        # The generator's body runs in a private copy of the caller's context, entered at every
        # resume and left at every yield. The flow context and the span are current inside the
        # generator for its whole iteration, and never leak to the code consuming it.
        private = contextvars.copy_context()
        backend, span = private.run(_start_in_private_context, info)
        try:
            inner = private.run(func, *args, **kwargs)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                try:
                    if to_throw is None:
                        item = private.run(inner.send, to_send)
                    else:
                        thrown, to_throw = to_throw, None
                        item = private.run(inner.throw, thrown)
                except StopIteration as stop:
                    result = stop.value
                    break
                try:
                    to_send = yield item
                except BaseException as exc:  # noqa: BLE001 - forwarded into the generator
                    # GeneratorExit too: close() is throw(GeneratorExit), so the generator decides,
                    # exactly as it would undecorated (it may return a value, or even yield).
                    to_throw, to_send = exc, None
        except BaseException as exc:
            private.run(_close, backend, span, exc)
            raise
        private.run(_close, backend, span, None)
        return result

    return wrapper


class _RunIn:
    """Await ``awaitable`` with every one of its resumptions run inside ``context``."""

    __slots__ = ("_awaitable", "_context")

    def __init__(self, context: contextvars.Context, awaitable: Awaitable[Any]) -> None:
        self._context = context
        self._awaitable = awaitable

    def __await__(self) -> Generator[Any, Any, Any]:
        iterator = self._awaitable.__await__()
        run = self._context.run
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            try:
                if to_throw is None:
                    future = run(iterator.send, to_send)
                else:
                    thrown, to_throw = to_throw, None
                    future = run(iterator.throw, thrown)
            except StopIteration as stop:
                return stop.value
            try:
                to_send = yield future
            except GeneratorExit:
                run(iterator.close)
                raise
            except BaseException as exc:  # noqa: BLE001 - forwarded to the awaited object
                to_throw, to_send = exc, None


def _owned_by_wrapper(agen: AsyncGenerator[Any, Any]) -> None:
    """Async-generator finalizer that does nothing: the wrapper closes the inner generator."""


def _first_asend(inner: AsyncGenerator[Any, Any]) -> Awaitable[Any]:
    """Start ``inner`` without registering it with the event loop.

    asyncio tracks every async generator it sees start, and closes the unfinished ones itself
    when the loop shuts down or the generator is collected. It already does that for the
    wrapper; if it also did it for the inner generator, both would be closed at once (raising
    "asynchronous generator is already running") and the inner one outside the flow. Leaving
    the inner generator to the wrapper closes it once, inside its private context.
    """
    hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(firstiter=None, finalizer=_owned_by_wrapper)
    try:
        return inner.asend(None)
    finally:
        sys.set_asyncgen_hooks(*hooks)


def _async_generator_wrapper(step: StepInfo) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        info = step
        if not info.flow:
            raise _unregistered(info)
        func: Callable[..., AsyncGenerator[Any, Any]] = info._func
        # Same private-context scheme as for generators; each step of the async generator is
        # awaited through _RunIn so that its code, including what it awaits, runs in that context.
        private = contextvars.copy_context()
        backend, span = private.run(_start_in_private_context, info)
        try:
            inner = private.run(func, *args, **kwargs)
            to_send: Any = None
            to_throw: BaseException | None = None
            first = True
            while True:
                try:
                    if to_throw is None:
                        step_awaitable = _first_asend(inner) if first else inner.asend(to_send)
                        first = False
                        item = await _RunIn(private, step_awaitable)
                    else:
                        thrown, to_throw = to_throw, None
                        item = await _RunIn(private, inner.athrow(thrown))
                except StopAsyncIteration:
                    break
                try:
                    to_send = yield item
                except BaseException as exc:  # noqa: BLE001 - forwarded into the generator
                    to_throw, to_send = exc, None
        except BaseException as exc:
            private.run(_close, backend, span, exc)
            raise
        private.run(_close, backend, span, None)

    return wrapper


# What functools.update_wrapper() copies onto a wrapper, by Python version. For the versions
# known here, a plain function's are copied directly (half the time, at thousands of steps per
# import); any other set of attributes goes through update_wrapper() itself.
_ASSIGNED_UP_TO_3_11 = ("__module__", "__name__", "__qualname__", "__doc__", "__annotations__")
_COPY_DIRECTLY = functools.WRAPPER_UPDATES == ("__dict__",) and functools.WRAPPER_ASSIGNMENTS in (
    _ASSIGNED_UP_TO_3_11,
    (*_ASSIGNED_UP_TO_3_11, "__type_params__"),  # 3.12 and 3.13
)
_TYPE_PARAMS = "__type_params__" in functools.WRAPPER_ASSIGNMENTS


def _make_wrapper(step: StepInfo) -> Any:
    kind = step.kind
    func = step._func
    wrapper: Any
    if kind == "function":
        wrapper = _function_wrapper(step)
    elif kind == "coroutine":
        wrapper = _coroutine_wrapper(step)
    elif kind == "generator":
        wrapper = _generator_wrapper(step)
    else:
        wrapper = _async_generator_wrapper(step)
    if _COPY_DIRECTLY and type(func) is FunctionType:
        # Exactly what functools.update_wrapper(wrapper, func) does for a function.
        wrapper.__module__ = func.__module__
        wrapper.__name__ = func.__name__
        wrapper.__qualname__ = func.__qualname__
        wrapper.__doc__ = func.__doc__
        wrapper.__annotations__ = func.__annotations__
        if _TYPE_PARAMS:
            wrapper.__type_params__ = getattr(func, "__type_params__", ())  # pragma: no cover
        attributes = func.__dict__
        if attributes:
            wrapper.__dict__.update(attributes)
        wrapper.__wrapped__ = func
    else:
        functools.update_wrapper(wrapper, func)
    setattr(wrapper, _SPEC_ATTR, step)
    return wrapper


# -- the decorators -----------------------------------------------------------------------------


def _check_first_argument(value: object, decorator: str) -> None:
    """Reject ``@step(3)``-style calls early, with a message about what the argument may be."""
    if value is None or isinstance(value, (str, classmethod, staticmethod)) or callable(value):
        return
    msg = (
        f"@{decorator} takes the function to decorate, or the flow's name as a str; "
        f"got {type(value).__name__}: {value!r}."
    )
    raise TypeError(msg)


def _decorated_twice(target: object) -> FlowDefinitionError:
    return FlowDefinitionError(
        f"{_qualname(target)!r} is already an entrypoint or step; "
        "use one penstock decorator per function."
    )


def _decorate(  # noqa: PLR0917 - positional: runs once per decorated function at import
    decorator: str,
    entrypoint: bool,
    flow_name: str | None,
    after: tuple[str | StepInfo, ...],
    name: str | None,
    target: Any,
) -> Any:
    """Make ``target`` a step; the decorator's own arguments come first, for functools.partial."""
    if type(target) is FunctionType:
        # Plain functions, by far the most common, skip the checks below: only their own
        # attributes can make them a step already, and their code tells their kind.
        if isinstance(target.__dict__.get(_SPEC_ATTR), _StepFields):
            raise _decorated_twice(target)
        flags = target.__code__.co_flags
        kind: StepKind = "function" if not flags & _CO_ASYNC_OR_GENERATOR else _kind_of(target)
    else:
        if isinstance(target, (classmethod, staticmethod)):
            # @step above @classmethod: wrap the function inside and rebuild the same descriptor.
            inner = _decorate(decorator, entrypoint, flow_name, after, name, target.__func__)
            return type(target)(inner)
        if isinstance(target, type):
            msg = (
                f"@{decorator} decorates functions and methods, not classes like "
                f"{target.__qualname__}; put @flow(...) on the class instead."
            )
            raise TypeError(msg)
        if not callable(target):
            what = type(target).__name__
            msg = f"@{decorator} decorates functions and methods, got {what}: {target!r}."
            raise TypeError(msg)
        if _spec_of(target) is not None:
            raise _decorated_twice(target)
        kind = _kind_of(target)
    step_name = name if name is not None else getattr(target, "__name__", None)
    if step_name is None or (name is None and step_name == "<lambda>"):
        msg = (
            f"@{decorator} needs name=... for {target!r}, which has no name of its own; "
            f'write {decorator}(..., name="what_it_does")(...).'
        )
        raise FlowDefinitionError(msg)
    # The step's record: a StepInfo to be, still writable and in no flow. It is typed as the
    # StepInfo it becomes when it joins a flow (_join_flow), which is all the wrappers ever use
    # it as; until then its flow is empty and the wrappers refuse to run.
    step: StepInfo = _new_fields(_StepFields)  # type: ignore[assignment]
    step.name = step_name
    step.flow = ""
    step.entrypoint = entrypoint
    step.after = ()
    step.kind = kind
    step._func = target
    step._noted = False
    step._refs = after
    wrapper = _make_wrapper(step)
    if flow_name is not None:
        _join_flow(step, flow_name)
    else:
        _note(step)
    return wrapper


@overload
def entrypoint(flow: str | None = None, /, *, name: str | None = None) -> Callable[[T], T]: ...
@overload
def entrypoint(func: T, /) -> T: ...
def entrypoint(func_or_flow: Any = None, /, *, name: str | None = None) -> Any:
    """Mark a function or method as a place where a flow starts.

    Each call of an entrypoint begins a flow invocation with a fresh correlation ID, or, when it
    is called while another flow is running, continues that flow's ID under its own flow name.
    The previous context is restored when the call ends, however it ends.

    Forms:
        ``@entrypoint`` on a method of a ``@flow`` class or under ``@flow("name")``;
        ``@entrypoint(name="...")`` to give the step another name;
        ``@entrypoint("flow_name")`` to name the flow right here (explicit form).

    Examples:
        >>> from penstock import current_flow_id, entrypoint
        >>> @entrypoint("doc_entry")
        ... def handle() -> bool:
        ...     return current_flow_id() is not None
        >>> handle()
        True
    """
    if type(func_or_flow) is not str:  # a flow's name, the usual argument, needs no checking
        _check_first_argument(func_or_flow, "entrypoint")
        if func_or_flow is not None and not isinstance(func_or_flow, str):
            step_name = None if name is None else _check_name(name, "The entrypoint's name=")
            return _decorate("entrypoint", True, None, (), step_name, func_or_flow)
    flow_name = None if func_or_flow is None else _check_name(func_or_flow, "The flow name")
    step_name = None if name is None else _check_name(name, "The entrypoint's name=")
    # A partial rather than a closure: cheaper to make and to call, once per decorated function.
    return functools.partial(_decorate, "entrypoint", True, flow_name, (), step_name)


@overload
def step(
    flow: str | None = None, /, *, after: AfterSpec = None, name: str | None = None
) -> Callable[[T], T]: ...
@overload
def step(func: T, /) -> T: ...
def step(func_or_flow: Any = None, /, *, after: AfterSpec = None, name: str | None = None) -> Any:
    """Mark a function or method as a step of a flow.

    ``after=`` declares the steps this one follows: the edges of the flow's diagram. It does not
    change how your code runs; you still call your functions yourself. A step must run inside a
    flow (under an entrypoint); called outside one it raises
    :class:`~penstock.errors.NotInFlowError`.

    Forms:
        ``@step`` or ``@step(after="validate")`` on a method of a ``@flow`` class or under
        ``@flow("name")``; ``@step("flow_name", after=...)`` to name the flow right here.

    Args:
        func_or_flow: The function, when used bare as ``@step``; or the flow's name, when the
            step names its flow itself.
        after: A step name, a decorated step, or a list of either.
        name: The step's name, when it should differ from the function's.

    Examples:
        >>> from penstock import entrypoint, step
        >>> @entrypoint("doc_steps")
        ... def begin() -> int:
        ...     return double(21)
        >>> @step("doc_steps", after=begin)
        ... def double(value: int) -> int:
        ...     return value * 2
        >>> begin()
        42
    """
    if type(func_or_flow) is not str:  # a flow's name, the usual argument, needs no checking
        _check_first_argument(func_or_flow, "step")
        if func_or_flow is not None and not isinstance(func_or_flow, str):
            if after is not None or name is not None:  # pragma: no cover - see the overloads
                msg = "@step(...) with options takes the flow name, if any, as its only positional."
                raise TypeError(msg)
            return _decorate("step", False, None, (), None, func_or_flow)
    flow_name = None if func_or_flow is None else _check_name(func_or_flow, "The flow name")
    step_name = None if name is None else _check_name(name, "The step's name=")
    refs = _normalize_after(after)
    return functools.partial(_decorate, "step", False, flow_name, refs, step_name)


@overload
def flow(target: type[T], /) -> type[T]: ...
@overload
def flow(flow_name: str | None = None, /, *, name: str | None = None) -> Callable[[T], T]: ...
def flow(target_or_name: Any = None, /, *, name: str | None = None) -> Any:
    """Name a flow and gather its entrypoints and steps.

    On a class, ``@flow("name")`` registers every method marked with ``@entrypoint`` or ``@step``.
    Above a module-level function that carries ``@entrypoint`` or ``@step``, it registers that
    function. Bare ``@flow`` on a class uses the class's name as the flow's name.

    Examples:
        >>> from penstock import entrypoint, flow, get_flow, step
        >>> @flow("doc_orders")
        ... class Orders:
        ...     @entrypoint
        ...     def receive(self) -> None:
        ...         self.check()
        ...     @step(after="receive")
        ...     def check(self) -> None: ...
        >>> sorted(get_flow("doc_orders").steps)
        ['check', 'receive']
    """
    if isinstance(target_or_name, type):
        return _apply_flow(target_or_name, target_or_name.__name__)
    if target_or_name is not None and name is not None:
        msg = 'flow() takes the flow\'s name once: @flow("name") or @flow(name="name").'
        raise TypeError(msg)
    if target_or_name is not None and not isinstance(target_or_name, str):
        if _spec_of(target_or_name) is not None or callable(target_or_name):
            msg = (
                '@flow on a function needs the flow\'s name: write @flow("name") above '
                f"{_qualname(target_or_name)}."
            )
            raise FlowDefinitionError(msg)
        msg = (
            f"@flow takes a flow name (str) or a class, got "
            f"{type(target_or_name).__name__}: {target_or_name!r}."
        )
        raise TypeError(msg)
    chosen = target_or_name if target_or_name is not None else name
    if chosen is None:
        msg = 'flow() needs the flow\'s name: @flow("name").'
        raise TypeError(msg)
    flow_name = _check_name(chosen, "The flow name")

    def decorate(target: T) -> T:
        return _apply_flow(target, flow_name)

    return decorate


def _apply_flow(target: T, flow_name: str) -> T:
    if isinstance(target, type):
        specs = [spec for value in vars(target).values() if (spec := _spec_of(value)) is not None]
        if not specs:
            msg = (
                f"@flow({flow_name!r}) on class {target.__qualname__} found no methods marked "
                "with @entrypoint or @step; decorate the methods that make up the flow."
            )
            raise FlowDefinitionError(msg)
        for spec in specs:
            # Methods that named their own flow (explicit form) are already registered there.
            if not spec.flow or spec.flow == flow_name:
                _join_flow(spec, flow_name)
        target.__penstock_flow__ = flow_name  # type: ignore[attr-defined]
        return target
    spec = _spec_of(target)
    if spec is None:
        label = _qualname(target)
        if callable(target) or isinstance(target, (classmethod, staticmethod)):
            msg = (
                f"@flow({flow_name!r}) on {label}: put @entrypoint or @step(...) between @flow "
                "and the function."
            )
            raise FlowDefinitionError(msg)
        msg = f"@flow({flow_name!r}) decorates classes and functions, got {label}."
        raise TypeError(msg)
    _join_flow(spec, flow_name)
    return target
