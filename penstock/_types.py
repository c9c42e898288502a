"""What the registry knows about flows and steps: immutable records built at import time.

Plain classes with ``__slots__`` rather than dataclasses: ``import dataclasses`` pulls in
``inspect`` and costs every application several milliseconds at start-up.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Literal

    StepKind = Literal["function", "coroutine", "generator", "async_generator"]


class _Frozen:
    """Immutable records: equal by their fields, hashable, readable reprs."""

    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

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
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(zip(self.__slots__, self._fields(), strict=True))))

    def __copy__(self) -> _Frozen:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Frozen:
        return self


_set = object.__setattr__


def _rebuild(cls: type[_Frozen], fields: dict[str, Any]) -> _Frozen:
    return cls(**fields)


class StepInfo(_Frozen):
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

    Examples:
        >>> from penstock import get_flow
        >>> info = get_flow("order_processing").steps["validate"]  # doctest: +SKIP
        >>> info.after  # doctest: +SKIP
        ('receive_order',)
    """

    __slots__ = (  # noqa: RUF023 - declaration order is the order of the repr
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

    def __init__(
        self,
        *,
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
    ) -> None:
        # One call per field, no loop: a large project creates thousands of these at import.
        _set(self, "name", name)
        _set(self, "flow", flow)
        _set(self, "entrypoint", entrypoint)
        _set(self, "after", after)
        _set(self, "module", module)
        _set(self, "qualname", qualname)
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "doc", doc)
        _set(self, "kind", kind)

    @property
    def location(self) -> str:
        """``file:line`` of the definition, the form editors and CI annotations understand."""
        return f"{self.file}:{self.line}"


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
