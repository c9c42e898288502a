"""What ``import penstock`` costs a process, and what it imports.

Target: ``import penstock`` imports no optional dependency (opentelemetry, django, celery,
structlog) and adds at most 15 ms to a bare interpreter start. Both interpreters are started
side by side, alternately, many times; the figure is the difference of the fastest starts.
``python -X importtime -c "import penstock"`` shows where the time goes.

Run with ``make bench`` or ``python -m benchmarks.bench_import``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from benchmarks._harness import Result, report

OPTIONAL = ("opentelemetry", "django", "celery", "structlog", "kombu", "sphinx", "mkdocs")


# As installed by pip: with compiled bytecode. (Some environments set PYTHONDONTWRITEBYTECODE,
# which would make every start compile penstock's sources again.)
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _start(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", code], check=True, env=_ENV)
    return time.perf_counter() - start


def run(rounds: int = 41) -> dict:
    bare, with_penstock = [], []
    site = "import site; "  # -S skips site; add it back so both pay it, as real programs do
    subprocess.run([sys.executable, "-m", "compileall", "-q", "penstock"], check=True, env=_ENV)
    for _ in range(3):
        _start(site + "import penstock")
    for _ in range(rounds):
        bare.append(_start(site + "pass"))
        with_penstock.append(_start(site + "import penstock"))
    # The fastest start of each kind: start-up times only ever get slower from noise (other
    # processes, the disk), so the minimum is the steadiest estimate of the real cost.
    base = min(bare)
    extra = min(with_penstock) - base
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", "import json, sys, penstock; print(json.dumps([*sys.modules]))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    optional = sorted({name.split(".")[0] for name in loaded if name.split(".")[0] in OPTIONAL})
    print(f"\nOptional dependencies imported by `import penstock`: {optional or 'none'}")
    results = [
        Result("bare interpreter start", base * 1e9, 1.0),
        Result("start + import penstock", (base + extra) * 1e9, (base + extra) / base),
    ]
    section = report("Import time (ns per process start)", results)
    print(f"\n`import penstock` adds {extra * 1000:.1f} ms (target: at most 15 ms)")
    section["import_ms"] = round(extra * 1000, 2)
    section["optional_imported"] = optional
    section["target"] = {
        "case": "import penstock",
        "limit": 15.0,
        "met": extra * 1000 <= 15.0 and not optional,
    }
    return section


if __name__ == "__main__":
    run()
