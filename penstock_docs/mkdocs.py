"""MkDocs plugin ``penstock``: live flow diagrams in ``penstock-flow`` fenced blocks.

Enable it in ``mkdocs.yml``::

    plugins:
      - search
      - penstock:
          modules: [myapp.flows]
          direction: TD

then write a fenced block whose info string is ``penstock-flow`` and whose first line is the
flow's name. mkdocs-material renders the result as a Mermaid diagram with no further set-up.

The plugin is a thin layer over :class:`penstock_docs.markdown.PenstockFlowExtension`: it adds the
extension to the site's Markdown, reports problems through MkDocs' logger (so
``mkdocs build --strict`` fails on them), re-imports the flow modules on every rebuild of
``mkdocs serve``, and watches their files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.plugins import BasePlugin, get_plugin_logger

from penstock_docs._loader import DRAWN_MODULES, module_file
from penstock_docs._render import DEFAULT_MERMAID_CONFIG, DIRECTIONS
from penstock_docs.markdown import PenstockFlowExtension

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.livereload import LiveReloadServer
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

__all__ = ["PenstockConfig", "PenstockPlugin"]

log = get_plugin_logger("penstock")  # messages read "penstock: ..."


_RAISE_LIMITS = (
    "<script>(function(){"
    f"var limits={json.dumps({k: DEFAULT_MERMAID_CONFIG[k] for k in ('maxEdges', 'maxTextSize')})};"
    "function wrap(m){if(!m||m.__penstock)return m;var init=m.initialize;"
    "m.initialize=function(c){return init.call(this,Object.assign({},c||{},limits));};"
    "m.__penstock=true;return m;}"
    "if(window.mermaid){wrap(window.mermaid);return;}"
    "var value;Object.defineProperty(window,'mermaid',{configurable:true,"
    "get:function(){return value;},set:function(v){value=wrap(v);}});"
    "})();</script>"
)


class PenstockConfig(base.Config):  # type: ignore[no-untyped-call]
    """The plugin's options in ``mkdocs.yml``."""

    #: Modules that declare flows, imported (again) at the start of every build.
    modules = c.ListOfItems(c.Type(str), default=[])
    #: Folders to import them from, relative to ``mkdocs.yml``; the project's root by default.
    paths = c.ListOfItems(c.Type(str), default=["."])
    #: The layout direction of diagrams whose block does not set one.
    direction = c.Choice(DIRECTIONS, default="TD")
    #: Wrap each diagram in ``<code>`` inside ``<pre class="mermaid">``: what mkdocs-material
    #: renders. Themes that load mermaid.js themselves need ``false``.
    code = c.Type(bool, default=True)
    #: An observation file (JSON, from ``penstock.observe()`` or ``pytest --penstock-observe``)
    #: to draw over every diagram, relative to ``mkdocs.yml``.
    observed = c.Optional(c.Type(str))


class PenstockPlugin(BasePlugin[PenstockConfig]):  # type: ignore[no-untyped-call]
    """Draw registered penstock flows wherever a page has a ``penstock-flow`` block."""

    def __init__(self) -> None:
        self.extension: PenstockFlowExtension | None = None
        self._watched: set[str] = set()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Add the Markdown extension, configured from the plugin's options."""
        base_dir = Path(config.config_file_path or ".").resolve().parent
        for entry in reversed(self.config.paths):
            folder = str((base_dir / entry).resolve())
            if folder not in sys.path:
                sys.path.insert(0, folder)
        observed = ""
        if self.config.observed:
            observed = str((base_dir / self.config.observed).resolve())
        self.extension = PenstockFlowExtension(
            modules=list(self.config.modules),
            direction=self.config.direction,
            code=self.config.code,
            observed=observed,
        )
        self.extension.base_dir = base_dir
        self.extension.on_problem = log.warning
        # Typed as names, but MkDocs hands the list to Python-Markdown, which takes instances too.
        config.markdown_extensions.append(self.extension)  # type: ignore[arg-type]
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        """Import the flow modules afresh, before any page is converted."""
        if self.extension is not None:
            self.extension.start_build()

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """Remember which page is converted next, to name it in problem messages."""
        if self.extension is not None:
            self.extension.page = page.file.src_uri
        return markdown

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        """Let large flows draw: raise Mermaid's edge limit on pages that show a diagram.

        Material initialises Mermaid itself, with Mermaid's default limit of 500 edges, and that
        limit cannot be raised from inside a diagram. A small script, first in the page's head,
        wraps ``mermaid.initialize`` as soon as mermaid.js defines it, so that whoever calls it
        gets penstock's limits as well.
        """
        extension = self.extension
        if extension is None or page.file.src_uri not in extension.pages_with_diagrams:
            return output
        head = output.find("<head>")
        if head < 0:
            return output
        cut = head + len("<head>")
        return output[:cut] + _RAISE_LIMITS + output[cut:]

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Note which modules to reload and which files to watch for the next build."""
        extension = self.extension
        if extension is None:
            return
        extension.page = None
        modules = {name for flow in extension.rendered for name in flow.modules}
        DRAWN_MODULES.update(modules)
        files = {file for flow in extension.rendered for file in flow.files}
        for name in [*self.config.modules, *sorted(modules)]:
            path = module_file(name)
            if path is not None:
                files.add(str(path))
        self._watched = {file for file in files if Path(file).is_file()}

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer:
        """Watch the files that define the drawn flows, so editing one rebuilds the site."""
        for path in sorted(self._watched):
            server.watch(path)
        return server
