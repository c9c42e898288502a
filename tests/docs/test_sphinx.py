"""The Sphinx extension, in real builds of the projects under tests/roots."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.docs import clean_modules, copy_root, mermaid_sources, sphinx_build
from tests.support.mermaid import parse_mermaid, require_mermaid

__all__ = ["clean_modules"]

pytestmark = pytest.mark.usefixtures("clean_modules")

CHECKOUT_TD = """\
graph TD
    submit_cart --> reserve_stock
    reserve_stock --> send_receipt
    reserve_stock --> take_payment"""


def test_html_diagrams_link_steps_to_their_api_docs(tmp_path: Path) -> None:
    root = copy_root("sphinx-basic", tmp_path)
    result = sphinx_build(root)
    assert "penstock" not in result.warnings
    first, second = mermaid_sources(result.page("index.html"))
    assert first.startswith(CHECKOUT_TD + "\n")
    clicks = [line.strip() for line in first.splitlines() if line.strip().startswith("click")]
    assert clicks == [
        (
            'click submit_cart href "api.html#shop_flows.Checkout.submit_cart" '
            '"Accept a cart from the web shop."'
        ),
        (
            'click reserve_stock href "api.html#shop_flows.Checkout.reserve_stock" '
            '"Hold the items so nobody else can buy them."'
        ),
        (
            'click take_payment href "api.html#shop_flows.Checkout.take_payment" '
            '"Charge the customer\'s card."'
        ),
    ], "send_receipt has no API docs, so it has no link"
    assert second.startswith("graph LR\n")


def test_html_is_escaped_once_and_caption_is_a_figure(tmp_path: Path) -> None:
    result = sphinx_build(copy_root("sphinx-basic", tmp_path))
    page = result.page("index.html")
    assert '<pre class="mermaid">graph TD\n    submit_cart --&gt; reserve_stock' in page
    assert "<figcaption>" in page
    assert "Checkout, &lt;left&gt; to “right”" in page


def test_mermaid_js_loads_once_and_only_where_there_is_a_diagram(tmp_path: Path) -> None:
    result = sphinx_build(copy_root("sphinx-basic", tmp_path))
    cdn = "https://cdn.jsdelivr.net/npm/mermaid@11.17.2/dist/mermaid.min.js"
    index, returns, api = (result.page(p) for p in ("index.html", "returns.html", "api.html"))
    assert index.count(cdn) == 1
    assert returns.count(cdn) == 1
    assert cdn not in api
    assert "mermaid.initialize(" in index
    assert '"maxEdges": 100000' in index


def test_module_option_imports_before_drawing(tmp_path: Path) -> None:
    root = copy_root("sphinx-basic", tmp_path)
    result = sphinx_build(root, confoverrides={"penstock_modules": []})
    (returns,) = mermaid_sources(result.page("returns.html"))
    assert returns.startswith("graph TD\n    request_return --> issue_refund")
    assert 'click request_return href "api.html#shop_flows.request_return"' in returns


def test_default_direction_config(tmp_path: Path) -> None:
    result = sphinx_build(
        copy_root("sphinx-basic", tmp_path), confoverrides={"penstock_direction": "RL"}
    )
    first, second = mermaid_sources(result.page("index.html"))
    assert first.startswith("graph RL\n")
    assert second.startswith("graph LR\n"), ":direction: wins over the default"


def test_myst_markdown(tmp_path: Path) -> None:
    result = sphinx_build(copy_root("sphinx-myst", tmp_path))
    assert "WARNING" not in result.warnings
    checkout, returns = mermaid_sources(result.page("index.html"))
    assert checkout == CHECKOUT_TD
    assert returns.startswith("graph RL\n    request_return --> issue_refund")
    assert "Returns, right to left" in result.page("index.html")


def test_local_mermaid_js_for_offline_builds(tmp_path: Path) -> None:
    root = copy_root("sphinx-basic", tmp_path)
    (root / "vendor").mkdir()
    (root / "vendor" / "mermaid.min.js").write_text("/* a local mermaid build */\n")
    result = sphinx_build(root, confoverrides={"penstock_mermaid_js": "vendor/mermaid.min.js"})
    index = result.page("index.html")
    assert '<script src="_static/penstock/mermaid.min.js' in index
    assert "cdn.jsdelivr.net" not in index
    copied = result.outdir / "_static" / "penstock" / "mermaid.min.js"
    assert copied.read_text() == "/* a local mermaid build */\n"


def test_missing_local_mermaid_js_is_a_warning(tmp_path: Path) -> None:
    result = sphinx_build(
        copy_root("sphinx-basic", tmp_path), confoverrides={"penstock_mermaid_js": "nope.js"}
    )
    assert "penstock_mermaid_js file" in result.warnings
    assert "nope.js does not exist" in result.warnings


def test_no_mermaid_js_hands_diagrams_to_sphinxcontrib_mermaid(tmp_path: Path) -> None:
    root = copy_root("sphinx-basic", tmp_path)
    conf = root / "conf.py"
    conf.write_text(conf.read_text() + 'extensions.append("sphinxcontrib.mermaid")\n')
    result = sphinx_build(root, confoverrides={"penstock_mermaid_js": None})
    index = result.page("index.html")
    assert "mermaid.min.js" not in index, "penstock loads nothing itself"
    assert "mermaid.esm.min.mjs" in index, "sphinxcontrib-mermaid loads it for these pages"
    sources = mermaid_sources(index)
    assert len(sources) == 2
    assert sources[0].strip().startswith(CHECKOUT_TD)


def test_text_and_man_builders_list_the_edges(tmp_path: Path) -> None:
    root = copy_root("sphinx-basic", tmp_path)
    text = sphinx_build(root, "text")
    index = (text.outdir / "index.txt").read_text()
    assert "Flow checkout:" in index
    assert "entrypoints: submit_cart" in index
    assert "reserve_stock -> take_payment" in index
    man = sphinx_build(root, "man")
    page = next(man.outdir.rglob("*.1")).read_text()
    assert "reserve_stock \\-> send_receipt" in page or "reserve_stock -> send_receipt" in page


def test_latex_uses_graphviz_when_dot_is_installed(tmp_path: Path) -> None:
    import shutil

    if shutil.which("dot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz `dot` is missing; .ci/run installs the graphviz package")
        pytest.skip("Graphviz `dot` is not installed")
    result = sphinx_build(copy_root("sphinx-basic", tmp_path), "latex")
    tex = next(result.outdir.glob("*.tex")).read_text()
    assert "\\sphinxincludegraphics[]{graphviz-" in tex
    assert list(result.outdir.glob("graphviz-*.pdf"))


def test_latex_without_dot_gets_a_readable_listing(tmp_path: Path) -> None:
    result = sphinx_build(
        copy_root("sphinx-basic", tmp_path),
        "latex",
        confoverrides={"graphviz_dot": "/nonexistent/dot"},
    )
    tex = next(result.outdir.glob("*.tex")).read_text()
    assert "Flow checkout:" in tex
    assert "sphinxincludegraphics" not in tex


# -- problems -----------------------------------------------------------------------------------


def test_every_problem_is_a_located_warning_and_the_build_goes_on(tmp_path: Path) -> None:
    result = sphinx_build(copy_root("sphinx-problems", tmp_path))
    warnings = result.warnings
    assert re.search(
        r"WARNING: penstock: could not import module 'broken_flows': "
        r"RuntimeError: the database URL is not configured \[penstock\.import\]",
        warnings,
    )
    index = re.escape(str(tmp_path / "sphinx-problems" / "index.rst"))
    assert re.search(
        rf"{index}:6: WARNING: penstock: No flow named 'chekout' is registered "
        r"\(did you mean 'checkout'\? known flows: .*\); import the module that defines it "
        r"before asking for it\. \[penstock\.unknown-flow\]",
        warnings,
    )
    assert re.search(
        rf"{index}:10: WARNING: penstock: could not import module 'no_such_module_here': "
        r"ModuleNotFoundError",
        warnings,
    )
    assert re.search(
        rf"{index}:15: WARNING: penstock: flow 'odd': .*odd_flows.py:\d+: step 'misspelt' .* "
        r"comes after 'begni'.*Did you mean 'begin'\? \[penstock\.validation\]",
        warnings,
    )
    assert "flow 'odd': " in warnings
    assert "has a cycle: loop_a -> loop_b -> loop_a" in warnings
    page = result.page("index.html")
    # Sphinx turns the quotes of prose into typographic ones.
    assert "penstock: the diagram of flow \u2018chekout\u2019 is unavailable: No flow" in page
    assert len(mermaid_sources(page)) == 2, "the other diagrams still render"


def test_warnings_fail_a_strict_build_and_can_be_suppressed(tmp_path: Path) -> None:
    root = copy_root("sphinx-problems", tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "_flows")}
    strict = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-b", "html", str(root), str(root / "_out")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert strict.returncode != 0
    assert "penstock" in strict.stderr
    (root / "conf.py").write_text(
        (root / "conf.py").read_text() + 'suppress_warnings = ["penstock"]\n'
    )
    quiet = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-b", "html", str(root), str(root / "_out2")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert quiet.returncode == 0, quiet.stderr


def test_subtypes_can_be_suppressed_one_by_one(tmp_path: Path) -> None:
    result = sphinx_build(
        copy_root("sphinx-problems", tmp_path),
        confoverrides={"suppress_warnings": ["penstock.import", "penstock.validation"]},
    )
    assert "penstock.import" not in result.warnings
    assert "penstock.validation" not in result.warnings
    assert "[penstock.unknown-flow]" in result.warnings


# -- builds over time ---------------------------------------------------------------------------


def test_parallel_build(tmp_path: Path) -> None:
    root = copy_root("sphinx-basic", tmp_path)
    for index in range(8):  # enough documents for Sphinx to really split the reading
        (root / f"extra{index}.rst").write_text(
            f"Extra {index}\n========\n\n.. penstock-flow:: checkout\n   :direction: LR\n"
        )
    index_rst = root / "index.rst"
    index_rst.write_text(
        index_rst.read_text().replace(
            "   returns\n", "   returns\n" + "".join(f"   extra{i}\n" for i in range(8))
        )
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-j",
            "2",
            "-W",
            "-b",
            "html",
            str(root),
            str(root / "_j2"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "_flows")},
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    for index in range(8):
        (source,) = mermaid_sources((root / "_j2" / f"extra{index}.html").read_text())
        assert source.startswith("graph LR\n    submit_cart --> reserve_stock")


def test_editing_a_flow_module_rebuilds_the_page(tmp_path: Path) -> None:
    root = copy_root("sphinx-basic", tmp_path)
    (root / "plain.rst").write_text("Plain\n=====\n\nNo diagram here.\n")
    index_rst = root / "index.rst"
    index_rst.write_text(index_rst.read_text().replace("   returns\n", "   returns\n   plain\n"))
    first = sphinx_build(root)
    assert "audit" not in first.page("index.html")
    module = tmp_path / "_flows" / "shop_flows.py"
    time.sleep(1.1)  # a visibly newer modification time
    module.write_text(
        module.read_text()
        + "\n\n@step('checkout', after='take_payment')\ndef audit(cart_id: str) -> None:\n"
        + '    """Write the audit trail."""\n'
    )
    second = sphinx_build(root, fresh=False)
    reread = re.findall(r"reading sources\.\.\. \[\s*\d+%\] (\S+)", second.status)
    # The diagram pages depend on the module (autodoc may add the API page); a page without a
    # diagram is left alone.
    assert {"index", "returns"} <= set(reread)
    assert "plain" not in reread
    source = mermaid_sources(second.page("index.html"))[0]
    assert "take_payment --> audit" in source


def test_every_generated_diagram_parses_in_mermaid(tmp_path: Path) -> None:
    require_mermaid()
    sources: list[str] = []
    basic = sphinx_build(copy_root("sphinx-basic", tmp_path))
    for page in ("index.html", "returns.html"):
        sources += mermaid_sources(basic.page(page))
    myst = sphinx_build(copy_root("sphinx-myst", tmp_path / "myst"))
    sources += mermaid_sources(myst.page("index.html"))
    problems = sphinx_build(copy_root("sphinx-problems", tmp_path / "problems"))
    sources += mermaid_sources(problems.page("index.html"))
    assert len(sources) == 7
    results = parse_mermaid(sources)
    for source, result in zip(sources, results, strict=True):
        assert result.error is None, source
        assert result.nodes >= 2, source


def test_a_bad_default_direction_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    result = sphinx_build(
        copy_root("sphinx-basic", tmp_path), confoverrides={"penstock_direction": "UP"}
    )
    assert "penstock_direction must be one of TD, TB, BT, LR, RL, not 'UP'; using TD." in (
        result.warnings
    )
    assert mermaid_sources(result.page("index.html"))[0].startswith("graph TD\n")


def test_same_page_links_are_bare_fragments_under_dirhtml(tmp_path: Path) -> None:
    root = copy_root("sphinx-basic", tmp_path)
    returns = root / "returns.rst"
    returns.write_text(returns.read_text() + "\n.. autofunction:: shop_flows.issue_refund\n")
    conf = root / "conf.py"
    conf.write_text(
        conf.read_text().replace(
            '"penstock_docs.sphinx"]', '"sphinx.ext.autodoc", "penstock_docs.sphinx"]'
        )
    )
    result = sphinx_build(root, "dirhtml")
    (source,) = mermaid_sources((result.outdir / "returns" / "index.html").read_text())
    assert 'click issue_refund href "#shop_flows.issue_refund"' in source
    assert 'click request_return href "../api/#shop_flows.request_return"' in source


def test_observed_option_draws_the_observation(tmp_path: Path) -> None:
    import penstock

    root = copy_root("sphinx-basic", tmp_path)
    import shop_flows

    with penstock.observe() as seen:
        shop_flows.request_return("R-1")
    seen.save(root / "run.json")
    returns = root / "returns.rst"
    returns.write_text(returns.read_text() + "   :observed: run.json\n")
    result = sphinx_build(root)
    (source,) = mermaid_sources(result.page("returns.html"))
    assert "request_return<br>1 run, p50" in source
    assert "issue_refund<br>never ran" in source
    bad = sphinx_build(root, confoverrides={"penstock_observed": "missing.json"})
    assert "could not read the observation" in bad.warnings
    assert "[penstock.observed]" in bad.warnings
