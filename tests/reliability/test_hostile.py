"""Input from outside: any step name draws safely, any incoming header is a valid ID or replaced."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import logging
import random
import re
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock import entrypoint, generate_dag, step
from penstock.contrib.asgi import FlowMiddleware
from penstock_docs._render import mermaid_html, render
from tests.support.mermaid import parse_mermaid, require_mermaid

HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_unique = itertools.count()
names = st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != "")


def _flow(flow_name: str, step_names: list[str]) -> None:
    def body() -> None: ...

    entrypoint(flow_name, name=step_names[0])(body)
    for name in step_names[1:]:
        step(flow_name, after=step_names[0], name=name)(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=1, max_size=5, unique=True), names)
def test_any_names_give_json_that_parses_and_html_escaped_once(
    step_names: list[str], flow_name: str
) -> None:
    flow_name = f"{flow_name}#{next(_unique)}"  # a flow of its own for every example
    _flow(flow_name, step_names)
    document = json.loads(generate_dag(flow_name, format="json"))
    assert document["flow"] == flow_name
    assert sorted(node["name"] for node in document["nodes"]) == sorted(step_names)
    rendered = render(flow_name, "TD")
    page = mermaid_html(rendered.mermaid, caption=flow_name)
    assert "<script" not in page.lower().replace("&lt;script", "")
    inner = re.search(r'<pre class="mermaid">(.*?)</pre>', page, re.DOTALL)
    assert inner is not None
    assert html.unescape(inner.group(1)) == rendered.mermaid


def _sample(seed: int, count: int) -> list[list[str]]:
    rng = random.Random(seed)
    alphabet = "aZ09 _-><[](){}\"'#;:%&|@!?\\/.,=+*~`^\t\n\r\x00\x7f\u2028éß€😀\u200b"
    flows = []
    for _ in range(count):
        chosen: list[str] = []
        while len(chosen) < rng.randint(1, 6):
            name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
            if name.strip() and name not in chosen:
                chosen.append(name)
        flows.append(chosen)
    return flows


def test_a_sample_of_hostile_names_parses_in_mermaid_and_graphviz(figures: list[str]) -> None:
    require_mermaid()
    flows = _sample(9, 80)
    for index, chosen in enumerate(flows):
        _flow(f"hostile_{index}", chosen)
    diagrams = [generate_dag(f"hostile_{i}") for i in range(len(flows))]
    results = parse_mermaid(diagrams)
    for chosen, result in zip(flows, results, strict=True):
        assert result.error is None
        assert (result.nodes, result.edges) == (len(chosen), len(chosen) - 1)
        # What the browser shows: HTML reads a carriage return as a line break, and shows NUL as
        # the replacement character.
        shown = sorted(label for _, label in result.vertices)
        expected = (
            name.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
            for name in chosen
        )
        assert shown == sorted(expected)
    dot = shutil.which("dot")
    checked = 0
    if dot is not None:
        for index, chosen in enumerate(flows):
            output = subprocess.run(
                [dot, "-Tjson"],
                input=generate_dag(f"hostile_{index}", format="dot"),
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            graph = json.loads(output.stdout)
            assert len(graph.get("objects", [])) == len(chosen)
            assert len(graph.get("edges", [])) == len(chosen) - 1
            checked += 1
    figures.append(
        f"hostile names: {len(flows)} flows parsed by Mermaid 11 with the right nodes, edges and "
        f"labels; {checked} by Graphviz"
    )


headers = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    st.sampled_from(["0" * 32, "a" * 10_000, "ab\r\nSet-Cookie: x=1", "\u0660" * 32]),
)


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    logging.getLogger("tests.hostile").info("handling")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=headers)
def test_any_incoming_header_is_a_valid_id_or_replaced_and_never_echoed(
    caplog: pytest.LogCaptureFixture, value: str | bytes
) -> None:
    caplog.clear()
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"x-correlation-id", raw)]}
    with caplog.at_level(logging.DEBUG):
        asyncio.run(FlowMiddleware(_app)(scope, receive, send))
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    (answer,) = [v for k, v in start["headers"] if k == b"x-correlation-id"]
    assert HEX32.match(answer.decode())
    stripped = raw.strip().lower().replace(b"-", b"")
    # Replaced: the incoming value appears nowhere, neither in the response nor in a log. (A
    # value shorter than 8 bytes could turn up in a fresh random ID by chance.)
    if len(raw) >= 8 and answer != stripped:
        assert raw not in answer
        assert all(raw.decode("latin-1") not in r.getMessage() for r in caplog.records)
