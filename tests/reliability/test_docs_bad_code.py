"""Documentation builds over bad flow code: located reports, no crash, and big flows still drawn."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.site.test_browser import LOCAL_MERMAID, OPEN_SHADOW_ROOTS, browser
from tests.support.docs import clean_modules, copy_root, mermaid_sources, sphinx_build
from tests.support.mermaid import parse_mermaid, require_mermaid

__all__ = ["browser", "clean_modules"]

STEPS = 601  # 600 edges: past Mermaid's default limit of 500


def _huge_flows(folder: Path) -> None:
    lines = [
        "from penstock import entrypoint, step",
        "",
        "@entrypoint('huge', name='s0')",
        "def s0(): ...",
    ]
    for index in range(1, STEPS):
        lines += [
            "",
            f"@step('huge', after='s{index - 1}', name='s{index}')",
            f"def s{index}(): ...",
        ]
    (folder / "huge_flows.py").write_text("\n".join(lines) + "\n")


@contextmanager
def _serve(folder: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _drawn_edges(browser: Any, base: str, path: str) -> int:
    """Open ``base/path`` offline and count the edges of its largest drawn diagram."""
    page = browser.new_page()
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(base) else route.abort(),
    )
    page.add_init_script(OPEN_SHADOW_ROOTS)
    page.goto(f"{base}/{path}")
    svgs = """() => [
        ...[...document.querySelectorAll("div.mermaid")]
            .map((host) => host.shadowRoot?.querySelector("svg")),
        ...document.querySelectorAll(".mermaid > svg, pre.mermaid svg"),
    ].filter(Boolean)"""
    page.wait_for_function(
        f"() => ({svgs})().some((svg) => svg.querySelectorAll('g.node').length > 500)",
        timeout=60_000,
    )
    count = page.evaluate(
        f"""() => {{
            const counts = ({svgs})().map((svg) => /Syntax error|Edge limit/.test(svg.textContent)
                ? -1 : svg.querySelectorAll("g.edgePaths path, path.flowchart-link").length);
            return Math.max(...counts);
        }}"""
    )
    page.close()
    return int(count)


def test_sphinx_reports_every_kind_of_bad_code_and_draws_a_600_edge_flow(
    tmp_path: Path, browser: Any, figures: list[str]
) -> None:
    require_mermaid()
    root = copy_root("sphinx-problems", tmp_path)
    _huge_flows(tmp_path / "_flows")
    shutil.copyfile(LOCAL_MERMAID, root / "mermaid.min.js")
    (root / "index.rst").write_text(
        (root / "index.rst").read_text()
        + "\nA big one:\n\n.. penstock-flow:: huge\n   :module: huge_flows\n"
    )
    result = sphinx_build(root, confoverrides={"penstock_mermaid_js": "mermaid.min.js"})
    warnings = result.warnings
    for expected in (
        "could not import module 'broken_flows': RuntimeError",
        "index.rst:6: WARNING: penstock: No flow named 'chekout'",
        "index.rst:10: WARNING: penstock: could not import module 'no_such_module_here'",
        "index.rst:15: WARNING: penstock: flow 'odd'",
        "has a cycle: loop_a -> loop_b -> loop_a",
        "comes after 'begni'",
    ):
        assert expected in warnings, expected
    sources = mermaid_sources(result.page("index.html"))
    (huge,) = [s for s in sources if "s599 --> s600" in s]
    (parsed,) = parse_mermaid([huge])
    assert (parsed.error, parsed.nodes, parsed.edges) == (None, STEPS, STEPS - 1)
    with _serve(result.outdir) as url:
        edges = _drawn_edges(browser, url, "index.html")
    assert edges == STEPS - 1
    figures.append(
        f"Sphinx over bad code: every problem a located warning, no crash; a {STEPS - 1}-edge "
        "flow drawn in Chromium"
    )


def test_mkdocs_draws_a_600_edge_flow_in_material(
    tmp_path: Path, browser: Any, figures: list[str]
) -> None:
    require_mermaid()
    root = copy_root("mkdocs-basic", tmp_path)
    _huge_flows(tmp_path / "_flows")
    (root / "docs" / "huge.md").write_text(
        "# Huge\n\n```penstock-flow\nhuge\nmodule: huge_flows\n```\n"
    )
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("  - other.md\n", "  - other.md\n  - huge.md\n"))
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=root,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(tmp_path / "_flows"),
            "NO_MKDOCS_2_WARNING": "1",
        },
        check=False,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    site = root / "site"
    (site / "javascripts").mkdir(exist_ok=True)
    shutil.copyfile(LOCAL_MERMAID, site / "javascripts" / "mermaid.min.js")
    page = site / "huge" / "index.html"
    html = page.read_text()
    # Material loads Mermaid from a CDN unless a global exists: serve the local copy first.
    page.write_text(
        html.replace("</head>", '<script src="../javascripts/mermaid.min.js"></script></head>', 1)
    )
    with _serve(site) as url:
        edges = _drawn_edges(browser, url, "huge/index.html")
    assert edges == STEPS - 1
    figures.append(
        f"MkDocs (Material): a {STEPS - 1}-edge flow drawn in Chromium, past Mermaid's "
        "default limit of 500"
    )
