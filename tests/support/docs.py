"""Building the small documentation projects under ``tests/roots`` for real, in a temp folder."""

from __future__ import annotations

import html
import io
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOTS = Path(__file__).resolve().parent.parent / "roots"
# The flow modules the roots define; dropped from sys.modules after each test that built a root.
ROOT_MODULES = ("shop_flows", "broken_flows", "odd_flows", "huge_flows")

_MERMAID = re.compile(r'<pre\s+class="mermaid">(?:<code>)?(.*?)(?:</code>)?</pre>', re.DOTALL)


FLOWS = "_flows"


def copy_root(name: str, tmp_path: Path) -> Path:
    """Copy ``tests/roots/<name>``, and the flow modules beside it, into ``tmp_path``.

    The flow modules end up in ``tmp_path / "_flows"``, which is put first on ``sys.path`` (the
    Sphinx roots' ``conf.py`` does the same), so a test can edit them without touching the repo.
    """
    target = tmp_path / name
    shutil.copytree(ROOTS / name, target)
    flows = tmp_path / FLOWS
    if not flows.exists():
        shutil.copytree(ROOTS / FLOWS, flows)
    sys.path.insert(0, str(flows))
    return target


def mermaid_sources(page: str) -> list[str]:
    """Return the Mermaid source of every diagram in an HTML page, unescaped once."""
    return [html.unescape(match) for match in _MERMAID.findall(page)]


@dataclass
class SphinxResult:
    """The outcome of an in-process Sphinx build."""

    outdir: Path
    status: str
    warnings: str

    def page(self, name: str) -> str:
        return (self.outdir / name).read_text(encoding="utf-8")


def sphinx_build(
    srcdir: Path,
    builder: str = "html",
    *,
    confoverrides: dict[str, object] | None = None,
    fresh: bool = True,
) -> SphinxResult:
    """Build ``srcdir`` with Sphinx in this process; warnings are collected, not raised."""
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    nocolor()  # plain text, so tests can match warnings
    outdir = srcdir / "_build" / builder
    status, warnings = io.StringIO(), io.StringIO()
    # As sphinx-build does: docutils' registries are global, and each build gets its own.
    with patch_docutils(srcdir), docutils_namespace():
        app = Sphinx(
            str(srcdir),
            str(srcdir),
            str(outdir),
            str(srcdir / "_build" / "doctrees"),
            builder,
            confoverrides=confoverrides or {},
            status=status,
            warning=warnings,
            freshenv=fresh,
        )
        app.build()
    return SphinxResult(outdir=outdir, status=status.getvalue(), warnings=warnings.getvalue())


@pytest.fixture
def clean_modules() -> Iterator[None]:
    """Leave sys.path and sys.modules as they were, whatever the built roots imported."""
    saved_path = list(sys.path)
    yield
    sys.path[:] = saved_path
    for name in ROOT_MODULES:
        sys.modules.pop(name, None)
