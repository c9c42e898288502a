"""The exceptions penstock raises.

Every error derives from :class:`PenstockError`, so ``except PenstockError`` catches anything
penstock itself raised. Each one also derives from the built-in exception a caller would
naturally expect (``KeyError`` for a missing flow, ``ValueError`` for a bad definition, ...), so
code written without knowing penstock keeps working.

Examples:
    >>> from penstock import get_flow
    >>> from penstock.errors import FlowNotFoundError
    >>> try:
    ...     get_flow("no_such_flow")
    ... except FlowNotFoundError as exc:
    ...     print(exc.flow)
    no_such_flow
"""

from __future__ import annotations

from penstock._types import _Frozen
from penstock._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "FlowDefinitionError",
    "FlowNotFoundError",
    "FlowProblem",
    "FlowValidationError",
    "MissingDependencyError",
    "NotInFlowError",
    "PenstockError",
]


class PenstockError(Exception):
    """Base class of every exception penstock raises."""


class FlowNotFoundError(PenstockError, KeyError):
    """A flow name that no imported module has registered.

    Attributes:
        flow: The name that was asked for.
        known: The names of the flows that are registered, sorted.
    """

    _LISTED = 20

    def __init__(self, flow: str, known: Iterable[str]) -> None:
        self.flow = flow
        self.known = tuple(sorted(known))
        import difflib  # only when there is an error to explain

        close = difflib.get_close_matches(flow, self.known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        shown = ", ".join(repr(name) for name in self.known[: self._LISTED]) or "none"
        if len(self.known) > self._LISTED:
            shown += f" and {len(self.known) - self._LISTED} more"
        message = (
            f"No flow named {flow!r} is registered ({hint}known flows: {shown}); "
            "import the module that defines it before asking for it."
        )
        super().__init__(message)

    def __str__(self) -> str:
        # KeyError would otherwise print the message wrapped in quotes.
        return str(self.args[0])


class FlowDefinitionError(PenstockError, ValueError):
    """A flow, entrypoint or step is declared in a way penstock cannot accept.

    Almost always raised at import time, where the decorator runs, so the traceback points at
    the declaration. The exception is an entrypoint or step that never joined a flow (a method of
    a class without ``@flow``, say): that can only be noticed when it is called.
    """


class FlowProblem(_Frozen):
    """One problem that validation found in a flow.

    Attributes:
        flow: The flow's name, or ``None`` for a step that belongs to no flow at all.
        step: The step the problem is about, or ``None`` when it is about the whole flow.
        file: The source file of the declaration the problem points at.
        line: The line in that file.
        code: A short stable identifier: ``unknown-after``, ``cycle``, ``unreachable``,
            ``no-entrypoint``, or ``no-flow`` for a step that never joined a flow.
        message: A sentence that says what is wrong and how to fix it.
    """

    __slots__ = ("flow", "step", "file", "line", "code", "message")  # noqa: RUF023 - repr order

    flow: str | None
    step: str | None
    file: str
    line: int
    code: str
    message: str

    def __init__(
        self, *, flow: str | None, step: str | None, file: str, line: int, code: str, message: str
    ) -> None:
        for name, value in (
            ("flow", flow),
            ("step", step),
            ("file", file),
            ("line", line),
            ("code", code),
            ("message", message),
        ):
            object.__setattr__(self, name, value)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class FlowValidationError(PenstockError, ValueError):
    """Validation found problems; all of them are listed, not just the first.

    Attributes:
        problems: Every problem found, in a stable order.
    """

    def __init__(self, problems: Sequence[FlowProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"Flow validation found {count} {noun}:\n{lines}")


class NotInFlowError(PenstockError, RuntimeError):
    """Something that needs a running flow was used outside one.

    A ``@step`` called outside any entrypoint raises this, and so does
    :func:`~penstock.set_flow_context_value`. To unit-test a step on its own, call the
    undecorated function, which stays reachable as ``step_function.__wrapped__``.
    """


class MissingDependencyError(PenstockError, ImportError):
    """An optional feature was asked for but its extra is not installed.

    Attributes:
        extra: The name of the extra that provides it, as in ``pip install "penstock[extra]"``.
    """

    def __init__(self, feature: str, extra: str) -> None:
        self.extra = extra
        super().__init__(
            f"{feature} needs an optional dependency that is not installed; "
            f'install it with: pip install "penstock[{extra}]"'
        )
