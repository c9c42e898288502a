"""The examples run as a user runs them, and say what the docs promise."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from penstock import generate_dag, get_flow, validate_flow
from tests.support.mermaid import parse_mermaid, require_mermaid

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CID = re.compile(r"cid=([0-9a-f]{32})\]")


def run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.fixture
def examples_importable() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    yield
    sys.path.remove(str(EXAMPLES))


def test_order_processing_logs_one_id_per_call() -> None:
    result = run("order_processing.py")
    lines = result.stderr.splitlines()
    ids = [CID.search(line).group(1) for line in lines if CID.search(line)]  # type: ignore[union-attr]
    assert len(ids) == len(lines), "every log line carries the correlation ID"
    assert len(set(ids)) == 2, "two calls, two IDs"
    assert any("shop.orders  received order ORD-001" in line for line in lines)
    assert result.stdout.strip().endswith("validate --> ship")


def test_user_update_reports_the_rejected_change() -> None:
    result = run("user_update.py")
    assert "rejected: not an e-mail address: 'not-an-address'" in result.stderr
    assert "step.end user_update.validate failed with ValueError" in result.stderr
    assert "persist --> audit_log" in result.stdout


def test_context_metadata_reaches_later_steps() -> None:
    result = run("context_metadata.py")
    assert "processing for user=alice, source=api" in result.stderr
    assert "finishing (processed=True)" in result.stderr


def test_async_pipeline_keeps_concurrent_ids_apart() -> None:
    result = run("async_pipeline.py")
    by_url: dict[str, str] = {}
    for line in result.stderr.splitlines():
        match = re.search(r"ingesting (\S+) \(cid=([0-9a-f]{32})\)", line)
        if match:
            by_url[match.group(1)] = match.group(2)
    assert len(by_url) == 3
    assert len(set(by_url.values())) == 3
    assert result.stdout.startswith("graph LR")


def test_bom_sync_carries_the_flow_into_pool_threads() -> None:
    result = run("bom_sync.py")
    pool_lines = [line for line in result.stderr.splitlines() if "ThreadPoolExecutor" in line]
    assert len([line for line in pool_lines if "updated EBOM entry" in line]) == 3
    ids = {CID.search(line).group(1) for line in result.stderr.splitlines()}  # type: ignore[union-attr]
    assert len(ids) == 1


def test_demo_runs_everything() -> None:
    result = run("demo.py")
    assert "5 flows, all valid" in result.stdout
    assert result.stdout.count("graph TD") >= 5


def test_example_flows_are_valid_and_parse_in_mermaid(examples_importable: None) -> None:
    require_mermaid()
    names = ["order_processing", "user_update", "context_demo", "async_pipeline", "bom_sync"]
    for module in [
        "order_processing",
        "user_update",
        "context_metadata",
        "async_pipeline",
        "bom_sync",
    ]:
        importlib.import_module(module)
    for name in names:
        validate_flow(name)
    results = parse_mermaid([generate_dag(name) for name in names])
    for name, result in zip(names, results, strict=True):
        assert result.error is None
        assert result.nodes == len(get_flow(name).steps)
        assert result.edges == len(get_flow(name).edges)
