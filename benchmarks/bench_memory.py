"""Memory held by each running flow: 10,000 asyncio tasks suspended inside entrypoints.

The reference is the same 10,000 tasks suspended in a plain coroutine; the difference, divided
by the number of tasks, is what one active flow context costs (its FlowContext, its metadata
dict, and the context variable's entry). Measured with tracemalloc.

Run with ``make bench`` or ``python -m benchmarks.bench_memory``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import tracemalloc

import penstock
from penstock import entrypoint
from penstock.backends import LoggingBackend

TASKS = 10_000


async def _measure(make: object) -> int:
    gate = asyncio.Event()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    tasks = [asyncio.create_task(make(gate)) for _ in range(TASKS)]  # type: ignore[operator]
    await asyncio.sleep(0)  # every task is now suspended at the gate
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    gate.set()
    await asyncio.gather(*tasks)
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


async def _plain(gate: asyncio.Event) -> None:
    await gate.wait()


@entrypoint("bench_memory")
async def _in_flow(gate: asyncio.Event) -> None:
    await gate.wait()


def run() -> dict:
    # The default backend with nothing recorded: the flow context alone is measured.
    logging.getLogger("penstock").setLevel(logging.WARNING)
    penstock.configure(LoggingBackend())
    plain = asyncio.run(_measure(_plain))
    in_flow = asyncio.run(_measure(_in_flow))
    per_flow = (in_flow - plain) / TASKS
    print("\n### Memory per active flow context\n")
    print(f"{TASKS:,} suspended tasks: {plain / TASKS:,.0f} bytes each without a flow, ")
    print(f"{in_flow / TASKS:,.0f} bytes each inside an entrypoint: {per_flow:,.0f} per flow.")
    return {
        "title": "Memory per active flow context",
        "bytes_per_task_plain": round(plain / TASKS),
        "bytes_per_task_in_flow": round(in_flow / TASKS),
        "bytes_per_flow": round(per_flow),
        "target": None,
    }


if __name__ == "__main__":
    run()
