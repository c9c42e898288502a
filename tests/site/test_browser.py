"""The documentation site, built for real and looked at in a real browser (headless Chromium).

The site is penstock's own, built from ``mkdocs.yml`` with penstock's MkDocs plugin, so its
diagrams come live from ``examples/``. Chromium loads the pages from a local server, with
mermaid.js served from the local copy that npm installed (Mermaid 11) and every request to
another host refused: what a reader sees offline is what is checked.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from penstock import get_flow
from penstock._registry import forget_module
from tests.support.mermaid import MERMAID_DIR

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LOCAL_MERMAID = MERMAID_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"

#: The pages with live diagrams, and the flows they draw, in page order.
PAGES = {
    "index.html": ["order_processing"],
    "quickstart.html": ["order_processing"],
    "guide.html": ["user_update", "async_pipeline", "context_demo"],
    "architecture.html": ["bom_sync"],
}
EXAMPLES = ["order_processing", "user_update", "context_metadata", "async_pipeline", "bom_sync"]

# Material draws each diagram into a closed shadow root; for the test, open ones let us read
# the SVG. Nothing else about the page changes.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attach.call(this, Object.assign({}, init, { mode: "open" }));
};
"""

READ_DIAGRAMS = """
() => [...document.querySelectorAll("div.mermaid")].map((host) => {
  const root = host.shadowRoot;
  const svg = root && root.querySelector("svg");
  return {
    svg: Boolean(svg),
    labels: svg ? [...svg.querySelectorAll("g.node")].map((n) => n.textContent.trim()) : [],
    edges: svg ? svg.querySelectorAll("g.edgePaths path, path.flowchart-link").length : 0,
    error: Boolean(root && (root.querySelector(".error-icon") ||
                            /Syntax error/.test(root.textContent))),
  };
})
"""


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the real site with --strict, serve it on localhost, yield its base URL."""
    _require(
        LOCAL_MERMAID.is_file(), "the local Mermaid copy is missing: npm ci --prefix tests/mermaid"
    )
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    (out / "javascripts").mkdir(exist_ok=True)
    shutil.copyfile(LOCAL_MERMAID, out / "javascripts" / "mermaid.min.js")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(out))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright; Playwright downloads no browser of its own."""
    _require(CHROMIUM is not None, "Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def example_flows() -> dict[str, tuple[list[str], int]]:
    """Each example flow's step names and edge count, read from the examples themselves.

    The examples are imported for this and forgotten again, so their flows do not stay
    registered for the tests that run later in this process.
    """
    sys.path.insert(0, str(ROOT))
    try:
        for name in EXAMPLES:
            importlib.import_module(f"examples.{name}")
        flows = {
            flow_name: (sorted(get_flow(flow_name).steps), len(get_flow(flow_name).edges))
            for names in PAGES.values()
            for flow_name in names
        }
    finally:
        for name in EXAMPLES:
            forget_module(f"examples.{name}")
            sys.modules.pop(f"examples.{name}", None)
        sys.path.remove(str(ROOT))
    return flows


@pytest.mark.parametrize(("page_name", "flows"), list(PAGES.items()))
def test_every_diagram_renders_with_the_flows_steps(
    site: str,
    browser: Any,
    example_flows: dict[str, tuple[list[str], int]],
    page_name: str,
    flows: list[str],
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    problems: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(site):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.add_init_script(OPEN_SHADOW_ROOTS)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.goto(f"{site}/{page_name}")
    page.wait_for_function(
        f"""() => {{
            const hosts = [...document.querySelectorAll("div.mermaid")];
            return hosts.length === {len(flows)} &&
                hosts.every((h) => h.shadowRoot && h.shadowRoot.querySelector("svg"));
        }}""",
        timeout=30_000,
    )
    diagrams = page.evaluate(READ_DIAGRAMS)
    assert [d["error"] for d in diagrams] == [False] * len(flows)
    for flow_name, diagram in zip(flows, diagrams, strict=True):
        assert diagram["svg"]
        steps, edges = example_flows[flow_name]
        assert sorted(diagram["labels"]) == steps, flow_name
        assert diagram["edges"] == edges, flow_name
    assert not [p for p in problems if "mermaid" in p.lower() or "syntax" in p.lower()], problems
    assert outside == [], "the page asked for nothing outside the local site"
    if page_name == "guide.html":
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("div.mermaid").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "guide-user-update.png"))
    page.close()


def test_pages_without_diagrams_load_no_mermaid_work(site: str, browser: Any) -> None:
    page = browser.new_page()
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(site) else route.abort(),
    )
    page.goto(f"{site}/api.html")
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.querySelectorAll('div.mermaid, pre.mermaid').length") == 0
    page.close()
