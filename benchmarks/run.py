"""Run every benchmark and save the figures to ``benchmarks/results.json``.

``make bench`` runs this. Each benchmark prints a Markdown table of per-operation costs, measured
side by side in one process (or, for start-up and builds, in interleaved subprocesses), and its
ratio to the reference; the docs' performance page shows the latest figures.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_core, bench_dag, bench_docs, bench_import, bench_memory, bench_otel
from benchmarks._harness import machine, write_json


def main() -> int:
    print(f"Machine: {machine()}")
    sections = [
        *bench_core.run(),
        bench_otel.run(),
        bench_dag.run(),
        bench_import.run(),
        bench_memory.run(),
        *bench_docs.run(),
    ]
    out = Path(__file__).resolve().parent / "results.json"
    write_json(str(out), sections)
    print(f"\nSaved {out}")
    missed = [s["title"] for s in sections if s.get("target") and not s["target"]["met"]]
    for title in missed:
        print(f"Target missed: {title}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
