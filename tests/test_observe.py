"""Observed flows: recording, files and merging, overlays, the check, the pytest plugin."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from penstock import Observation, carry_flow, entrypoint, flow, generate_dag, observe, step
from tests.support.mermaid import parse_mermaid, require_mermaid

ROOT = Path(__file__).resolve().parent.parent

FLOW_MODULE = """
from penstock import entrypoint, flow, step


@flow("orders")
class Orders:
    @entrypoint
    def receive(self, kind: int) -> None:
        if kind == 0:
            self.validate()
        elif kind == 1:
            self.ship()  # skips validate: an undeclared transition

    @step(after="receive")
    def validate(self) -> None:
        self.ship()

    @step(after="validate")
    def ship(self) -> None: ...

    @step(after="ship")
    def invoice(self) -> None: ...


def run(count: int) -> None:
    for index in range(count):
        Orders().receive(index % 3)
"""


@pytest.fixture
def orders(tmp_path: Path) -> Iterator[object]:
    (tmp_path / "observed_orders.py").write_text(FLOW_MODULE)
    sys.path.insert(0, str(tmp_path))
    import observed_orders

    yield observed_orders
    sys.path.remove(str(tmp_path))
    sys.modules.pop("observed_orders", None)


def test_counts_edges_undeclared_transitions_and_latency(orders: object) -> None:
    with observe() as seen:
        orders.run(30)  # type: ignore[attr-defined]
    assert seen.flows() == ["orders"]
    assert seen.invocations("orders") == 30
    assert seen.step_count("orders", "receive") == 30
    assert seen.step_count("orders", "validate") == 10
    assert seen.step_count("orders", "ship") == 20
    assert seen.edge_count("orders", "receive", "validate") == 10
    assert seen.edge_count("orders", "validate", "ship") == 10
    assert seen.undeclared("orders") == {("receive", "ship"): 10}
    assert seen.missing_edges("orders") == [("ship", "invoice")]
    assert seen.unused_steps("orders") == ["invoice"]
    p50 = seen.latency_ms("orders", "receive")
    p95 = seen.latency_ms("orders", "receive", 0.95)
    assert p50 is not None
    assert p95 is not None
    assert 0 < p50 <= p95 < 1000


def test_nothing_is_recorded_outside_the_block(orders: object) -> None:
    with observe() as seen:
        pass
    orders.run(3)  # type: ignore[attr-defined]
    assert seen.flows() == []


def test_async_generators_and_threads_are_observed() -> None:
    @flow("observed_kinds")
    class Kinds:
        @entrypoint
        async def start(self) -> list[int]:
            await self.fetch()
            return list(self.rows())

        @step(after="start")
        async def fetch(self) -> None:
            await asyncio.sleep(0)

        @step(after="fetch")
        def rows(self) -> Iterator[int]:
            yield from range(3)

    @entrypoint("observed_threads")
    def fan_out() -> None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(carry_flow(work), range(40)))

    @step("observed_threads", after="fan_out")
    def work(index: int) -> int:
        return index

    with observe() as seen:
        assert asyncio.run(Kinds().start()) == [0, 1, 2]
        fan_out()
    assert seen.edge_count("observed_kinds", "start", "fetch") == 1
    assert seen.edge_count("observed_kinds", "fetch", "rows") == 1
    assert seen.step_count("observed_threads", "work") == 40
    assert seen.edge_count("observed_threads", "fan_out", "work") == 40
    assert seen.undeclared("observed_threads") == {}


def test_many_threads_at_once_keep_exact_counts() -> None:
    @entrypoint("observed_race")
    def begin() -> None:
        end()

    @step("observed_race", after="begin")
    def end() -> None: ...

    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(1000):
            begin()

    with observe() as seen:
        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert seen.invocations("observed_race") == 8000
    assert seen.edge_count("observed_race", "begin", "end") == 8000


def test_memory_is_bounded(orders: object) -> None:
    with observe() as seen:
        orders.run(30_000)  # type: ignore[attr-defined]
    data = seen.to_dict()["flows"]["orders"]
    buckets = sum(len(step["latency_buckets"]) for step in data["steps"].values())
    assert seen.invocations("orders") == 30_000
    assert buckets < 4 * 400, "counters and log buckets, not one entry per call"


def test_save_load_and_merge_files_from_two_processes(tmp_path: Path) -> None:
    (tmp_path / "observed_orders.py").write_text(FLOW_MODULE)
    script = textwrap.dedent(
        """
        import sys
        import penstock, observed_orders
        with penstock.observe() as seen:
            observed_orders.run(int(sys.argv[1]))
        seen.save(sys.argv[2])
        """
    )
    for count, name in ((9, "a.json"), (6, "b.json")):
        subprocess.run(
            [sys.executable, "-c", script, str(count), str(tmp_path / name)],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
            check=True,
            timeout=60,
        )
    first = Observation.load(tmp_path / "a.json")
    second = Observation.load(tmp_path / "b.json")
    merged = Observation().merge(first, second)
    assert merged.invocations("orders") == 15
    assert merged.step_count("orders", "ship") == 10
    assert merged.undeclared("orders") == {("receive", "ship"): 5}
    again = Observation.from_dict(json.loads(json.dumps(merged.to_dict())))
    assert again.to_dict() == merged.to_dict()
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="Not a penstock observation"):
        Observation.load(tmp_path / "bad.json")


def test_overlay_in_mermaid_dot_and_json(orders: object, tmp_path: Path) -> None:
    with observe() as seen:
        orders.run(30)  # type: ignore[attr-defined]
    mermaid = generate_dag("orders", observed=seen)
    assert 'receive -->|"10x"| validate' in mermaid
    assert 'ship -->|"0x"| invoice' in mermaid
    assert 'receive -.->|"10x undeclared"| ship' in mermaid
    assert "class invoice penstockUnused" in mermaid
    assert "linkStyle 3 stroke:#dd0000" in mermaid
    assert "never ran" in mermaid
    assert generate_dag("orders") == (
        "graph TD\n    receive --> validate\n    validate --> ship\n    ship --> invoice"
    ), "without an observation the diagram is the declared one"
    seen.save(tmp_path / "seen.json")
    from_file = generate_dag("orders", observed=tmp_path / "seen.json")
    assert from_file.splitlines()[5:] == mermaid.splitlines()[5:]
    document = json.loads(generate_dag("orders", format="json", observed=seen))
    assert document["invocations"] == 30
    assert {n["name"]: n["observed"]["count"] for n in document["nodes"]}["invoice"] == 0
    assert document["undeclared"] == [{"source": "receive", "target": "ship", "count": 10}]
    dot = generate_dag("orders", format="dot", observed=seen)
    assert '"receive" -> "ship" [style=dashed, color=red, label="10x undeclared"];' in dot
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg"], input=dot, text=True, check=True, capture_output=True)


def test_overlay_parses_in_real_mermaid(orders: object) -> None:
    require_mermaid()
    with observe() as seen:
        orders.run(30)  # type: ignore[attr-defined]
    (result,) = parse_mermaid([generate_dag("orders", observed=seen, direction="LR")])
    assert result.error is None
    assert (result.nodes, result.edges) == (4, 4)


def test_check_fails_on_undeclared_transitions(orders: object, tmp_path: Path) -> None:
    with observe() as seen:
        orders.run(30)  # type: ignore[attr-defined]
    seen.save(tmp_path / "seen.json")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}

    def check(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "penstock", "check", "observed_orders", *options],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    result = check("--observed", "seen.json")
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("observed_orders.py:")
    assert (
        "step 'ship' of flow 'orders' ran 10 times with none of its declared predecessors" in line
    )
    strict = check("--observed", "seen.json", "--require-all-steps")
    assert "step 'invoice' of flow 'orders' never ran in 30 invocations observed" in strict.stdout
    missing = check("--observed", "nope.json")
    assert missing.returncode == 2
    assert "could not read the observation nope.json" in missing.stderr


def test_pytest_plugin_records_a_session_and_a_single_test(tmp_path: Path) -> None:
    (tmp_path / "observed_orders.py").write_text(FLOW_MODULE)
    (tmp_path / "test_orders.py").write_text(
        textwrap.dedent(
            """
            import observed_orders

            def test_all_paths(penstock_observation):
                observed_orders.run(3)
                assert penstock_observation.missing_edges("orders") == [("ship", "invoice")]

            def test_more():
                observed_orders.run(6)
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--penstock-observe=out.json",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    session = Observation.load(tmp_path / "out.json")
    assert session.invocations("orders") == 9, "the single test's observation counts too"
    off = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "more"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert off.returncode == 0
    assert not (tmp_path / "other.json").exists()
