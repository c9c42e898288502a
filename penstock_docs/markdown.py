"""Python-Markdown extension: a ``penstock-flow`` fenced block becomes a live Mermaid diagram.

The MkDocs plugin (:mod:`penstock_docs.mkdocs`) is a thin layer over this extension; anything that
accepts Python-Markdown extensions can use it directly::

    import markdown
    from penstock_docs.markdown import PenstockFlowExtension

    html = markdown.markdown(text, extensions=[PenstockFlowExtension(modules=["myapp.flows"])])

The block's first line is the flow's name; further lines are ``key: value`` options::

    ```penstock-flow
    order_processing
    direction: LR
    caption: How an order moves through the system
    ```

Options: ``direction`` (TD, LR, BT, RL, TB), ``caption``, and ``module`` (modules to import
first, comma separated). Without the extension the block shows as an ordinary code block.
"""

from __future__ import annotations

import html
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from penstock.errors import FlowNotFoundError
from penstock_docs._loader import ModuleLoader, split_modules
from penstock_docs._render import (
    DIRECTIONS,
    RenderedFlow,
    load_observation,
    mermaid_html,
    render,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from markdown import Markdown

    from penstock._observe import Observation

__all__ = ["PenstockFlowExtension", "makeExtension"]

_OPEN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*\{?\.?penstock-flow\}?"
    r"(?:[ \t]+(?P<name>[^`~].*?))?[ \t]*$"
)
_ANY_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
_OPTION = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_-]*)[ \t]*:[ \t]*(?P<value>.*)$")
_KNOWN_OPTIONS = ("direction", "caption", "module", "observed")


def _default_reporter(message: str) -> None:
    # Inside an MkDocs build (the extension listed in markdown_extensions, or used from a hook),
    # warnings must reach MkDocs' own loggers so that --strict counts them.
    name = "mkdocs.plugins.penstock" if "mkdocs" in sys.modules else "penstock_docs"
    logging.getLogger(name).warning("penstock: %s", message)


class FlowBlockError(ValueError):
    """A ``penstock-flow`` block that cannot be drawn; the message says why."""


class PenstockFlowExtension(Extension):
    """Turn ``penstock-flow`` fenced blocks into Mermaid diagrams of registered flows.

    Config:
        modules: Modules to import before the first diagram (a list, or a comma-separated string).
        direction: The default layout direction.
        code: Wrap the diagram in ``<code>`` inside ``<pre class="mermaid">``, the shape
            mkdocs-material renders (the default).
    """

    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "modules": [[], "Modules to import before drawing (list or comma-separated)."],
            "direction": ["TD", "Default layout direction: TD, LR, BT, RL or TB."],
            "code": [True, "Put the diagram inside <code> in <pre class='mermaid'>."],
            "observed": ["", "An observation file (JSON) to draw over every diagram."],
        }
        super().__init__(**kwargs)
        # Python-Markdown may build a new extension for every document, so on its own the
        # extension only imports; start_build() (called by the plugin) re-imports.
        self.loader = ModuleLoader(split_modules(self.getConfig("modules")), reload=False)
        #: Called with each problem's message; the MkDocs plugin routes it to its logger.
        self.on_problem: Callable[[str], None] = _default_reporter
        #: The page being converted, named in problem messages when set.
        self.page: str | None = None
        #: The flows drawn since the last reset, for the plugin's watch and reload lists.
        self.rendered: list[RenderedFlow] = []
        #: The pages (as set in ``page``) that got at least one diagram.
        self.pages_with_diagrams: set[str] = set()
        #: The folder relative file paths in blocks are resolved against (the plugin sets it to
        #: mkdocs.yml's folder); the current folder when unset.
        self.base_dir: Path | None = None
        self._started = False

    def start_build(self) -> None:
        """Import (or re-import) the configured modules; the plugin calls this once per build."""
        self._started = True
        self.loader.reload = True
        self.rendered = []
        for problem in self.loader.start_build():
            self.on_problem(str(problem))

    def problem(self, message: str) -> None:
        """Report ``message`` for the current page."""
        where = f" (in {self.page})" if self.page else ""
        self.on_problem(f"{message}{where}")

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's API name
        """Register the preprocessor between whitespace normalising (30) and fenced code (25)."""
        md.registerExtension(self)
        md.preprocessors.register(FlowBlockPreprocessor(md, self), "penstock_flow", 29)

    def block_html(self, body: list[str]) -> str:
        """Render one block's lines (without the fences) as HTML, or raise FlowBlockError."""
        if not self._started:
            self._started = True
            for failed in self.loader.start_build():  # imports only, see __init__
                self.on_problem(str(failed))
        content = [line.strip() for line in body if line.strip()]
        if not content:
            msg = "a penstock-flow block needs the flow's name on its first line"
            raise FlowBlockError(msg)
        flow_name, options = content[0], {}
        for line in content[1:]:
            match = _OPTION.match(line)
            if not match or match.group("key") not in _KNOWN_OPTIONS:
                known = ", ".join(_KNOWN_OPTIONS)
                msg = (
                    f"flow {flow_name!r}: unknown option line {line!r}; "
                    f"use 'key: value' with {known}"
                )
                raise FlowBlockError(msg)
            options[match.group("key")] = match.group("value").strip()
        for module in split_modules(options.get("module")):
            problem = self.loader.ensure(module)
            if problem is not None:
                self.problem(str(problem))
        direction = (options.get("direction") or self.getConfig("direction") or "TD").upper()
        if direction not in DIRECTIONS:
            choices = ", ".join(DIRECTIONS)
            msg = f"flow {flow_name!r}: direction must be one of {choices}, not {direction!r}"
            raise FlowBlockError(msg)
        try:
            # Markdown has no API-docs inventory to link steps to: skip collecting the links.
            rendered = render(flow_name, direction, self._observation(options), links=False)
        except FlowNotFoundError as exc:
            raise FlowBlockError(str(exc)) from exc
        self.rendered.append(rendered)
        if self.page is not None:
            self.pages_with_diagrams.add(self.page)
        for issue in rendered.problems:
            self.problem(f"flow {flow_name!r}: {issue}")
        return mermaid_html(
            rendered.mermaid, caption=options.get("caption"), code=bool(self.getConfig("code"))
        )

    def _observation(self, options: dict[str, str]) -> Observation | None:
        source = options.get("observed") or self.getConfig("observed")
        if not source:
            return None
        path = Path(source)
        if self.base_dir is not None and not path.is_absolute():
            path = self.base_dir / path
        try:
            return load_observation(str(path))
        except (OSError, ValueError) as exc:
            self.problem(f"could not read the observation {source}: {exc}")
            return None


class FlowBlockPreprocessor(Preprocessor):
    """Find ``penstock-flow`` fences and replace each with a stashed HTML diagram."""

    def __init__(self, md: Markdown, extension: PenstockFlowExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        """Return ``lines`` with every complete ``penstock-flow`` block replaced."""
        if not any("penstock-flow" in line for line in lines):
            return lines  # most pages of a site: no need to look at each line's fences
        out: list[str] = []
        index = 0
        while index < len(lines):
            line = lines[index].rstrip("\r")
            match = _OPEN.match(line)
            other = None if match else _ANY_FENCE.match(line)
            if other is not None:
                # Another fenced block (an example in a ````markdown fence, say): whatever it
                # contains is shown as code, so copy it as it is, up to its closing fence.
                end = self._closing(lines, index, other)
                stop = len(lines) - 1 if end is None else end
                out.extend(lines[index : stop + 1])
                index = stop + 1
                continue
            end = self._closing(lines, index, match) if match else None
            if match is None or end is None:
                out.append(lines[index])
                index += 1
                continue
            indent = match.group("indent")
            body = lines[index + 1 : end]
            if match.group("name"):  # ```penstock-flow NAME: the name on the opening line
                body = [match.group("name"), *body]
            out.extend(["", indent + self._render(body), ""])
            index = end + 1
        return out

    @staticmethod
    def _closing(lines: list[str], start: int, match: re.Match[str]) -> int | None:
        fence = match.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        for index in range(start + 1, len(lines)):
            if closing.match(lines[index].rstrip("\r")):
                return index
        return None  # an unclosed fence is not ours to touch

    def _render(self, body: list[str]) -> str:
        try:
            markup = self.extension.block_html(body)
        except FlowBlockError as exc:
            self.extension.problem(str(exc))
            text = f"penstock: this diagram is unavailable: {exc}"
            markup = f'<div class="penstock-flow-error"><p>{html.escape(text)}</p></div>'
        placeholder: str = self.md.htmlStash.store(markup)
        return placeholder


def makeExtension(**kwargs: Any) -> PenstockFlowExtension:  # noqa: N802 - Python-Markdown's hook
    """Let Python-Markdown load the extension by name: ``penstock_docs.markdown``."""
    return PenstockFlowExtension(**kwargs)
