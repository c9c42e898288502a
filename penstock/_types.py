"""What the registry knows about flows and steps: immutable records built at import time.

Plain classes with ``__slots__`` rather than dataclasses: ``import dataclasses`` pulls in
``inspect`` and costs every application several milliseconds at start-up.
"""

from __future__ import annotations

from types import MappingProxyType

from penstock._typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Literal

    StepKind = Literal["function", "coroutine", "generator", "async_generator"]


class _Frozen:
    """Immutable records: equal by their fields, hashable, readable reprs."""

    __slots__ = ()
    #: The record's fields, in the order of its repr: by default its class's own ``__slots__``
    #: after those of the record it extends (see ``__init_subclass__``).
    _field_names: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Equality, hashing, repr and pickling all go by _field_names: a record class that
        # forgot to set it would compare equal to every other record of its class.
        own = cls.__dict__.get("__slots__", ())
        if own and "_field_names" not in cls.__dict__:
            cls._field_names = (*cls._field_names, *((own,) if isinstance(own, str) else own))

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._field_names)

    def __setattr__(self, name: str, value: object) -> None:
        msg = f"{type(self).__name__} is immutable; cannot set {name!r}."
        raise AttributeError(msg)

    def __delattr__(self, name: str) -> None:
        msg = f"{type(self).__name__} is immutable; cannot delete {name!r}."
        raise AttributeError(msg)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._fields()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._field_names)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(zip(self._field_names, self._fields(), strict=True))))

    def __copy__(self) -> _Frozen:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Frozen:
        return self


def _rebuild(cls: type[_Frozen], fields: dict[str, Any]) -> _Frozen:
    return cls(**fields)


_STEP_FIELDS = (
    "name",
    "flow",
    "entrypoint",
    "after",
    "module",
    "qualname",
    "file",
    "line",
    "doc",
    "kind",
)


class _StepFields:
    """The storage of a StepInfo, still writable.

    The decorators make one of these per decorated function and fill it in as they learn about
    the step; when the step joins its flow, the very same object becomes its StepInfo (its class
    is switched; ``StepInfo.__new__`` makes its records the same way). One record per step rather
    than a decorator's note plus a StepInfo: a large project decorates thousands of functions,
    and every object made then lives, and is looked at by the garbage collector, until the
    process ends.

    Besides the public fields, three private ones serve the decorators: the function the step
    runs (so the registry keeps a registered step's function alive, as the module defining it
    does), whether it is listed as not yet in a flow, and ``after=`` as declared (names and
    decorated steps). A record that has not joined a flow has an empty ``flow``. Records made
    by ``StepInfo(...)`` or by unpickling have no private fields: nothing reads them there.
    """

    __slots__ = (*_STEP_FIELDS, "__weakref__", "_func", "_noted", "_refs")

    _func: Callable[..., Any]
    _noted: bool
    _refs: tuple[str | StepInfo, ...]


class StepInfo(_StepFields, _Frozen):
    """One registered entrypoint or step.

    Attributes:
        name: The step's name in its flow (the function's name unless ``name=`` was given).
        flow: The name of the flow the step belongs to.
        entrypoint: Whether the step is an entrypoint, where a flow invocation begins.
        after: The names of the steps it follows, as declared with ``after=``.
        module: The module that defines the function.
        qualname: The function's qualified name, e.g. ``OrderFlow.validate``.
        file: The source file of the definition.
        line: The line of the definition (its first decorator).
        doc: The first line of the function's docstring, or an empty string.
        kind: ``"function"``, ``"coroutine"``, ``"generator"`` or ``"async_generator"``.

    The constructor takes the fields by keyword, or positionally in the order above.

    Examples:
        >>> from penstock import get_flow
        >>> info = get_flow("order_processing").steps["validate"]  # doctest: +SKIP
        >>> info.after  # doctest: +SKIP
        ('receive_order',)
    """

    __slots__ = ()
    _field_names = _STEP_FIELDS

    name: str
    flow: str
    entrypoint: bool
    after: tuple[str, ...]
    module: str
    qualname: str
    file: str
    line: int
    doc: str
    kind: StepKind

    def __new__(  # noqa: PLR0917 - one argument per field
        cls,
        name: str,
        flow: str,
        entrypoint: bool,
        after: tuple[str, ...],
        module: str,
        qualname: str,
        file: str,
        line: int,
        doc: str,
        kind: StepKind,
    ) -> StepInfo:
        if cls is not StepInfo:  # a subclass may add slots: its layout is not _StepFields'
            made = _new_fields(cls)
            values = (name, flow, entrypoint, after, module, qualname, file, line, doc, kind)
            for field, value in zip(_STEP_FIELDS, values, strict=True):
                _set(made, field, value)
            return made
        # Storing each field through object.__setattr__ (this class's own __setattr__ refuses)
        # would cost five times as much as filling in the writable storage class and then
        # switching the object over to this class, whose layout is the same. (The decorators
        # make their records the same way, without calling the class: see _decorators.py.)
        info: Any = _new_fields(_StepFields)
        info.name = name
        info.flow = flow
        info.entrypoint = entrypoint
        info.after = after
        info.module = module
        info.qualname = qualname
        info.file = file
        info.line = line
        info.doc = doc
        info.kind = kind
        info.__class__ = StepInfo
        return cast("StepInfo", info)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing left to do: ``__new__`` filled the record in.

        Defined so that a subclass's ``__init__`` can still call ``super().__init__(...)``.
        """

    @property
    def location(self) -> str:
        """``file:line`` of the definition, the form editors and CI annotations understand."""
        return f"{self.file}:{self.line}"


_new_fields = object.__new__
_set = object.__setattr__


class FlowInfo(_Frozen):
    """A snapshot of one flow as registered when it was taken.

    Attributes:
        name: The flow's name.
        steps: Its steps by name, in the order they were registered.
    """

    __slots__ = ("name", "steps")

    name: str
    steps: Mapping[str, StepInfo]

    def __init__(self, name: str, steps: Mapping[str, StepInfo] | None = None) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "steps", MappingProxyType(dict(steps or {})))

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.steps.items())))

    def _fields(self) -> tuple[Any, ...]:
        return (self.name, dict(self.steps))

    @property
    def entrypoints(self) -> tuple[StepInfo, ...]:
        """The steps that start the flow, in registration order."""
        return tuple(step for step in self.steps.values() if step.entrypoint)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """Every declared ``(predecessor, step)`` pair whose predecessor is a registered step."""
        return tuple(
            (before, step.name)
            for step in self.steps.values()
            for before in step.after
            if before in self.steps
        )
