"""Running flows leaves nothing behind: no memory growth, no context, no stale IDs in Celery."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from penstock import current_flow_id, entrypoint, get_flow_context, step
from penstock._context import _current_step
from tests.contrib.celery_tasks import app, report

FLOWS = 100_000


@step("leaky", after="run")
def middle(value: int) -> int:
    return value + 1


@entrypoint("leaky")
def run(value: int) -> int:
    return middle(value)


def test_a_hundred_thousand_flows_leave_no_memory_behind(figures: list[str]) -> None:
    for value in range(1_000):  # warm up caches and lazily created objects
        run(value)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for value in range(FLOWS):
        assert run(value) == value + 1
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    penstock_growth = sum(
        stat.size_diff
        for stat in after.compare_to(before, "filename")
        if "penstock" in stat.traceback[0].filename
    )
    total_growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # A few hundred bytes at most, whatever the number of flows: the context variable's current
    # mapping after its last reset, not anything that accumulates.
    assert penstock_growth < 1024, penstock_growth
    assert total_growth < 64 * 1024, total_growth
    assert get_flow_context() is None
    assert _current_step.get() is None
    figures.append(
        f"{FLOWS:,} flows: memory grew by {max(total_growth, 0):,} bytes in all "
        f"({penstock_growth:,} in penstock's code); no context left behind"
    )


@pytest.fixture
def worker() -> Iterator[None]:
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@entrypoint("celery_leaks")
def send_in_flow() -> tuple[str | None, str]:
    return current_flow_id(), report.delay().get(timeout=20, interval=0.005)["cid"]


def _alternate(count: int) -> tuple[int, int]:
    inside: set[str] = set()
    outside: list[str] = []
    for index in range(count):
        if index % 2:
            cid, seen = send_in_flow()
            assert seen == cid
            inside.add(seen)
        else:
            outside.append(report.delay().get(timeout=20, interval=0.005)["cid"])
    # A task sent outside any flow never inherits the ID of one that ran before it.
    assert not inside & set(outside)
    assert len(set(outside)) == len(outside)
    return len(inside), len(outside)


def test_a_thousand_alternating_tasks_in_a_worker(worker: None, figures: list[str]) -> None:
    inside, outside = _alternate(1_000)
    figures.append(
        f"Celery worker: {inside + outside:,} tasks alternating in and out of flows, no stale ID"
    )


def test_a_thousand_alternating_tasks_in_eager_mode(figures: list[str]) -> None:
    app.conf.task_always_eager = True
    try:
        inside, outside = _alternate(1_000)
    finally:
        app.conf.task_always_eager = False
    assert get_flow_context() is None
    figures.append(f"Celery eager mode: {inside + outside:,} tasks alternating, no stale ID")
