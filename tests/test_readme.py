"""The README's quick start runs as written and prints what the README says it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_start_runs_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    script = tmp_path / "quickstart.py"
    script.write_text(code.group(1), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout == (
        "graph TD\n    receive_order --> validate\n    validate --> charge\n    validate --> ship\n"
    )
    lines = result.stderr.splitlines()
    ids = {re.search(r"cid=([0-9a-f]{32}) ", line).group(1) for line in lines}  # type: ignore[union-attr]
    assert len(ids) == 1
    assert "INFO  shop     received ORD-001" in result.stderr
    assert "step.start order_processing.receive_order" in lines[0]
