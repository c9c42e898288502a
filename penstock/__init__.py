"""penstock: declare the flows through your system once, then trace and draw them.

Decorate the functions a flow is made of; penstock registers them at import time, so every path
through the system can be drawn, and at run time gives each entrypoint call a correlation ID that
follows the operation through every step, recorded by the tracing backend of your choice.

Examples:
    >>> from penstock import current_flow_id, entrypoint, flow, generate_dag, step
    >>> @flow("doc_quickstart")
    ... class Orders:
    ...     @entrypoint
    ...     def receive(self, order_id: str) -> str:
    ...         return self.validate(order_id)
    ...     @step(after="receive")
    ...     def validate(self, order_id: str) -> str:
    ...         return f"{order_id} in {len(current_flow_id())}-char flow"
    >>> Orders().receive("ORD-1")
    'ORD-1 in 32-char flow'
    >>> print(generate_dag("doc_quickstart"))
    graph TD
        receive --> validate
"""

from penstock._config import configure, get_backend, shutdown
from penstock._context import (
    FlowContext,
    carry_flow,
    current_flow_id,
    get_flow_context,
    get_flow_context_value,
    set_flow_context_value,
)
from penstock._dag import generate_dag
from penstock._decorators import entrypoint, flow, step
from penstock._registry import get_flow, list_flows, validate_flow, validate_flows
from penstock._types import FlowInfo, StepInfo
from penstock._typing import TYPE_CHECKING
from penstock._version import __version__
from penstock.errors import (
    FlowDefinitionError,
    FlowNotFoundError,
    FlowProblem,
    FlowValidationError,
    MissingDependencyError,
    NotInFlowError,
    PenstockError,
)

if TYPE_CHECKING:
    from penstock._observe import Observation, observe

__all__ = [
    "FlowContext",
    "FlowDefinitionError",
    "FlowInfo",
    "FlowNotFoundError",
    "FlowProblem",
    "FlowValidationError",
    "MissingDependencyError",
    "NotInFlowError",
    "Observation",
    "PenstockError",
    "StepInfo",
    "__version__",
    "carry_flow",
    "configure",
    "current_flow_id",
    "entrypoint",
    "flow",
    "generate_dag",
    "get_backend",
    "get_flow",
    "get_flow_context",
    "get_flow_context_value",
    "list_flows",
    "observe",
    "set_flow_context_value",
    "shutdown",
    "step",
    "validate_flow",
    "validate_flows",
]

if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error for them
    #: Public names loaded on first use, with the module that defines them. Observing flows is
    #: for tests and staging runs; every other process would pay for loading it (and the
    #: ``contextlib`` it imports) at ``import penstock``.
    _LAZY = {"Observation": "penstock._observe", "observe": "penstock._observe"}

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            msg = f"module 'penstock' has no attribute {name!r}"
            raise AttributeError(msg)
        import importlib

        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # found directly from now on
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
