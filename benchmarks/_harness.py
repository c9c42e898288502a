"""Side-by-side timing: every case runs in the same process, interleaved, round after round.

The machine is shared and noisy, so absolute times mean little; what is reported is each case's
cost relative to a reference measured in the very same rounds. Each round times every case once
(in a rotating order, so none always runs first); a case's figure is the median of its rounds.
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Result:
    """One case's median cost per operation, and its ratio to the reference."""

    name: str
    ns_per_op: float
    ratio: float


def measure(
    cases: dict[str, Callable[[int], object]],
    reference: str,
    *,
    ops: int = 2000,
    rounds: int = 31,
) -> list[Result]:
    """Time each ``case(ops)`` call for ``rounds`` rounds; return medians per op and ratios.

    Each case is a callable that performs ``ops`` operations when called with ``ops``.
    """
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for case in cases.values():  # warm up caches, lazy imports and specialisation
        case(ops)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter_ns()
                cases[name](ops)
                samples[name].append((time.perf_counter_ns() - start) / ops)
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians[reference]
    return [Result(name, medians[name], medians[name] / base) for name in names]


def machine() -> str:
    """A one-line description of where the figures were taken."""
    import os

    return (
        f"{platform.python_implementation()} {platform.python_version()} on "
        f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs"
    )


def report(title: str, results: list[Result], target: tuple[str, float] | None = None) -> dict:
    """Print a Markdown table of ``results`` and return it as data."""
    print(f"\n### {title}\n")
    print("| case | ns per op | ratio |")
    print("| --- | ---: | ---: |")
    for result in results:
        print(f"| {result.name} | {result.ns_per_op:,.0f} | {result.ratio:.2f}x |")
    verdict = None
    if target is not None:
        name, limit = target
        ratio = next(r.ratio for r in results if r.name == name)
        verdict = ratio <= limit
        print(
            f"\nTarget: {name} at most {limit:.2f}x: {ratio:.2f}x, {'met' if verdict else 'MISSED'}"
        )
    sys.stdout.flush()
    return {
        "title": title,
        "results": [asdict(r) for r in results],
        "target": None
        if target is None
        else {"case": target[0], "limit": target[1], "met": verdict},
    }


def write_json(path: str, sections: list[dict]) -> None:
    """Save the figures with the machine they were taken on."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"machine": machine(), "sections": sections}, handle, indent=2)
        handle.write("\n")
