"""Observed flows drawn over their declared diagram: counts, latencies, unused steps, surprises.

Every renderer keeps its declared output intact and adds the observation: how often each step
ran and its median latency, how often each declared edge was exercised, steps that never ran in
grey, and undeclared transitions as dashed red edges.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from penstock._dag import (
    FlowGraph,
    dot_head,
    dot_ids,
    dot_string,
    mermaid_ids,
    mermaid_label,
)

if TYPE_CHECKING:
    from penstock._observe import Observation

START = "(start)"


def _stats(observed: Observation, flow: str, step: str) -> str:
    count = observed.step_count(flow, step)
    if not count:
        return "never ran"
    p50 = observed.latency_ms(flow, step)
    runs = "1 run" if count == 1 else f"{count} runs"
    return runs if p50 is None else f"{runs}, p50 {_ms(p50)}"


def _ms(value: float) -> str:
    return f"{value:.3g} ms"


def _times(count: int) -> str:
    return f"{count}x"


def mermaid(graph: FlowGraph, observed: Observation, direction: str) -> str:
    """The flow as Mermaid, with the observation drawn over it."""
    flow = graph.flow.name
    ids = mermaid_ids(graph)
    lines = [f"graph {direction}"]
    unused: list[str] = []
    for name in graph.order:
        label = mermaid_label(name)[1:-1]
        lines.append(f'    {ids[name]}["{label}<br>{_stats(observed, flow, name)}"]')
        if not observed.step_count(flow, name):
            unused.append(ids[name])
    links = 0
    for source, target in graph.edges:
        count = observed.edge_count(flow, source, target)
        lines.append(f'    {ids[source]} -->|"{_times(count)}"| {ids[target]}')
        links += 1
    red: list[int] = []
    for (source, target), count in sorted(observed.undeclared(flow).items()):
        if target not in ids:
            continue
        if source == START:
            if "penstock_start" not in lines[1]:
                lines.insert(1, '    penstock_start(("start"))')
            source_id = "penstock_start"
        elif source in ids:
            source_id = ids[source]
        else:
            continue
        lines.append(f'    {source_id} -.->|"{_times(count)} undeclared"| {ids[target]}')
        red.append(links)
        links += 1
    if unused:
        lines.append("    classDef penstockUnused fill:#f4f4f4,stroke:#bbbbbb,color:#999999")
        lines.append(f"    class {','.join(unused)} penstockUnused")
    lines.extend(f"    linkStyle {index} stroke:#dd0000,stroke-width:2px" for index in red)
    return "\n".join(lines)


def dot(graph: FlowGraph, observed: Observation, direction: str) -> str:
    """The flow as Graphviz DOT, with the observation drawn over it."""
    flow = graph.flow.name
    ids = dot_ids(graph)
    lines = dot_head(graph, direction)
    for name in graph.order:
        attrs = [f"label={dot_string(name + chr(10) + _stats(observed, flow, name))}"]
        if graph.flow.steps[name].entrypoint:
            attrs.append("shape=ellipse")
        if not observed.step_count(flow, name):
            attrs.append('style="rounded,filled", fillcolor="#f4f4f4", fontcolor="#999999"')
        lines.append(f"    {ids[name]} [{', '.join(attrs)}];")
    for source, target in graph.edges:
        count = observed.edge_count(flow, source, target)
        lines.append(f'    {ids[source]} -> {ids[target]} [label="{_times(count)}"];')
    for (source, target), count in sorted(observed.undeclared(flow).items()):
        if target not in ids or (source != START and source not in ids):
            continue
        origin = '"penstock (start)"' if source == START else ids[source]
        lines.append(
            f"    {origin} -> {ids[target]} [style=dashed, color=red, "
            f'label="{_times(count)} undeclared"];'
        )
    lines.append("}")
    return "\n".join(lines)


def as_json(graph: FlowGraph, observed: Observation, direction: str) -> str:
    """The flow as JSON, each node and edge with its observed figures."""
    from penstock._dag import render_json

    flow = graph.flow.name
    document: dict[str, Any] = json.loads(render_json(graph, direction))
    document["invocations"] = observed.invocations(flow)
    for node in document["nodes"]:
        name = node["name"]
        node["observed"] = {
            "count": observed.step_count(flow, name),
            "p50_ms": observed.latency_ms(flow, name, 0.5),
            "p95_ms": observed.latency_ms(flow, name, 0.95),
        }
    for edge in document["edges"]:
        edge["count"] = observed.edge_count(flow, edge["source"], edge["target"])
    document["undeclared"] = [
        {"source": source, "target": target, "count": count}
        for (source, target), count in sorted(observed.undeclared(flow).items())
    ]
    return json.dumps(document, indent=2, ensure_ascii=False)


RENDERERS = {"mermaid": mermaid, "dot": dot, "json": as_json}
