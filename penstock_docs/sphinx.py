"""Sphinx extension: ``.. penstock-flow:: NAME`` draws a flow, live from the code.

Add ``"penstock_docs.sphinx"`` to ``extensions`` in ``conf.py``, list the modules that declare
flows in ``penstock_modules``, and write::

    .. penstock-flow:: order_processing
       :direction: LR
       :caption: How an order moves through the system

In MyST Markdown the same directive is a fenced block opened by ```` ```{penstock-flow} NAME ````.

HTML pages get a Mermaid diagram whose steps link to their API documentation (wherever the
Python domain documents them, with autodoc say), with the docstring's first line as tooltip.
LaTeX gets the diagram drawn by Graphviz when ``dot`` is installed; every other builder gets a
readable listing of the edges.

Configuration values:

``penstock_modules``
    Modules to import when the builder starts (a list of dotted names).
``penstock_direction``
    The default layout direction: ``"TD"`` (default), ``"LR"``, ``"BT"``, ``"RL"``.
``penstock_mermaid_js``
    Where mermaid.js comes from: a URL (by default a pinned Mermaid 11 on a CDN), a path to a
    local file relative to ``conf.py`` for offline builds (copied into ``_static``), or ``None``
    to load nothing, for instance because sphinxcontrib-mermaid already loads it (penstock then
    hands its diagrams to that extension).
``penstock_mermaid_config``
    Settings merged into penstock's ``mermaid.initialize()`` call.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from penstock._version import __version__
from penstock.errors import FlowNotFoundError
from penstock_docs._loader import DRAWN_MODULES, ModuleLoader, module_file, split_modules
from penstock_docs._render import (
    DEFAULT_MERMAID_CONFIG,
    DIRECTIONS,
    RenderedFlow,
    dot_of,
    listing_of,
    load_observation,
    mermaid_html,
    render,
    with_links,
)

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

#: The Mermaid release loaded from the CDN unless ``penstock_mermaid_js`` says otherwise; the
#: tests parse every diagram with this same release.
MERMAID_VERSION = "11.17.2"
MERMAID_CDN = f"https://cdn.jsdelivr.net/npm/mermaid@{MERMAID_VERSION}/dist/mermaid.min.js"
_LOCAL_JS = "penstock/mermaid.min.js"

# The loader of the build in progress. Sphinx runs one build at a time per process (parallel
# readers are forked from it and inherit it), and a loader outliving its build is harmless.
_current: dict[str, ModuleLoader] = {}


class penstock_flow(nodes.General, nodes.Element):  # noqa: N801 - docutils names nodes in lowercase
    """A flow diagram; its children are the cross-references to the steps' API docs."""


def _loader(modules: list[str] | None = None) -> ModuleLoader:
    loader = _current.get("loader")
    if loader is None or modules is not None:
        loader = _current["loader"] = ModuleLoader(modules or [])
    return loader


def _direction(value: str | None) -> str:
    chosen = (value or "").strip().upper()
    if chosen not in DIRECTIONS:
        msg = f"must be one of {', '.join(DIRECTIONS)}, not {value!r}"
        raise ValueError(msg)
    return chosen


def _default_direction(config: Any) -> str:
    try:
        return _direction(config.penstock_direction)
    except ValueError:
        return "TD"  # reported once, at builder-inited


class PenstockFlowDirective(SphinxDirective):
    """``.. penstock-flow:: FLOW_NAME`` with ``:module:``, ``:direction:`` and ``:caption:``."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {
        "module": directives.unchanged,
        "direction": _direction,
        "caption": directives.unchanged,
        "observed": directives.unchanged,
    }

    def _warn(self, message: str, subtype: str) -> None:
        logger.warning(
            "penstock: %s",
            message,
            location=(self.env.docname, self.lineno),
            type="penstock",
            subtype=subtype,
        )

    def run(self) -> list[nodes.Node]:
        """Import what the directive names, render the flow, and note what the page depends on."""
        flow_name = self.arguments[0].strip()
        loader = _loader()
        for module in split_modules(self.options.get("module")):
            problem = loader.ensure(module)
            if problem is not None:
                self._warn(str(problem), "import")
            source = module_file(module)
            if source is not None:
                self.env.note_dependency(str(source))
        direction = self.options.get("direction") or _default_direction(self.config)
        observed = None
        source = self.options.get("observed") or self.config.penstock_observed
        if source:
            # Relative to the source folder, the option's and the setting's alike.
            path = Path(self.env.srcdir, source)
            try:
                observed = load_observation(str(path))
                self.env.note_dependency(str(path))
            except (OSError, ValueError) as exc:
                self._warn(f"could not read the observation {path}: {exc}", "observed")
        try:
            rendered = render(flow_name, direction, observed)
        except FlowNotFoundError as exc:
            self._warn(str(exc), "unknown-flow")
            message = f"penstock: the diagram of flow {flow_name!r} is unavailable: {exc}"
            return [nodes.error("", nodes.paragraph(message, message))]
        for source_file in rendered.files:
            self.env.note_dependency(source_file)
        DRAWN_MODULES.update(rendered.modules)
        for issue in rendered.problems:
            self._warn(f"flow {flow_name!r}: {issue}", "validation")

        node = penstock_flow()
        node["rendered"] = rendered
        self.set_source_info(node)
        caption = self.options.get("caption")
        if caption:
            from sphinx.ext.graphviz import figure_wrapper

            figure = figure_wrapper(self, node, caption)  # type: ignore[arg-type]
            self.add_name(figure)
            return [figure]
        self.add_name(node)
        return [node]


def _urls(app: Sphinx, rendered: RenderedFlow, docname: str) -> dict[str, str]:
    """Map step names to the pages and anchors where autodoc documented them.

    Looked up directly in the Python domain's inventory once every document has been read: a
    step without API docs simply gets no link, and nothing is left for reference resolution
    to warn about.
    """
    objects = getattr(app.env.get_domain("py"), "objects", {})
    urls: dict[str, str] = {}
    for step in rendered.steps:
        entry = objects.get(step.target) if step.target else None
        if entry is None:
            continue
        if entry.docname == docname:
            # Same page: a bare fragment, which stays right whatever the page's URL looks like.
            urls[step.name] = f"#{entry.node_id}"
        else:
            page = app.builder.get_relative_uri(docname, entry.docname)
            urls[step.name] = f"{page}#{entry.node_id}"
    return urls


def _on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Finish each diagram for the builder at hand, once cross-references are resolved."""
    for node in list(doctree.findall(penstock_flow)):
        rendered: RenderedFlow = node["rendered"]
        if app.builder.format == "html":
            node["source"] = with_links(rendered, _urls(app, rendered, docname))
            if app.config.penstock_mermaid_js is None and "sphinxcontrib.mermaid" in app.extensions:
                node.replace_self(_sphinxcontrib_node(node))
            continue
        node.replace_self(_fallback(app, rendered, docname))


def _sphinxcontrib_node(node: penstock_flow) -> nodes.Element:
    from sphinxcontrib.mermaid import mermaid

    handed_over: nodes.Element = mermaid()
    handed_over["code"] = node["source"]
    handed_over["options"] = {}
    return handed_over


def _fallback(app: Sphinx, rendered: RenderedFlow, docname: str) -> nodes.Element:
    """Graphviz for LaTeX when ``dot`` is installed, otherwise a readable listing."""
    if app.builder.format == "latex" and shutil.which(app.config.graphviz_dot):
        from sphinx.ext.graphviz import graphviz

        drawn: nodes.Element = graphviz()
        drawn["code"] = dot_of(rendered)
        drawn["options"] = {"docname": docname}
        drawn["alt"] = f"Flow {rendered.flow}"
        return drawn
    text = listing_of(rendered)
    return nodes.literal_block(text, text, language="text")


def _visit_html(self: HTML5Translator, node: penstock_flow) -> None:
    self.body.append(mermaid_html(node["source"]))
    raise nodes.SkipNode


def _on_builder_inited(app: Sphinx) -> None:
    loader = _loader(split_modules(app.config.penstock_modules))
    for problem in loader.start_build():
        logger.warning("penstock: %s", problem, type="penstock", subtype="import")
    try:
        _direction(app.config.penstock_direction)
    except ValueError as exc:
        logger.warning(
            "penstock: penstock_direction %s; using TD.", exc, type="penstock", subtype="config"
        )
    source = app.config.penstock_mermaid_js
    if source and not _is_url(source):
        path = Path(app.confdir, source)
        if not path.is_file():
            logger.warning(
                "penstock: penstock_mermaid_js file %s does not exist; diagrams will not render. "
                "Point it at mermaid.min.js (from the mermaid npm package) or use a URL.",
                path,
                type="penstock",
                subtype="config",
            )


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "//"))


def _on_html_page_context(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: nodes.document | None,
) -> None:
    # Only pages that show a diagram load mermaid.js, and each loads it once.
    if doctree is None or doctree.next_node(penstock_flow) is None:
        return
    source = app.config.penstock_mermaid_js
    if not source:
        return
    app.add_js_file(source if _is_url(source) else _LOCAL_JS, priority=600)
    settings = {**DEFAULT_MERMAID_CONFIG, **(app.config.penstock_mermaid_config or {})}
    app.add_js_file(None, body=f"mermaid.initialize({json.dumps(settings)});", priority=601)


def _on_build_finished(app: Sphinx, exception: BaseException | None) -> None:
    source = app.config.penstock_mermaid_js
    if exception is not None or app.builder.format != "html" or not source or _is_url(source):
        return
    path = Path(app.confdir, source)
    if path.is_file():
        target = Path(app.outdir, "_static", _LOCAL_JS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive, its node, configuration values and event handlers."""
    app.setup_extension("sphinx.ext.graphviz")
    app.add_config_value("penstock_modules", [], "env", types=[list, tuple, str])
    app.add_config_value("penstock_direction", "TD", "env", types=[str])
    app.add_config_value("penstock_observed", None, "env", types=[str, type(None)])
    app.add_config_value("penstock_mermaid_js", MERMAID_CDN, "html", types=[str, type(None)])
    app.add_config_value("penstock_mermaid_config", {}, "html", types=[dict])
    app.add_node(penstock_flow, html=(_visit_html, None))
    app.add_directive("penstock-flow", PenstockFlowDirective)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("doctree-resolved", _on_doctree_resolved)
    app.connect("html-page-context", _on_html_page_context)
    app.connect("build-finished", _on_build_finished)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
