"""penstock's main job, end to end: run every example flow, then draw and check every flow.

``make demo`` runs this. Each example runs as its own process, exactly as a user would run it,
so its log lines show the correlation IDs; then all examples are imported together and every
flow's Mermaid diagram is printed and validated.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = ["order_processing", "user_update", "context_metadata", "async_pipeline", "bom_sync"]


def banner(text: str) -> None:
    print(f"\n{'=' * 78}\n{text}\n{'=' * 78}", flush=True)


def main() -> int:
    for name in EXAMPLES:
        banner(f"python examples/{name}.py")
        completed = subprocess.run([sys.executable, str(HERE / f"{name}.py")], check=False)
        if completed.returncode:
            print(f"examples/{name}.py failed with exit status {completed.returncode}")
            return completed.returncode

    sys.path.insert(0, str(HERE))
    for name in EXAMPLES:
        importlib.import_module(name)

    from penstock import generate_dag, list_flows, validate_flows

    validate_flows()
    banner(f"{len(list_flows())} flows, all valid; their diagrams")
    for flow_name in list_flows():
        print(f"\n%% {flow_name}")
        print(generate_dag(flow_name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
