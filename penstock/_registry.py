"""The registry of flows, filled by the decorators at import time, and its validation.

Nothing at run time reads the registry: the wrappers carry what they need. It exists for the
graph renderers, the command line and the docs integrations, and it is guarded by a lock so that
modules imported from several threads at once register consistently.
"""

from __future__ import annotations

import sys
import threading
import weakref

from penstock._types import FlowInfo, StepInfo
from penstock._typing import TYPE_CHECKING
from penstock.errors import (
    FlowDefinitionError,
    FlowNotFoundError,
    FlowProblem,
    FlowValidationError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from penstock._dag import FlowGraph

_lock = threading.RLock()
# flow name -> step name -> StepInfo, both in registration order.
_flows: dict[str, dict[str, StepInfo]] = {}
# flow name -> step name -> the module spec in force when it was registered: one object per
# execution of the module, so a second definition in the same execution can be told from a
# re-import.
_origins: dict[str, dict[str, object]] = {}


def _same_definition(old: StepInfo, new: StepInfo) -> bool:
    # Importing a module again (importlib.reload, a docs server rebuilding, a script that is both
    # run as __main__ and imported) re-creates its functions: same qualified name from the same
    # module or file. That replaces the old record instead of being a conflict.
    return old.qualname == new.qualname and (old.module == new.module or old.file == new.file)


def register(info: StepInfo, flow: str) -> None:
    """Add ``info`` to ``flow``, replacing an earlier import of the same definition.

    ``flow`` is given separately because the decorators register a step before they set its
    ``flow``: a step whose registration fails must not look as if it belonged to one.

    Raises:
        FlowDefinitionError: Another definition already uses the step's name in that flow.
    """
    with _lock:
        add_to_flow(info, flow)


def add_to_flow(info: StepInfo, flow: str) -> None:
    """:func:`register`, for a caller that holds ``_lock`` already (the decorators do)."""
    name = info.name
    # The module's spec is one object per execution of the module (see _origins).
    origin = getattr(sys.modules.get(info.module), "__spec__", None)
    steps = _flows.get(flow)
    if steps is None:  # the origins first: a flow is never without them
        origins = _origins[flow] = {}
        steps = _flows[flow] = {}
    else:
        origins = _origins[flow]
    old = steps.get(name)
    if old is not None:
        redefined = origin is not None and origins.get(name) is origin and old.line != info.line
        if redefined or not _same_definition(old, info):
            msg = (
                f"Step {info.name!r} is defined twice in flow {flow!r}: {old.qualname} "
                # Not info.location: the decorators' record is not a StepInfo yet.
                f"at {old.location} and {info.qualname} at {info.file}:{info.line}; give one "
                "of them a different name with name=... or remove the duplicate."
            )
            raise FlowDefinitionError(msg)
    steps[name] = info
    origins[name] = origin


def forget_module(module: str) -> None:
    """Drop every step defined in ``module``, so that importing it again starts clean."""
    with _lock:
        for name in list(_flows):
            steps = _flows[name]
            origins = _origins[name]
            for step_name in [s for s, info in steps.items() if info.module == module]:
                del steps[step_name]
                del origins[step_name]
            if not steps:
                del _flows[name]
                del _origins[name]


def clear() -> None:
    """Forget every flow. Meant for tests that build flows on the fly."""
    with _lock:
        _flows.clear()
        _origins.clear()


def get_flow(name: str) -> FlowInfo:
    """Return a snapshot of the flow called ``name``.

    Raises:
        FlowNotFoundError: No imported module registered a flow by that name; the error lists the
            known flows.

    Examples:
        >>> from penstock import entrypoint, get_flow
        >>> @entrypoint("doc_example_flow")
        ... def start() -> None: ...
        >>> [step.name for step in get_flow("doc_example_flow").entrypoints]
        ['start']
    """
    with _lock:
        steps = _flows.get(name)
        if steps is None:
            raise FlowNotFoundError(name, _flows)
        return FlowInfo(name=name, steps=steps)  # FlowInfo keeps a read-only copy


def list_flows() -> list[str]:
    """Return the names of every registered flow, sorted."""
    with _lock:
        return sorted(_flows)


# -- validation ---------------------------------------------------------------------------------


def _problems(flow: FlowInfo, *, graph: FlowGraph | None = None) -> list[FlowProblem]:
    """Every problem of ``flow``; ``graph`` when the caller has built the flow's graph already."""
    problems: list[FlowProblem] = []
    steps = flow.steps
    if not steps:  # pragma: no cover - a flow only exists once it has a step
        return problems
    if graph is not None and _sound(graph, steps):
        return problems

    def problem(step: StepInfo, code: str, message: str, *, about_step: bool = True) -> None:
        problems.append(
            FlowProblem(
                flow=flow.name,
                step=step.name if about_step else None,
                file=step.file,
                line=step.line,
                code=code,
                message=message,
            )
        )

    # One pass over the declarations builds the successor lists every check below shares.
    successors: dict[str, list[str]] = {name: [] for name in steps}
    dangling: set[str] = set()
    for info in steps.values():
        for before in info.after:
            targets = successors.get(before)
            if targets is not None:
                targets.append(info.name)
                continue
            dangling.add(info.name)
            import difflib  # only when there is a problem to explain

            close = difflib.get_close_matches(before, list(steps), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problem(
                info,
                "unknown-after",
                f"step {info.name!r} of flow {flow.name!r} comes after {before!r}, which is "
                f"not a step of that flow.{hint}",
            )

    if graph is None:
        from penstock._dag import FlowGraph  # _dag imports this module: here, not at the top

        graph = FlowGraph(flow)
    if not graph.acyclic:  # the search that names each cycle, only when there is one
        for cycle in _find_cycles(successors):
            first = steps[cycle[0]]
            path = " -> ".join([*cycle, cycle[0]])
            problem(
                first,
                "cycle",
                f"flow {flow.name!r} has a cycle: {path}; remove one of these after= links.",
            )

    entrypoints = [info.name for info in steps.values() if info.entrypoint]
    if not entrypoints:
        first = next(iter(steps.values()))
        problem(
            first,
            "no-entrypoint",
            f"flow {flow.name!r} has no entrypoint; mark the function where it starts "
            "with @entrypoint.",
            about_step=False,
        )
    else:
        reached = _reachable(successors, entrypoints)
        for info in steps.values():
            # A step cut off only by a misspelt after= is already reported as such.
            if info.name not in reached and info.name not in dangling:
                problem(
                    info,
                    "unreachable",
                    f"step {info.name!r} of flow {flow.name!r} cannot be reached from any "
                    "entrypoint; give it an after= that leads back to one.",
                )
    return problems


def _sound(graph: FlowGraph, steps: Mapping[str, StepInfo]) -> bool:
    """Whether ``graph`` alone shows its flow to have no problem at all, the usual case.

    Without cycles, every step leads back, edge by edge, to a step that nothing leads to; when
    all of those are entrypoints and every ``after=`` names a step, every step is reachable from
    an entrypoint. That settles a flow without the searches of :func:`_problems`, which a docs
    build would otherwise run over thousands of steps.
    """
    if not (graph.acyclic and graph.complete):
        return False
    return all(steps[name].entrypoint for name in graph.sources())


def _reachable(successors: dict[str, list[str]], starts: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(successors[name])
    return seen


def _find_cycles(successors: dict[str, list[str]]) -> list[list[str]]:
    """Return one path per cycle found by a depth-first search, each starting at its first step.

    Steps and their successors are visited in alphabetical order, so the report is the same
    on every run. Iterative, so a flow with thousands of steps cannot exhaust the recursion
    limit.
    """
    ordered = {name: sorted(targets) for name, targets in successors.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    cycles: list[list[str]] = []
    for root in sorted(ordered):
        if root in state:
            continue
        path: list[str] = [root]
        iterators = [iter(ordered[root])]
        state[root] = 1
        while iterators:
            child = next(iterators[-1], None)
            if child is None:
                state[path.pop()] = 2
                iterators.pop()
            elif state.get(child) == 1:
                cycles.append(path[path.index(child) :])
            elif child not in state:
                state[child] = 1
                path.append(child)
                iterators.append(iter(ordered[child]))
    return cycles


def validate_flow(name: str) -> None:
    """Check one flow and raise if anything is wrong with it.

    Checks that every ``after=`` names a step of the flow, that there are no cycles, that the
    flow has an entrypoint and that every step can be reached from one.

    Raises:
        FlowNotFoundError: There is no flow by that name.
        FlowValidationError: Lists every problem with its ``file:line``.

    Examples:
        >>> from penstock import entrypoint, step, validate_flow
        >>> @entrypoint("doc_validated")
        ... def begin() -> None: ...
        >>> @step("doc_validated", after="begni")
        ... def then() -> None: ...
        >>> validate_flow("doc_validated")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        penstock.errors.FlowValidationError: Flow validation found 1 problem:
        ...comes after 'begni', which is not a step of that flow. Did you mean 'begin'?
    """
    problems = _problems(get_flow(name))
    if problems:
        raise FlowValidationError(problems)


# Entrypoints and steps that were decorated but have not joined a flow (yet): class-form methods
# until their class gets @flow, and forgotten ones forever. Weak, so discarded code is dropped.
_unattached: weakref.WeakKeyDictionary[object, tuple[str, str, str, int, bool]] = (
    weakref.WeakKeyDictionary()
)


def note_unattached(
    owner: object, *, name: str, qualname: str, file: str, line: int, entry: bool
) -> None:
    """Remember a decorated callable that belongs to no flow, for :func:`validate_flows`."""
    with _lock:
        _unattached[owner] = (name, qualname, file, line, entry)


def note_attached(owner: object) -> None:
    """Forget ``owner`` as unattached: it joined a flow."""
    with _lock:
        _unattached.pop(owner, None)


def _orphan_problems() -> list[FlowProblem]:
    with _lock:
        orphans = sorted(_unattached.values(), key=lambda item: (item[2], item[3]))
    return [
        FlowProblem(
            flow=None,
            step=name,
            file=file,
            line=line,
            code="no-flow",
            message=(
                f"{'entrypoint' if entry else 'step'} {name!r} ({qualname}) is not part of any "
                'flow; put @flow("name") on its class or above it, or name the flow in its '
                "decorator."
            ),
        )
        for name, qualname, file, line, entry in orphans
    ]


def validate_flows() -> None:
    """Check every registered flow, like :func:`validate_flow`, and report all problems at once.

    Also reports entrypoints and steps that never joined any flow (a forgotten ``@flow`` on a
    class, say), which would otherwise only fail when called.

    Raises:
        FlowValidationError: Lists every problem of every flow with its ``file:line``.
    """
    problems = [problem for name in list_flows() for problem in _problems(get_flow(name))]
    problems.extend(_orphan_problems())
    if problems:
        raise FlowValidationError(problems)


def find_problems(name: str) -> list[FlowProblem]:
    """Return the validation problems of one flow without raising (for tools that report them)."""
    return _problems(get_flow(name))
