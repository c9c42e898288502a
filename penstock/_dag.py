"""The graph of a flow and its renderings: Mermaid (the default), Graphviz DOT and JSON.

The order of everything in the output is fixed, so the same code always gives the same bytes and
generated diagrams can be committed and diffed: nodes come in topological order (Kahn's
algorithm, ties broken alphabetically), and each node's successors alphabetically.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Mapping
from functools import cached_property

from penstock._registry import get_flow
from penstock._typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator
    from typing import Literal

    from penstock._observe import Observation
    from penstock._types import FlowInfo

    DagFormat = Literal["mermaid", "dot", "json"]
    Direction = Literal["TD", "TB", "BT", "LR", "RL"]
    _MappingBase = Mapping[str, list[str]]
else:
    # Subscripting the ABC costs import time for nothing at run time.
    _MappingBase = Mapping


FORMATS: tuple[str, ...] = ("mermaid", "dot", "json")
DIRECTIONS: tuple[str, ...] = ("TD", "TB", "BT", "LR", "RL")

# Characters a quoted Mermaid label keeps as they are; every other one becomes "#NNN;".
_LABEL_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _")
# Words Mermaid's flowchart grammar reads as keywords (checked against Mermaid 11): a node named
# like this gets an id of its own. The grammar is case-sensitive, so "End" stays plain.
_MERMAID_RESERVED = frozenset(
    (
        "end",
        "class",
        "graph",
        "subgraph",
        "style",
        "click",
        "call",
        "href",
        "flowchart",
        "direction",
        "linkStyle",
        "classDef",
        "default",
        "interpolate",
        "_self",
        "_blank",
        "_parent",
        "_top",
    )
)


class FlowGraph:
    """The nodes and edges of one flow, in the deterministic order every renderer uses.

    Attributes:
        order: Step names in topological order (Kahn's algorithm, ties alphabetical).
        successors: Each step's successors, sorted (a read-only mapping).
        acyclic: Whether the flow has no cycle (every step could be placed in order).
        complete: Whether every ``after=`` names a step of the flow.
    """

    def __init__(self, flow: FlowInfo) -> None:
        self.flow = flow
        # Worked out on integers: each step is its rank in alphabetical order, and each edge one
        # integer, source * count + target. Integers sort fast and, unlike lists and sets, are
        # nothing the garbage collector has to scan, so large flows stay linear in practice.
        names = sorted(flow.steps)
        count = len(names)
        rank = dict(zip(names, range(count), strict=True))
        find = rank.get
        codes: set[int] = set()
        add = codes.add
        complete = True
        for name, info in flow.steps.items():
            if info.after:
                target = rank[name]
                for before in info.after:
                    source = find(before)
                    if source is not None:
                        add(source * count + target)
                    else:  # a misspelt after= is validation's to report
                        complete = False
        self.complete = complete
        edges = sorted(codes)
        indegree = [0] * count
        targets = [code % count for code in edges]
        for target in targets:
            indegree[target] += 1
        # Edges are sorted by source, so those of the steps before ``index`` are exactly the codes
        # below ``index * count``: a binary search per step, instead of counting edge by edge.
        offsets = [bisect_left(edges, index * count) for index in range(count + 1)]
        self._names = names
        self._rank = rank
        self._offsets = offsets
        self._targets = targets
        self._indegree = indegree
        self._order, self.acyclic = _topological_order(offsets, targets, indegree)
        self.order = list(map(names.__getitem__, self._order))
        self.successors: Mapping[str, list[str]] = _Successors(self)

    @cached_property
    def has_incoming(self) -> set[str]:
        """The steps that some other step leads to (worked out on first use, then kept)."""
        return {name for name, degree in zip(self._names, self._indegree, strict=True) if degree}

    def sources(self) -> list[str]:
        """The steps nothing leads to, alphabetically."""
        names, indegree = self._names, self._indegree
        return [name for name, degree in zip(names, indegree, strict=True) if not degree]

    def targets_of(self, name: str) -> list[str]:
        """The steps ``name`` leads to, sorted."""
        index = self._rank[name]
        names = self._names
        return [names[t] for t in self._targets[self._offsets[index] : self._offsets[index + 1]]]

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Edges grouped by source in node order, targets sorted."""
        return [(name, target) for name in self.order for target in self.targets_of(name)]


class _Successors(_MappingBase):
    """A read-only view of a graph's successor lists, built on demand."""

    def __init__(self, graph: FlowGraph) -> None:
        self._graph = graph

    def __getitem__(self, name: str) -> list[str]:
        if name not in self._graph._rank:
            raise KeyError(name)
        return self._graph.targets_of(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._graph._names)

    def __len__(self) -> int:
        return len(self._graph._names)


def _topological_order(
    offsets: list[int], targets: list[int], indegree: list[int]
) -> tuple[list[int], bool]:
    """Kahn's algorithm on ranks: the smallest ready rank (the alphabetically first) goes next.

    Also returns whether that placed every step on its own, that is, whether there is no cycle.
    """
    count = len(indegree)
    remaining = list(indegree)
    # In ascending order, so already a heap. Counts only go down: a placed step's stays at zero
    # or below and is never made ready again.
    ready = [index for index, degree in enumerate(remaining) if not degree]
    order: list[int] = []
    place = order.append
    acyclic = True
    pop, push = heapq.heappop, heapq.heappush
    while len(order) < count:
        while ready:
            index = pop(ready)
            place(index)
            first, stop = offsets[index], offsets[index + 1]
            if first == stop:
                continue
            for target in targets[first:stop]:
                left = remaining[target] - 1
                remaining[target] = left
                if not left:
                    push(ready, target)
        if len(order) < count:
            acyclic = False
            # Only cycles are left (validation reports them); break in at the step with the
            # fewest unmet predecessors, the alphabetically first on a tie, so the output stays
            # deterministic.
            start = min(
                (index for index in range(count) if remaining[index] > 0),
                key=lambda index: (remaining[index], index),
            )
            remaining[start] = 0
            push(ready, start)
    return order, acyclic


# -- Mermaid ------------------------------------------------------------------------------------


def is_plain_mermaid_id(name: str) -> bool:
    """Return whether ``name`` can stand in Mermaid source as it is, unquoted."""
    # An ASCII identifier is exactly [A-Za-z_][A-Za-z0-9_]*, and cheaper to test than a regex.
    return name.isascii() and name.isidentifier() and name not in _MERMAID_RESERVED


def mermaid_label(name: str) -> str:
    """Return ``name`` as a quoted Mermaid label, every risky character as a ``#NNN;`` code.

    Mermaid trims labels, so spaces at either end are encoded too, to keep the name intact.
    """
    body = name.strip(" ")
    lead = len(name) - len(name.lstrip(" "))
    trail = len(name) - len(name.rstrip(" ")) if body else 0
    escaped = "".join(char if char in _LABEL_KEEP else f"#{ord(char)};" for char in body)
    return '"' + "#32;" * lead + escaped + "#32;" * trail + '"'


def mermaid_ids(graph: FlowGraph) -> dict[str, str]:
    """Map each step name to its Mermaid node id: the name itself when that is safe."""
    taken = set(filter(is_plain_mermaid_id, graph.order))
    ids: dict[str, str] = {}
    counter = 0
    for name in graph.order:
        if name in taken:
            ids[name] = name
            continue
        while f"step_{counter}" in taken:
            counter += 1
        ids[name] = f"step_{counter}"
        taken.add(ids[name])
    return ids


def render_mermaid(
    graph: FlowGraph, direction: str = "TD", ids: dict[str, str] | None = None
) -> str:
    """Render ``graph`` as a Mermaid flowchart (``ids``, when given, from mermaid_ids())."""
    if ids is None:
        ids = mermaid_ids(graph)
    names, offsets, targets = graph._names, graph._offsets, graph._targets
    # Worked out by rank, in lists: for a large flow, looking each id up by name in a dict (and
    # comparing name strings) scattered reads across memory and made rendering scale worse
    # than linearly.
    id_of = list(map(ids.__getitem__, names))
    indegree = graph._indegree
    order = graph._order
    lines = [f"graph {direction}"]
    if id_of != names:  # some step needs a label of its own (most flows have none)
        lines.extend(
            f"    {id_of[index]}[{mermaid_label(names[index])}]"
            for index in order
            if id_of[index] != names[index]
        )
    for index in order:
        first, stop = offsets[index], offsets[index + 1]
        source = id_of[index]
        if first != stop:
            arrow = f"    {source} --> "
            lines.extend([arrow + id_of[target] for target in targets[first:stop]])
        elif not indegree[index] and source == names[index]:
            lines.append(f"    {source}")
    return "\n".join(lines)


# -- Graphviz DOT -------------------------------------------------------------------------------

_DOT_RANKDIR = {"TD": "TB", "TB": "TB", "BT": "BT", "LR": "LR", "RL": "RL"}


def _is_control(char: str) -> bool:
    # Unicode's "Cc" category is exactly these two ranges.
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F  # noqa: PLR2004


def dot_string(text: str) -> str:
    """Return ``text`` as a double-quoted DOT string."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # the common case: nothing to escape
    out: list[str] = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif _is_control(char):
            # Control characters have no business in a label; show where they were.
            out.append(" ")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def dot_ids(graph: FlowGraph) -> dict[str, str]:
    """Map each step name to a unique quoted DOT id, the name itself wherever possible.

    Two names can quote to the same string (control characters become spaces), so later ones
    get a ``#N`` suffix instead of silently merging into one node.
    """
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name in graph.order:
        candidate, suffix = dot_string(name), 1
        while candidate in taken:
            suffix += 1
            candidate = dot_string(f"{name}#{suffix}")
        ids[name] = candidate
        taken.add(candidate)
    return ids


def dot_head(graph: FlowGraph, direction: str) -> list[str]:
    """The opening lines of a flow's ``digraph``, shared by the plain and the observed drawing."""
    return [
        f"digraph {dot_string(graph.flow.name)} {{",
        f"    rankdir={_DOT_RANKDIR[direction]};",
        '    node [shape=box, style="rounded"];',
    ]


def render_dot(graph: FlowGraph, direction: str = "TD") -> str:
    """Render ``graph`` as a Graphviz ``digraph``; entrypoints are drawn as ellipses."""
    steps = graph.flow.steps
    ids = dot_ids(graph)
    lines = dot_head(graph, direction)
    for name in graph.order:
        info = steps[name]
        attrs = [f"label={dot_string(name)}"]
        if info.entrypoint:
            attrs.append("shape=ellipse")
        if info.doc:
            attrs.append(f"tooltip={dot_string(info.doc)}")
        lines.append(f"    {ids[name]} [{', '.join(attrs)}];")
    lines.extend(f"    {ids[source]} -> {ids[target]};" for source, target in graph.edges)
    lines.append("}")
    return "\n".join(lines)


# -- JSON ---------------------------------------------------------------------------------------


def render_json(graph: FlowGraph, direction: str = "TD") -> str:
    """Render ``graph`` as JSON: the flow's name, its nodes with their facts, and its edges."""
    steps = graph.flow.steps
    document = {
        "flow": graph.flow.name,
        "direction": direction,
        "nodes": [
            {
                "name": name,
                "entrypoint": steps[name].entrypoint,
                "after": list(steps[name].after),
                "kind": steps[name].kind,
                "module": steps[name].module,
                "qualname": steps[name].qualname,
                "file": steps[name].file,
                "line": steps[name].line,
                "doc": steps[name].doc,
            }
            for name in graph.order
        ],
        "edges": [{"source": source, "target": target} for source, target in graph.edges],
    }
    import json  # imported when used: `import penstock` stays cheap

    return json.dumps(document, indent=2, ensure_ascii=False)


_RENDERERS = {"mermaid": render_mermaid, "dot": render_dot, "json": render_json}
_FENCE_LANGUAGE = {"mermaid": "mermaid", "dot": "dot", "json": "json"}


def _fenced(text: str, language: str) -> str:
    import re

    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}\n"


def generate_dag(
    name: str,
    format: DagFormat | str = "mermaid",  # noqa: A002 - the public API's argument name
    output: str | os.PathLike[str] | None = None,
    direction: Direction | str = "TD",
    observed: Observation | str | os.PathLike[str] | None = None,
) -> str:
    """Render the diagram of every path through the flow called ``name``.

    Args:
        name: The flow's name.
        format: ``"mermaid"`` (the default), ``"dot"`` for Graphviz, or ``"json"``.
        output: A file to write as well, in UTF-8. A ``.md`` file gets the diagram inside a fenced
            code block, so code hosts and documentation sites render it.
        direction: The layout direction: ``"TD"`` (top down, the default), ``"LR"``, ``"BT"``,
            ``"RL"`` or ``"TB"``.
        observed: An :class:`~penstock.Observation` (or the path of one saved as JSON) to draw
            over the diagram: counts and median latencies, steps that never ran in grey, and
            undeclared transitions as dashed red edges.

    Returns:
        The diagram's source.

    Raises:
        FlowNotFoundError: No flow by that name is registered; the message lists the known ones.
        ValueError: ``format`` or ``direction`` is not one of the supported values.

    Examples:
        >>> from penstock import entrypoint, generate_dag, step
        >>> @entrypoint("doc_dag")
        ... def receive() -> None: ...
        >>> @step("doc_dag", after="receive")
        ... def store() -> None: ...
        >>> print(generate_dag("doc_dag"))
        graph TD
            receive --> store
    """
    if format not in _RENDERERS:
        choices = ", ".join(repr(choice) for choice in FORMATS)
        msg = f"Unknown diagram format {format!r}; choose one of {choices}."
        raise ValueError(msg)
    if direction not in _DOT_RANKDIR:
        choices = ", ".join(repr(choice) for choice in DIRECTIONS)
        msg = f"Unknown diagram direction {direction!r}; choose one of {choices}."
        raise ValueError(msg)
    graph = FlowGraph(get_flow(name))
    if observed is None:
        text = _RENDERERS[format](graph, direction)
    else:
        from penstock import _overlay
        from penstock._observe import Observation

        observation = observed if isinstance(observed, Observation) else Observation.load(observed)
        text = _overlay.RENDERERS[format](graph, observation, direction)
    if output is not None:
        from pathlib import Path

        path = Path(output)
        content = text + "\n"
        if path.suffix.lower() in {".md", ".markdown"}:
            content = _fenced(text, _FENCE_LANGUAGE[format])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return text
