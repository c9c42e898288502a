"""Flows running at the same time never see each other's IDs or metadata."""

from __future__ import annotations

import asyncio
import threading
import time

from penstock import (
    current_flow_id,
    entrypoint,
    get_flow_context,
    get_flow_context_value,
    set_flow_context_value,
    step,
)

ASYNC_FLOWS = 10_000
THREADS = 32
FLOWS_PER_THREAD = 2_000


@step("concurrent", after="handle")
async def check(index: int) -> tuple[str | None, object]:
    await asyncio.sleep(0)
    return current_flow_id(), get_flow_context_value("index")


@entrypoint("concurrent")
async def handle(index: int, gate: asyncio.Event) -> tuple[int, str | None, str | None, object]:
    set_flow_context_value("index", index)
    mine = current_flow_id()
    await gate.wait()  # all 10,000 are suspended here at once
    seen, meta = await check(index)
    return index, mine, seen, meta


def test_ten_thousand_concurrent_asyncio_flows(figures: list[str]) -> None:
    async def main() -> list[tuple[int, str | None, str | None, object]]:
        gate = asyncio.Event()
        tasks = [asyncio.create_task(handle(i, gate)) for i in range(ASYNC_FLOWS)]
        await asyncio.sleep(0)
        gate.set()
        return await asyncio.gather(*tasks)

    start = time.perf_counter()
    results = asyncio.run(main())
    elapsed = time.perf_counter() - start
    assert [index for index, *_ in results] == list(range(ASYNC_FLOWS))
    assert all(mine == seen and meta == index for index, mine, seen, meta in results)
    assert len({mine for _, mine, _, _ in results}) == ASYNC_FLOWS
    assert get_flow_context() is None
    figures.append(
        f"{ASYNC_FLOWS:,} concurrent asyncio flows: no cross-talk, {elapsed:.2f} s, "
        "nothing left in the context"
    )


@step("threaded_many", after="work")
def deeper(index: int) -> tuple[str | None, object]:
    return current_flow_id(), get_flow_context_value("index")


@entrypoint("threaded_many")
def work(index: int) -> bool:
    set_flow_context_value("index", index)
    mine = current_flow_id()
    seen, meta = deeper(index)
    return mine == seen and meta == index and mine is not None


def test_thirty_two_threads_of_two_thousand_flows(figures: list[str]) -> None:
    barrier = threading.Barrier(THREADS)
    failures: list[str] = []
    leftovers: list[object] = []

    def run(thread_index: int) -> None:
        barrier.wait()  # all threads start at the same instant
        failures.extend(
            f"thread {thread_index}, flow {n}"
            for n in range(FLOWS_PER_THREAD)
            if not work(thread_index * FLOWS_PER_THREAD + n)
        )
        leftovers.append(get_flow_context())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    assert failures == []
    assert leftovers == [None] * THREADS
    figures.append(
        f"{THREADS} threads x {FLOWS_PER_THREAD:,} flows ({THREADS * FLOWS_PER_THREAD:,}): "
        f"no cross-talk, {elapsed:.2f} s, nothing left in any thread's context"
    )
