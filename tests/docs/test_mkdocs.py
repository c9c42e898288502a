"""The MkDocs plugin and the Python-Markdown extension beneath it, in real builds."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import markdown
import pytest

from penstock_docs.markdown import PenstockFlowExtension
from tests.support.docs import clean_modules, copy_root, mermaid_sources
from tests.support.mermaid import parse_mermaid, require_mermaid

__all__ = ["clean_modules"]

pytestmark = pytest.mark.usefixtures("clean_modules")

CHECKOUT_TD = """\
graph TD
    submit_cart --> reserve_stock
    reserve_stock --> send_receipt
    reserve_stock --> take_payment"""


def mkdocs_build(root: Path, *, strict: bool = False) -> None:
    """Build the site in this process, as ``mkdocs build`` does."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(root / "mkdocs.yml"), strict=strict)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()


def mkdocs_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *args],
        capture_output=True,
        text=True,
        cwd=root,
        env={
            **os.environ,
            "PYTHONPATH": str(root.parent / "_flows"),
            "NO_MKDOCS_2_WARNING": "1",
        },
        check=False,
        timeout=300,
    )


def test_plugin_renders_material_ready_mermaid(tmp_path: Path) -> None:
    root = copy_root("mkdocs-basic", tmp_path)
    mkdocs_build(root, strict=True)
    page = (root / "site" / "index.html").read_text()
    assert '<div class="penstock-flow"><pre class="mermaid"><code>graph TD\n' in page
    assert '<pre class="mermaid"><code>graph TD\n    submit_cart --&gt; reserve_stock' in page
    first, second = mermaid_sources(page)
    assert first == CHECKOUT_TD
    assert second.startswith("graph LR\n")
    assert "<figcaption>Checkout, &lt;left&gt; to &quot;right&quot;</figcaption>" in page
    assert '<span class="nb">print</span>' in page, "other code blocks are untouched"
    (returns,) = mermaid_sources((root / "site" / "other" / "index.html").read_text())
    assert returns == "graph TD\n    request_return --> issue_refund"


def test_default_direction_option(tmp_path: Path) -> None:
    root = copy_root("mkdocs-basic", tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "modules: [shop_flows]", "modules: [shop_flows]\n      direction: BT"
        )
    )
    mkdocs_build(root)
    first, second = mermaid_sources((root / "site" / "index.html").read_text())
    assert first.startswith("graph BT\n")
    assert second.startswith("graph LR\n"), "the block's own direction wins"


def test_bad_direction_option_is_a_config_error(tmp_path: Path) -> None:
    root = copy_root("mkdocs-basic", tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "modules: [shop_flows]", "modules: [shop_flows]\n      direction: UP"
        )
    )
    result = mkdocs_cli(root)
    assert result.returncode != 0
    assert "direction" in result.stderr
    assert "UP" in result.stderr


def test_without_the_plugin_the_block_is_a_code_block(tmp_path: Path) -> None:
    root = copy_root("mkdocs-basic", tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("plugins:\n  - penstock:\n      modules: [shop_flows]\n", "")
    )
    mkdocs_build(root)
    page = (root / "site" / "index.html").read_text()
    assert 'class="mermaid"' not in page
    assert "checkout" in page
    assert "<code>" in page


def test_unknown_flow_fails_a_strict_build_naming_flow_and_page(tmp_path: Path) -> None:
    root = copy_root("mkdocs-problems", tmp_path)
    result = mkdocs_cli(root, "--strict")
    assert result.returncode != 0
    assert "penstock: No flow named 'chekout' is registered" in result.stderr
    assert "did you mean 'checkout'?" in result.stderr
    assert "(in index.md)" in result.stderr
    relaxed = mkdocs_cli(root)
    assert relaxed.returncode == 0, relaxed.stderr
    page = (root / "site" / "index.html").read_text()
    assert "penstock: this diagram is unavailable" in page


def test_failing_import_fails_a_strict_build_naming_the_module(tmp_path: Path) -> None:
    root = copy_root("mkdocs-problems", tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("[shop_flows]", "[shop_flows, broken_flows]"))
    (root / "docs" / "index.md").write_text("# Fine\n\n```penstock-flow\ncheckout\n```\n")
    result = mkdocs_cli(root, "--strict")
    assert result.returncode != 0
    assert (
        "could not import module 'broken_flows': RuntimeError: the database URL is not configured"
        in result.stderr
    )


def test_validation_problems_and_bad_options_are_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = copy_root("mkdocs-problems", tmp_path)
    (root / "docs" / "index.md").write_text(
        textwrap.dedent(
            """\
            # Odd

            ```penstock-flow
            odd
            module: odd_flows
            ```

            ```penstock-flow
            checkout
            colour: blue
            ```

            ```penstock-flow
            checkout
            direction: UP
            ```

            ```penstock-flow
            ```
            """
        )
    )
    caplog.set_level(logging.WARNING)
    mkdocs_build(root)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("mkdocs.plugins")]
    assert any(
        "flow 'odd'" in m and "comes after 'begni'" in m and "(in index.md)" in m for m in messages
    )
    assert any("has a cycle: loop_a -> loop_b -> loop_a" in m for m in messages)
    assert any("unknown option line 'colour: blue'" in m for m in messages)
    assert any("direction must be one of TD, TB, BT, LR, RL, not 'UP'" in m for m in messages)
    assert any("needs the flow's name on its first line" in m for m in messages)
    page = (root / "site" / "index.html").read_text()
    assert len(mermaid_sources(page)) == 1
    assert page.count("penstock: this diagram is unavailable") == 3


def test_two_builds_in_one_process_see_an_edited_module(tmp_path: Path) -> None:
    root = copy_root("mkdocs-basic", tmp_path)
    mkdocs_build(root)
    before = mermaid_sources((root / "site" / "index.html").read_text())[0]
    assert "audit" not in before
    module = tmp_path / "_flows" / "shop_flows.py"
    module.write_text(
        module.read_text()
        + "\n\n@step('checkout', after='take_payment')\ndef audit(cart_id: str) -> None: ...\n"
    )
    mkdocs_build(root)
    after = mermaid_sources((root / "site" / "index.html").read_text())[0]
    assert "take_payment --> audit" in after
    # Renamed within the same second, keeping the file's size: stale bytecode must not win,
    # and the old step must not linger in the registry.
    module.write_text(module.read_text().replace("def audit(", "def audix("))
    mkdocs_build(root)
    final = mermaid_sources((root / "site" / "index.html").read_text())[0]
    assert "take_payment --> audix" in final
    assert "audit" not in final


def test_serve_watches_the_flow_modules(tmp_path: Path) -> None:
    from mkdocs.config import load_config

    root = copy_root("mkdocs-basic", tmp_path)
    mkdocs_build(root)
    config = load_config(str(root / "mkdocs.yml"))
    plugin = config.plugins["penstock"]
    from mkdocs.commands.build import build

    build(config)

    class Server:
        def __init__(self) -> None:
            self.watched: list[str] = []

        def watch(self, path: str) -> None:
            self.watched.append(path)

    server = Server()
    plugin.on_serve(server, config=config, builder=None)  # type: ignore[arg-type]
    assert str((tmp_path / "_flows" / "shop_flows.py").resolve()) in server.watched


# -- the Markdown extension on its own ----------------------------------------------------------


def test_extension_by_instance_name_and_entry_point(tmp_path: Path) -> None:
    copy_root("mkdocs-basic", tmp_path)  # puts the flow modules on sys.path
    text = "```penstock-flow\ncheckout\n```\n"
    by_instance = markdown.markdown(
        text, extensions=[PenstockFlowExtension(modules=["shop_flows"], code=False)]
    )
    assert by_instance.startswith('<div class="penstock-flow"><pre class="mermaid">graph TD')
    by_module = markdown.markdown(
        text,
        extensions=["penstock_docs.markdown"],
        extension_configs={"penstock_docs.markdown": {"modules": "shop_flows"}},
    )
    assert '<pre class="mermaid"><code>graph TD' in by_module
    by_entry_point = markdown.markdown(
        text,
        extensions=["penstock_flow"],
        extension_configs={"penstock_flow": {"modules": ["shop_flows"]}},
    )
    assert by_entry_point == by_module


def test_tilde_fences_indented_blocks_and_unclosed_fences(tmp_path: Path) -> None:
    copy_root("mkdocs-basic", tmp_path)
    extension = PenstockFlowExtension(modules=["shop_flows"])
    text = textwrap.dedent(
        """\
        ~~~~penstock-flow
        returns
        ~~~~

        - a list item

            ```penstock-flow
            returns
            ```

        ```penstock-flow
        checkout
        """
    )
    html = markdown.markdown(text, extensions=[extension])
    assert len(mermaid_sources(html)) == 2
    assert "checkout" in html, "an unclosed fence is left as it was"


def test_every_generated_diagram_parses_in_mermaid(tmp_path: Path) -> None:
    require_mermaid()
    root = copy_root("mkdocs-basic", tmp_path)
    mkdocs_build(root)
    sources = mermaid_sources((root / "site" / "index.html").read_text())
    sources += mermaid_sources((root / "site" / "other" / "index.html").read_text())
    assert len(sources) == 3
    results = parse_mermaid(sources)
    assert [r.error for r in results] == [None, None, None]
    assert [(r.nodes, r.edges) for r in results] == [(4, 3), (4, 3), (2, 1)]


def test_extension_from_an_mkdocs_hook(tmp_path: Path) -> None:
    root = copy_root("mkdocs-hook", tmp_path)
    result = mkdocs_cli(root, "--strict")
    assert result.returncode == 0, result.stderr
    (source,) = mermaid_sources((root / "site" / "index.html").read_text())
    assert source == "graph LR\n    request_return --> issue_refund"


def test_code_option_for_themes_that_load_mermaid_themselves(tmp_path: Path) -> None:
    root = copy_root("mkdocs-basic", tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "modules: [shop_flows]", "modules: [shop_flows]\n      code: false"
        )
    )
    mkdocs_build(root)
    page = (root / "site" / "index.html").read_text()
    assert '<pre class="mermaid">graph TD\n' in page
    assert '<pre class="mermaid"><code>' not in page


def test_extension_listed_directly_still_fails_strict_builds(tmp_path: Path) -> None:
    root = copy_root("mkdocs-problems", tmp_path)
    (root / "mkdocs.yml").write_text(
        "site_name: direct\nmarkdown_extensions:\n  - penstock_docs.markdown:\n"
        "      modules: [shop_flows]\nnav:\n  - index.md\n"
    )
    result = mkdocs_cli(root, "--strict")
    assert result.returncode != 0
    assert "penstock: No flow named 'chekout'" in result.stderr


def test_flow_name_on_the_opening_fence(tmp_path: Path) -> None:
    copy_root("mkdocs-basic", tmp_path)
    text = "```penstock-flow returns\ndirection: LR\n```\n"
    html = markdown.markdown(text, extensions=[PenstockFlowExtension(modules=["shop_flows"])])
    (source,) = mermaid_sources(html)
    assert source == "graph LR\n    request_return --> issue_refund"


def test_blocks_shown_as_examples_inside_other_fences_stay_code(tmp_path: Path) -> None:
    copy_root("mkdocs-basic", tmp_path)
    text = "````markdown\n```penstock-flow\nreturns\n```\n````\n\n```penstock-flow\nreturns\n```\n"
    html = markdown.markdown(
        text,
        extensions=["pymdownx.superfences", PenstockFlowExtension(modules=["shop_flows"])],
    )
    assert len(mermaid_sources(html)) == 1
    assert "```penstock-flow" in html, "the example is shown as it was written"


def test_observation_drawn_over_the_diagram(tmp_path: Path) -> None:
    import penstock

    root = copy_root("mkdocs-basic", tmp_path)
    import shop_flows

    with penstock.observe() as seen:
        shop_flows.Checkout().submit_cart("C-1")
    seen.save(root / "observed.json")
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "modules: [shop_flows]", "modules: [shop_flows]\n      observed: observed.json"
        )
    )
    mkdocs_build(root, strict=True)
    first = mermaid_sources((root / "site" / "index.html").read_text())[0]
    assert 'submit_cart -->|"1x"| reserve_stock' in first
    assert "1 run, p50" in first
