"""Check diagram sources against the real Mermaid 11 parser, run under Node.

The Node side lives in ``tests/mermaid`` (``parse.mjs`` plus a pinned
``package.json``/``package-lock.json``); install it with
``npm ci --prefix tests/mermaid``.  Nothing here mocks Mermaid: a diagram only
counts as valid if ``mermaid.parse`` accepts it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

MERMAID_DIR: Path = Path(__file__).resolve().parent.parent / "mermaid"
"""Folder holding the Node harness (``parse.mjs``) and its ``node_modules``."""

INSTALL_HINT = "run `npm ci --prefix tests/mermaid`"
"""What to do when the Mermaid harness is missing."""

_SCRIPT = MERMAID_DIR / "parse.mjs"
_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class MermaidResult:
    """Outcome of parsing one diagram with real Mermaid, so tests can assert on it.

    ``nodes``/``edges``/``vertices`` come from Mermaid's flowchart db and are
    zero/empty for other diagram types or when parsing failed.  Each vertex is
    ``(id, label)`` where ``label`` is the text a browser would display: Mermaid's
    ``#NNN;`` entity codes already decoded.
    """

    ok: bool
    nodes: int
    edges: int
    vertices: tuple[tuple[str, str], ...]
    error: str | None


def mermaid_available() -> bool:
    """Return whether Node and the installed harness are present, since the check needs both."""
    return shutil.which("node") is not None and (MERMAID_DIR / "node_modules" / "mermaid").is_dir()


def require_mermaid() -> None:
    """Skip the calling test without Mermaid, but fail in CI so the check is never silently lost."""
    if mermaid_available():
        return
    message = f"Mermaid harness not installed (node + tests/mermaid/node_modules): {INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _malformed(what: str, index: int, value: object) -> RuntimeError:
    """Build the error for harness output that does not match the ``parse.mjs`` contract."""
    return RuntimeError(
        f"Mermaid harness returned a malformed {what} for diagram {index}: {value!r}"
    )


def _as_result(entry: object, index: int) -> MermaidResult:
    """Turn one JSON entry from ``parse.mjs`` into a result, rejecting anything malformed."""
    if not isinstance(entry, dict):
        raise _malformed("entry", index, entry)
    ok = entry.get("ok")
    nodes = entry.get("nodes", 0)
    edges = entry.get("edges", 0)
    error = entry.get("error")
    raw_vertices = entry.get("vertices", [])
    if (
        not isinstance(ok, bool)
        or not isinstance(nodes, int)
        or not isinstance(edges, int)
        or not (error is None or isinstance(error, str))
        or not isinstance(raw_vertices, list)
    ):
        raise _malformed("entry", index, entry)
    vertices: list[tuple[str, str]] = []
    for vertex in raw_vertices:
        if not isinstance(vertex, dict):
            raise _malformed("vertex", index, vertex)
        vertex_id = vertex.get("id")
        label = vertex.get("label")
        if not isinstance(vertex_id, str) or not isinstance(label, str):
            raise _malformed("vertex", index, vertex)
        vertices.append((vertex_id, label))
    return MermaidResult(ok=ok, nodes=nodes, edges=edges, vertices=tuple(vertices), error=error)


def parse_mermaid(diagrams: Sequence[str]) -> list[MermaidResult]:
    """Parse all diagrams with real Mermaid in one Node process, since each start costs ~1 s.

    Diagrams that Mermaid rejects come back with ``ok=False`` and the parser's
    message in ``error``; a RuntimeError (with Node's stderr) means the harness
    itself broke.
    """
    sources = list(diagrams)
    if not sources:
        return []
    node = shutil.which("node")
    if node is None:
        raise RuntimeError(f"node is not on PATH: {INSTALL_HINT}")
    try:
        completed = subprocess.run(
            [node, str(_SCRIPT)],
            input=json.dumps(sources),
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=MERMAID_DIR,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"Mermaid harness timed out after {_TIMEOUT_SECONDS:.0f} s") from exc
    if completed.returncode != 0:
        raise RuntimeError(
            f"Mermaid harness failed (exit {completed.returncode}); "
            f"{INSTALL_HINT} if it is not installed.\n"
            f"stderr:\n{completed.stderr}"
        )
    try:
        payload: object = json.loads(completed.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"Mermaid harness printed invalid JSON: {exc}\nstdout:\n{completed.stdout[:2000]}\n"
            f"stderr:\n{completed.stderr}"
        ) from exc
    if not isinstance(payload, list) or len(payload) != len(sources):
        raise RuntimeError(
            f"Mermaid harness returned {type(payload).__name__} for {len(sources)} diagrams\n"
            f"stderr:\n{completed.stderr}"
        )
    return [_as_result(entry, index) for index, entry in enumerate(payload)]
