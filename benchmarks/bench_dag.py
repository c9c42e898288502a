"""generate_dag() on a 20,000-step flow against a 2,000-step one: it must scale linearly.

Target: the large flow takes at most 15 times as long as the small one (ten times the steps;
quadratic work would take a hundred times as long).

Run with ``make bench`` or ``python -m benchmarks.bench_dag``.
"""

from __future__ import annotations

import random
import time

from benchmarks._harness import Result, report
from penstock import entrypoint, generate_dag, step
from penstock._registry import forget_module


def _flow(name: str, size: int, seed: int) -> None:
    """A branching flow: every step follows one or two earlier steps, chosen at random."""
    rng = random.Random(seed)

    def body() -> None: ...

    body.__module__ = "benchmarks.generated_flows"
    entrypoint(name, name="s0")(body)
    for index in range(1, size):
        parents = {f"s{rng.randrange(max(0, index - 50), index)}" for _ in range(2)}
        step(name, after=sorted(parents), name=f"s{index}")(body)


def _median_seconds(name: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        generate_dag(name)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def run() -> dict:
    _flow("dag_small", 2_000, 1)
    _flow("dag_large", 20_000, 2)
    try:
        for _ in range(2):  # warm up
            generate_dag("dag_small")
            generate_dag("dag_large")
        small_samples, large_samples = [], []
        for _ in range(7):  # interleaved, so both see the same machine
            small_samples.append(_median_seconds("dag_small", 5))
            large_samples.append(_median_seconds("dag_large", 1))
        small = sorted(small_samples)[3]
        large = sorted(large_samples)[3]
        results = [
            Result("generate_dag, 2,000 steps", small * 1e9, 1.0),
            Result("generate_dag, 20,000 steps", large * 1e9, large / small),
        ]
        return report(
            "Diagram of a large flow (ns per call)",
            results,
            target=("generate_dag, 20,000 steps", 15.0),
        )
    finally:
        forget_module("benchmarks.generated_flows")


if __name__ == "__main__":
    run()
