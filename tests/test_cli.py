"""The ``penstock`` command, run for real in a subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPT = Path(sys.executable).parent / "penstock"

ORDER_PROCESSING = (
    "graph TD\n    receive_order --> validate\n    validate --> charge\n    validate --> ship\n"
)


def penstock(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m penstock`` the way a user would."""
    return subprocess.run(
        [sys.executable, "-m", "penstock", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with flow modules of its own, run from as the current folder."""
    (tmp_path / "good_flows.py").write_text(
        textwrap.dedent(
            '''
            from penstock import entrypoint, flow, step

            @flow("billing")
            class Billing:
                @entrypoint
                def invoice(self) -> None:
                    """Start billing | with a pipe."""

                @step(after="invoice")
                def send(self) -> None:
                    """Send it."""
            '''
        )
    )
    (tmp_path / "bad_flows.py").write_text(
        textwrap.dedent(
            """
            from penstock import entrypoint, step

            @entrypoint("shipping")
            def receive() -> None: ...

            @step("shipping", after="recieve")
            def pack() -> None: ...
            """
        )
    )
    (tmp_path / "broken.py").write_text("import json\nraise ValueError('settings missing')\n")
    return tmp_path


def test_console_script_and_module_are_the_same_command() -> None:
    assert SCRIPT.exists(), "the penstock console script is installed with the package"
    via_script = subprocess.run(
        [str(SCRIPT), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    via_module = penstock("--version")
    assert via_script.stdout == via_module.stdout
    assert re.fullmatch(r"penstock \d+\.\d+\.\S+\n", via_module.stdout)


def test_list_prints_flows_entrypoints_and_step_counts() -> None:
    result = penstock("list", "examples/order_processing.py", "examples.user_update")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "FLOW              STEPS  ENTRYPOINTS",
        "order_processing      4  receive_order",
        "user_update           6  api_request, admin_action",
    ]


def test_list_json(project: Path) -> None:
    result = penstock("list", "good_flows", "--json", cwd=project)
    assert json.loads(result.stdout) == [
        {"flow": "billing", "steps": 2, "entrypoints": ["invoice"]}
    ]


def test_dag_formats_directions_and_files(tmp_path: Path) -> None:
    mermaid = penstock("dag", "examples/order_processing.py", "--flow", "order_processing")
    assert mermaid.stdout == ORDER_PROCESSING
    only_flow = penstock("dag", "examples/order_processing.py")
    assert only_flow.stdout == ORDER_PROCESSING, "--flow is optional when there is one flow"
    left_right = penstock("dag", "examples/order_processing.py", "--direction", "LR")
    assert left_right.stdout.startswith("graph LR\n")
    dot = penstock("dag", "examples/order_processing.py", "--format", "dot")
    assert dot.stdout.startswith('digraph "order_processing" {')
    as_json = penstock("dag", "examples/order_processing.py", "--format", "json")
    assert json.loads(as_json.stdout)["flow"] == "order_processing"
    target = tmp_path / "out" / "order.md"
    written = penstock("dag", "examples/order_processing.py", "-o", str(target))
    assert written.stdout == ""
    assert f"wrote {target}" in written.stderr
    assert target.read_text() == f"```mermaid\n{ORDER_PROCESSING}```\n"


def test_dag_unknown_or_missing_flow_lists_the_known_ones() -> None:
    unknown = penstock(
        "dag", "examples.order_processing", "examples.user_update", "--flow", "users"
    )
    assert unknown.returncode == 2
    assert "No flow named 'users' is registered" in unknown.stderr
    assert "known flows: 'order_processing', 'user_update'" in unknown.stderr
    ambiguous = penstock("dag", "examples.order_processing", "examples.user_update")
    assert ambiguous.returncode == 2
    assert (
        "choose a flow with --flow NAME (known flows: order_processing, user_update)"
        in ambiguous.stderr
    )
    bad_format = penstock("dag", "examples.order_processing", "--format", "svg")
    assert bad_format.returncode == 2
    assert "invalid choice: 'svg'" in bad_format.stderr


def test_check_passes_clean_flows() -> None:
    modules = [f"examples/{name}.py" for name in ("order_processing", "user_update", "bom_sync")]
    result = penstock("check", *modules)
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == "penstock check: no problems (3 flows, 17 steps)\n"


def test_check_prints_file_line_problems_and_fails(project: Path) -> None:
    (project / "orphans.py").write_text(
        "from penstock import step\n\nclass NoFlow:\n    @step\n    def lost(self): ...\n"
    )
    result = penstock("check", "good_flows.py", "bad_flows.py", "orphans.py", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        (
            "bad_flows.py:7: step 'pack' of flow 'shipping' comes after 'recieve', which is not a "
            "step of that flow. Did you mean 'receive'?"
        ),
        (
            "orphans.py:4: step 'lost' (NoFlow.lost) is not part of any flow; "
            'put @flow("name") on its class or above it, or name the flow in its decorator.'
        ),
    ]
    assert result.stderr == "penstock check: 2 problems (2 flows, 4 steps)\n"


def test_check_reports_conflicting_definitions(project: Path) -> None:
    (project / "twice.py").write_text(
        "from penstock import entrypoint\n\n"
        "@entrypoint('dup')\ndef start(): ...\n\n"
        "@entrypoint('dup', name='start')\ndef begin(): ...\n"
    )
    result = penstock("check", "twice.py", "good_flows", cwd=project)
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("twice.py:6: Step 'start' is defined twice in flow 'dup': ")
    assert "1 problem (2 flows" in result.stderr


def test_import_failure_is_one_clear_message(project: Path) -> None:
    result = penstock("list", "good_flows", "broken", cwd=project)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "penstock: could not import 'broken': ValueError: settings missing "
        "(run with --verbose for the traceback)\n"
    )
    verbose = penstock("check", "broken.py", "--verbose", cwd=project)
    assert verbose.returncode == 2
    assert "Traceback (most recent call last):" in verbose.stderr
    assert 'broken.py", line 2, in <module>' in verbose.stderr


def test_missing_module_or_file(project: Path) -> None:
    missing = penstock("list", "no_such_module", cwd=project)
    assert missing.returncode == 2
    assert "could not import 'no_such_module': ModuleNotFoundError" in missing.stderr
    no_file = penstock("list", "nowhere/flows.py", cwd=project)
    assert no_file.returncode == 2
    assert no_file.stderr == "penstock: no such file: nowhere/flows.py\n"


def test_file_outside_the_current_folder(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = penstock("list", str(project / "good_flows.py"), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "billing" in result.stdout


def test_export_writes_pages_and_is_stable(project: Path) -> None:
    out = project / "docs" / "flows"
    first = penstock("export", "good_flows", "bad_flows", "--out", "docs/flows", cwd=project)
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == ["billing.md", "index.md", "shipping.md"]
    billing = (out / "billing.md").read_text()
    assert billing.startswith("<!-- Generated by `penstock export`")
    assert "```mermaid\ngraph TD\n    invoice --> send\n```" in billing
    assert "| `invoice` | yes |   | `good_flows.py:6` | Start billing \\| with a pipe. |" in billing
    assert "| `send` | no | `invoice` | `good_flows.py:10` | Send it. |" in billing
    index = (out / "index.md").read_text()
    assert "| [`billing`](billing.md) | 2 | `invoice` |" in index
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    second = penstock("export", "good_flows", "bad_flows", "--out", "docs/flows", cwd=project)
    assert "0 files written" in second.stderr
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert after == before, "running it again on unchanged code changes no byte"


def test_export_removes_its_own_stale_pages_only(project: Path) -> None:
    out = project / "flows"
    penstock("export", "good_flows", "bad_flows", "--out", "flows", cwd=project)
    (out / "notes.md").write_text("# Hand-written notes\n")
    result = penstock("export", "good_flows", "--out", "flows", cwd=project)
    assert "1 removed" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["billing.md", "index.md", "notes.md"]


def test_export_gives_unsafe_names_safe_unique_files(project: Path) -> None:
    (project / "odd_names.py").write_text(
        "from penstock import entrypoint\n\n"
        "@entrypoint('a/b')\ndef one(): ...\n\n"
        "@entrypoint('a?b')\ndef two(): ...\n\n"
        "@entrypoint('index')\ndef three(): ...\n"
    )
    penstock("export", "odd_names", "--out", "out", cwd=project)
    names = sorted(p.name for p in (project / "out").iterdir())
    assert names == ["a-b-2.md", "a-b.md", "index-2.md", "index.md"]


@pytest.mark.parametrize("command", ["list", "dag", "check", "export"])
def test_every_help_shows_an_example(command: str) -> None:
    result = penstock(command, "--help")
    assert result.returncode == 0
    assert "example:\n  penstock " + command in result.stdout


def test_top_level_help_lists_the_commands() -> None:
    result = penstock("--help")
    for command in ("list", "dag", "check", "export"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE)
    assert "examples:" in result.stdout
    no_command = penstock()
    assert no_command.returncode == 2


def test_modules_run_from_a_copy_of_the_examples(tmp_path: Path) -> None:
    """The current folder is importable: dotted names resolve from where the command runs."""
    shutil.copy(EXAMPLES / "order_processing.py", tmp_path / "orders.py")
    result = penstock("dag", "orders", cwd=tmp_path)
    assert result.stdout == ORDER_PROCESSING
