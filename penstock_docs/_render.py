"""What both docs integrations render for a flow: Mermaid with links, DOT, and a text listing."""

from __future__ import annotations

import html
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from penstock import _overlay as overlay
from penstock._dag import FlowGraph, dot_ids, mermaid_ids, render_dot, render_mermaid
from penstock._registry import _problems, get_flow
from penstock._types import StepInfo

if TYPE_CHECKING:
    from penstock._observe import Observation

DIRECTIONS = ("TD", "TB", "BT", "LR", "RL")

#: Mermaid settings for pages that penstock loads mermaid.js on. Flows can be large: the default
#: edge limit (500) would refuse to draw a big flow at all.
DEFAULT_MERMAID_CONFIG: dict[str, object] = {
    "startOnLoad": True,
    "securityLevel": "strict",
    "maxEdges": 100_000,
    "maxTextSize": 10_000_000,
}


# Named tuples rather than dataclasses: cheap to create (a site draws thousands of steps) and to
# pickle (Sphinx's parallel builds send them between processes).


class StepLink(NamedTuple):
    """A step of a rendered flow: its Mermaid node id, the Python object behind it, its summary."""

    name: str
    node_id: str
    target: str | None
    doc: str


class RenderedFlow(NamedTuple):
    """Everything a builder needs to show one flow; plain strings so it pickles (Sphinx -j)."""

    flow: str
    direction: str
    mermaid: str
    steps: tuple[StepLink, ...]
    files: tuple[str, ...]
    modules: tuple[str, ...]
    problems: tuple[str, ...]


def python_target(info: StepInfo) -> str | None:
    """Return the dotted path API docs would document ``info`` under, if it has one."""
    if "<locals>" in info.qualname or info.module in ("__main__", "<unknown>"):
        return None
    return f"{info.module}.{info.qualname}"


def load_observation(path: str) -> Observation:
    """Read an observation file, once per change of the file (raises OSError or ValueError)."""
    from penstock._observe import Observation

    stamp = Path(path).stat().st_mtime_ns
    cached = _observations.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    observation = Observation.load(path)
    _observations[path] = (stamp, observation)
    return observation


_observations: dict[str, tuple[int, Observation]] = {}


_file = attrgetter("file")
_line = attrgetter("line")
_module = attrgetter("module")


def render(
    flow_name: str,
    direction: str,
    observed: Observation | None = None,
    *,
    links: bool = True,
) -> RenderedFlow:
    """Render the flow called ``flow_name`` (raises ``FlowNotFoundError`` when unknown).

    With ``observed``, the diagram shows that observation over the declared flow. Without
    ``links``, ``steps`` is left empty: only builders that link steps to their API docs need it.
    """
    info = get_flow(flow_name)
    graph = FlowGraph(info)
    ids = mermaid_ids(graph)
    by_name = info.steps
    steps = (
        tuple(
            StepLink(name, ids[name], python_target(by_name[name]), by_name[name].doc)
            for name in graph.order
        )
        if links
        else ()
    )
    # Gathered with map() and filter(), which do per step in C what a comprehension does in
    # bytecode: a site draws thousands of steps.
    files = tuple(sorted(set(map(_file, filter(_line, by_name.values())))))
    return RenderedFlow(
        flow=flow_name,
        direction=direction,
        mermaid=(
            render_mermaid(graph, direction, ids)
            if observed is None
            else overlay.mermaid(graph, observed, direction)
        ),
        steps=steps,
        files=files,
        modules=tuple(sorted(set(map(_module, by_name.values())))),
        problems=tuple(str(problem) for problem in _problems(info, graph=graph)),
    )


def dot_of(rendered: RenderedFlow) -> str:
    """The flow's Graphviz source: drawn only for the builders that need it (LaTeX)."""
    return render_dot(FlowGraph(get_flow(rendered.flow)), rendered.direction)


def listing_of(rendered: RenderedFlow) -> str:
    """The flow as readable text, for builders that cannot draw."""
    return listing(FlowGraph(get_flow(rendered.flow)))


def listing(graph: FlowGraph) -> str:
    """A readable text version of the flow, for builders that cannot draw."""
    steps = graph.flow.steps
    lines = [f"Flow {graph.flow.name}:"]
    entrypoints = [name for name in graph.order if steps[name].entrypoint]
    lines.append("  entrypoints: " + (", ".join(entrypoints) or "(none)"))
    for source, target in graph.edges:
        lines.append(f"  {source} -> {target}")
    lone = [n for n in graph.order if not graph.successors[n] and n not in graph.has_incoming]
    lines.extend(f"  {name} (no edges)" for name in lone)
    return "\n".join(lines)


def _mermaid_string(text: str) -> str:
    # Inside a quoted click argument a double quote would end the string; Mermaid also turns
    # "#name;" into an entity. Neither can appear in a URL penstock builds, nor in the tooltip.
    cleaned = " ".join(text.split()).replace('"', "'").replace("#", "")
    return f'"{cleaned}"'


def with_links(rendered: RenderedFlow, urls: dict[str, str]) -> str:
    """Return the flow's Mermaid source with a clickable link on every step in ``urls``."""
    lines = [rendered.mermaid]
    for step in rendered.steps:
        url = urls.get(step.name)
        if not url:
            continue
        href = url.replace('"', "%22").replace(" ", "%20")
        tooltip = step.doc or step.name
        quoted = f"{_quoted_url(href)} {_mermaid_string(tooltip)}"
        lines.append(f"    click {step.node_id} href {quoted}")
    return "\n".join(lines)


def _quoted_url(url: str) -> str:
    # Mermaid would read "#anchor;" as an entity; percent-encode the only character that matters.
    return '"' + url.replace(";", "%3B") + '"'


def mermaid_html(
    source: str,
    *,
    caption: str | None = None,
    code: bool = False,
    css_class: str = "penstock-flow",
) -> str:
    """Return the HTML Mermaid renders: the source escaped once, inside ``pre.mermaid``.

    With ``code``, the source sits in a ``<code>`` element as well, the shape mkdocs-material
    looks for; mermaid.js on its own reads the ``pre`` element's text directly.
    """
    escaped = html.escape(source)
    inner = f"<code>{escaped}</code>" if code else escaped
    body = f'<pre class="mermaid">{inner}</pre>'
    if caption:
        return (
            f'<figure class="{css_class}">{body}'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    return f'<div class="{css_class}">{body}</div>'


__all__ = [
    "DEFAULT_MERMAID_CONFIG",
    "DIRECTIONS",
    "RenderedFlow",
    "StepLink",
    "dot_ids",
    "dot_of",
    "listing",
    "listing_of",
    "mermaid_html",
    "render",
    "with_links",
]
