"""What both docs integrations render for a flow."""

from __future__ import annotations

from penstock import entrypoint, step
from penstock_docs._render import render


def test_links_are_collected_only_when_asked_for() -> None:
    @entrypoint("render_flow")
    def receive() -> None:
        """Take the order in."""

    @step("render_flow", after=receive, name="check out")
    def check() -> None: ...

    linked = render("render_flow", "LR")
    plain = render("render_flow", "LR", links=False)
    assert plain.mermaid == linked.mermaid
    assert plain.problems == linked.problems == ()
    assert plain.steps == ()
    assert [(link.name, link.node_id, link.doc) for link in linked.steps] == [
        ("receive", "receive", "Take the order in."),
        ("check out", "step_0", ""),
    ]
    assert linked.steps[0].target is None  # defined inside a function: no API docs page


def test_problems_come_from_the_same_snapshot_as_the_diagram() -> None:
    @entrypoint("render_cycle")
    def start() -> None: ...

    @step("render_cycle", after=["start", "later"])
    def middle() -> None: ...

    @step("render_cycle", after=middle)
    def later() -> None: ...

    rendered = render("render_cycle", "TD", links=False)
    (problem,) = rendered.problems
    assert problem.endswith(
        "test_render.py:36: flow 'render_cycle' has a cycle: later -> middle -> later; "
        "remove one of these after= links."
    )
    assert "middle --> later" in rendered.mermaid
    assert "later --> middle" in rendered.mermaid
