"""The graph of a flow and its renderings: Mermaid (the default), Graphviz DOT and JSON.

The order of everything in the output is fixed, so the same code always gives the same bytes and
generated diagrams can be committed and diffed: nodes come in topological order (Kahn's
algorithm, ties broken alphabetically), and each node's successors alphabetically.
"""

from __future__ import annotations

import heapq
import json
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from penstock._registry import get_flow

if TYPE_CHECKING:
    import os

    from penstock._types import FlowInfo

DagFormat = Literal["mermaid", "dot", "json"]
Direction = Literal["TD", "TB", "BT", "LR", "RL"]

FORMATS: tuple[str, ...] = ("mermaid", "dot", "json")
DIRECTIONS: tuple[str, ...] = ("TD", "TB", "BT", "LR", "RL")

_SAFE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_LABEL_KEEP = re.compile(r"[A-Za-z0-9 _]")
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
    """The nodes and edges of one flow, in the deterministic order every renderer uses."""

    def __init__(self, flow: FlowInfo) -> None:
        self.flow = flow
        names = list(flow.steps)
        self.successors: dict[str, list[str]] = {name: [] for name in names}
        indegree = dict.fromkeys(names, 0)
        for before, after in flow.edges:
            if after not in self.successors[before]:
                self.successors[before].append(after)
                indegree[after] += 1
        for targets in self.successors.values():
            targets.sort()
        self.has_incoming = {name for name, count in indegree.items() if count}
        self.order = _topological_order(self.successors, indegree)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Edges grouped by source in node order, targets sorted."""
        return [(name, target) for name in self.order for target in self.successors[name]]


def _topological_order(successors: dict[str, list[str]], indegree: dict[str, int]) -> list[str]:
    remaining = dict(indegree)
    ready = [name for name, count in remaining.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while True:
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            del remaining[name]
            for target in successors[name]:
                if target in remaining:
                    remaining[target] -= 1
                    if remaining[target] == 0:
                        heapq.heappush(ready, target)
        if not remaining:
            return order
        # Only cycles are left (validation reports them); break in at the alphabetically first
        # step with the fewest unmet predecessors so the output stays deterministic.
        start = min(remaining, key=lambda name: (remaining[name], name))
        remaining[start] = 0
        heapq.heappush(ready, start)


# -- Mermaid ------------------------------------------------------------------------------------


def is_plain_mermaid_id(name: str) -> bool:
    """Return whether ``name`` can stand in Mermaid source as it is, unquoted."""
    return bool(_SAFE_ID.match(name)) and name not in _MERMAID_RESERVED


def mermaid_label(name: str) -> str:
    """Return ``name`` as a quoted Mermaid label, every risky character as a ``#NNN;`` code.

    Mermaid trims labels, so spaces at either end are encoded too, to keep the name intact.
    """
    body = name.strip(" ")
    lead = len(name) - len(name.lstrip(" "))
    trail = len(name) - len(name.rstrip(" ")) if body else 0
    escaped = "".join(char if _LABEL_KEEP.match(char) else f"#{ord(char)};" for char in body)
    return '"' + "#32;" * lead + escaped + "#32;" * trail + '"'


def mermaid_ids(graph: FlowGraph) -> dict[str, str]:
    """Map each step name to its Mermaid node id: the name itself when that is safe."""
    taken = {name for name in graph.order if is_plain_mermaid_id(name)}
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


def render_mermaid(graph: FlowGraph, direction: str = "TD") -> str:
    """Render ``graph`` as a Mermaid flowchart."""
    ids = mermaid_ids(graph)
    lines = [f"graph {direction}"]
    lines.extend(
        f"    {ids[name]}[{mermaid_label(name)}]" for name in graph.order if ids[name] != name
    )
    for name in graph.order:
        targets = graph.successors[name]
        if targets:
            lines.extend(f"    {ids[name]} --> {ids[target]}" for target in targets)
        elif name not in graph.has_incoming and ids[name] == name:
            lines.append(f"    {name}")
    return "\n".join(lines)


# -- Graphviz DOT -------------------------------------------------------------------------------

_DOT_RANKDIR = {"TD": "TB", "TB": "TB", "BT": "BT", "LR": "LR", "RL": "RL"}


def dot_string(text: str) -> str:
    """Return ``text`` as a double-quoted DOT string."""
    out: list[str] = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif unicodedata.category(char) == "Cc":
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


def render_dot(graph: FlowGraph, direction: str = "TD") -> str:
    """Render ``graph`` as a Graphviz ``digraph``; entrypoints are drawn as ellipses."""
    steps = graph.flow.steps
    ids = dot_ids(graph)
    lines = [
        f"digraph {dot_string(graph.flow.name)} {{",
        f"    rankdir={_DOT_RANKDIR[direction]};",
        '    node [shape=box, style="rounded"];',
    ]
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
    return json.dumps(document, indent=2, ensure_ascii=False)


_RENDERERS = {"mermaid": render_mermaid, "dot": render_dot, "json": render_json}
_FENCE_LANGUAGE = {"mermaid": "mermaid", "dot": "dot", "json": "json"}


def _fenced(text: str, language: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}\n"


def generate_dag(
    name: str,
    format: DagFormat | str = "mermaid",  # noqa: A002 - the public API's argument name
    output: str | os.PathLike[str] | None = None,
    direction: Direction | str = "TD",
) -> str:
    """Render the diagram of every path through the flow called ``name``.

    Args:
        name: The flow's name.
        format: ``"mermaid"`` (the default), ``"dot"`` for Graphviz, or ``"json"``.
        output: A file to write as well, in UTF-8. A ``.md`` file gets the diagram inside a fenced
            code block, so code hosts and documentation sites render it.
        direction: The layout direction: ``"TD"`` (top down, the default), ``"LR"``, ``"BT"``,
            ``"RL"`` or ``"TB"``.

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
    text = _RENDERERS[format](FlowGraph(get_flow(name)), direction)
    if output is not None:
        path = Path(output)
        content = text + "\n"
        if path.suffix.lower() in {".md", ".markdown"}:
            content = _fenced(text, _FENCE_LANGUAGE[format])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return text
