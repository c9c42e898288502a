"""What the registry knows about flows and steps: immutable records built at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

StepKind = Literal["function", "coroutine", "generator", "async_generator"]


@dataclass(frozen=True)
class StepInfo:
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

    @property
    def location(self) -> str:
        """``file:line`` of the definition, the form editors and CI annotations understand."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class FlowInfo:
    """A snapshot of one flow as registered when it was taken.

    Attributes:
        name: The flow's name.
        steps: Its steps by name, in the order they were registered.
    """

    name: str
    steps: Mapping[str, StepInfo] = field(default_factory=lambda: MappingProxyType({}))

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
