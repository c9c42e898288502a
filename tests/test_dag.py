"""Diagram rendering: the golden Mermaid contract, hostile names, DOT, JSON and files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penstock import FlowNotFoundError, entrypoint, flow, generate_dag, get_flow, step
from penstock._dag import _MERMAID_RESERVED, FlowGraph, is_plain_mermaid_id, mermaid_label
from tests.support.mermaid import parse_mermaid, require_mermaid

ORDER_PROCESSING = """\
graph TD
    receive_order --> validate
    validate --> charge
    validate --> ship"""

USER_UPDATE = """\
graph TD
    admin_action --> validate
    api_request --> validate
    validate --> notify
    validate --> persist
    notify --> audit_log
    persist --> audit_log"""


def _order_processing() -> None:
    @flow("order_processing")
    class OrderFlow:
        @entrypoint
        def receive_order(self, order_id: str) -> dict[str, str]:
            data = self.validate(order_id)
            self.charge(data)
            self.ship(data)
            return data

        @step(after="receive_order")
        def validate(self, order_id: str) -> dict[str, str]:
            """Check the order."""
            return {"order_id": order_id, "status": "valid"}

        @step(after="validate")
        def charge(self, data: dict[str, str]) -> None: ...

        @step(after="validate")
        def ship(self, data: dict[str, str]) -> None: ...


def _user_update() -> None:
    @flow("user_update")
    class UserUpdate:
        @entrypoint
        def api_request(self) -> None: ...

        @entrypoint
        def admin_action(self) -> None: ...

        @step(after=["api_request", "admin_action"])
        def validate(self) -> None: ...

        @step(after="validate")
        def persist(self) -> None: ...

        @step(after="validate")
        def notify(self) -> None: ...

        @step(after=["persist", "notify"])
        def audit_log(self) -> None: ...


def _flow_of(name: str, steps: list[tuple[str, list[str]]]) -> None:
    """Register a flow whose first step is the entrypoint, from (name, after) pairs."""
    for index, (step_name, after) in enumerate(steps):

        def body() -> None: ...

        if index == 0:
            entrypoint(name, name=step_name)(body)
        else:
            step(name, after=after, name=step_name)(body)


def test_golden_order_processing() -> None:
    _order_processing()
    assert generate_dag("order_processing") == ORDER_PROCESSING


def test_golden_user_update() -> None:
    _user_update()
    assert generate_dag("user_update") == USER_UPDATE


def test_direction() -> None:
    _order_processing()
    assert generate_dag("order_processing", direction="LR").startswith("graph LR\n")
    with pytest.raises(ValueError, match=r"Unknown diagram direction 'UP'; choose one of 'TD'"):
        generate_dag("order_processing", direction="UP")


def test_step_without_edges_is_listed_alone() -> None:
    _flow_of("loner", [("start", []), ("after_start", ["start"])])

    @step("loner")
    def island() -> None: ...

    assert generate_dag("loner") == "graph TD\n    island\n    start --> after_start"


def test_unknown_predecessors_are_left_out_and_cycles_still_render() -> None:
    _flow_of("odd", [("start", []), ("a", ["start", "b", "ghost"]), ("b", ["a"])])
    assert generate_dag("odd") == "graph TD\n    start --> a\n    a --> b\n    b --> a"


def test_the_graph_knows_whether_it_has_a_cycle() -> None:
    _flow_of("looped", [("start", []), ("a", ["start", "b"]), ("b", ["a"])])
    _flow_of("straight", [("start", []), ("a", ["start", "ghost"]), ("b", ["a", "start"])])
    _flow_of("selfish", [("start", []), ("again", ["start", "again"])])
    _order_processing()
    assert FlowGraph(get_flow("looped")).acyclic is False
    assert FlowGraph(get_flow("straight")).acyclic is True
    assert FlowGraph(get_flow("selfish")).acyclic is False
    assert FlowGraph(get_flow("order_processing")).acyclic is True


def test_the_graph_lists_its_sources_and_the_steps_with_predecessors() -> None:
    _flow_of("forked", [("start", []), ("b", ["start"]), ("a", ["start", "b"]), ("lone", [])])
    graph = FlowGraph(get_flow("forked"))
    assert graph.sources() == ["lone", "start"]
    assert graph.has_incoming == {"a", "b"}
    # Worked out once and kept: listing() asks for it once per step that leads nowhere.
    assert graph.has_incoming is graph.has_incoming


def test_the_graph_knows_whether_every_after_names_a_step() -> None:
    _flow_of("whole", [("start", []), ("a", ["start"]), ("b", ["a", "start"])])
    _flow_of("misspelt", [("start", []), ("a", ["start", "ghost"])])
    assert FlowGraph(get_flow("whole")).complete is True
    assert FlowGraph(get_flow("misspelt")).complete is False


def test_unknown_flow_and_format() -> None:
    _order_processing()
    with pytest.raises(FlowNotFoundError, match=r"known flows: .*'order_processing'"):
        generate_dag("nope")
    with pytest.raises(
        ValueError, match=r"Unknown diagram format 'svg'; choose one of 'mermaid', 'dot', 'json'"
    ):
        generate_dag("order_processing", format="svg")


# -- hostile names ------------------------------------------------------------------------------

HOSTILE = [
    "end",
    "class",
    "graph",
    "subgraph",
    "style",
    "click",
    "call",
    "href",
    "flowchart",
    "direction",
    "linkStyle",
    "classDef",
    "default",
    "interpolate",
    "_self",
    "two words",
    "  padded  ",
    'say "hi"',
    "a[b]",
    "a-->b",
    "<script>alert(1)</script>",
    "%%{init: {'theme': 'dark'}}%%",
    "café €",
    "emoji 😀",
    "tab\there",
    "new\nline",
    "1starts_with_digit",
    "#35;",
    "step_0",
]


def test_plain_identifiers_keep_the_plain_form() -> None:
    plain = ["validate", "_private", "A", "a1", "end_step", "endpoint", "End", "CLASS", "o", "x"]
    for name in plain:
        assert is_plain_mermaid_id(name), name
    for name in HOSTILE[:-1]:
        assert not is_plain_mermaid_id(name), name


def test_labels_encode_every_risky_character() -> None:
    assert mermaid_label("a b_C9") == '"a b_C9"'
    assert mermaid_label('x"<y>') == '"x#34;#60;y#62;"'
    assert mermaid_label("é😀") == '"#233;#128512;"'


def test_hostile_names_get_safe_ids_and_escaped_labels() -> None:
    _flow_of("hostile", [("start", [])] + [(name, ["start"]) for name in HOSTILE])
    text = generate_dag("hostile")
    lines = text.splitlines()
    assert lines[0] == "graph TD"
    # Every id on every line is a plain identifier; labels only appear quoted in declarations.
    declaration = re.compile(r'    (step_\d+)\["([A-Za-z0-9 _#;]*)"\]\Z')
    edge = re.compile(r"    ([A-Za-z_][A-Za-z0-9_]*) --> ([A-Za-z_][A-Za-z0-9_]*)\Z")
    declared = {}
    for line in lines[1:]:
        match = declaration.match(line)
        if match:
            declared[match.group(1)] = match.group(2)
            continue
        match = edge.match(line)
        assert match, f"unexpected line: {line!r}"
        assert match.group(1) == "start"
    assert len(declared) == len(HOSTILE) - 1
    # "step_0" is a plain user name and keeps its id; no generated id collides with it.
    assert "    start --> step_0" in lines
    assert "step_0" not in declared
    assert "#60;script#62;" in text
    assert "%%" not in text
    assert "\n    end" not in text


def test_hostile_diagram_parses_in_real_mermaid() -> None:
    require_mermaid()
    _flow_of("hostile_parse", [("start", [])] + [(name, ["start"]) for name in HOSTILE])
    _order_processing()
    _user_update()
    diagrams = [
        generate_dag("hostile_parse"),
        generate_dag("hostile_parse", direction="LR"),
        generate_dag("order_processing"),
        generate_dag("user_update", direction="RL"),
    ]
    results = parse_mermaid(diagrams)
    assert [r.error for r in results] == [None] * len(diagrams)
    assert (results[0].nodes, results[0].edges) == (len(HOSTILE) + 1, len(HOSTILE))
    # What a reader sees: each node's displayed label is exactly the step's name.
    assert sorted(label for _, label in results[0].vertices) == sorted(["start", *HOSTILE])
    assert (results[2].nodes, results[2].edges) == (4, 3)
    assert (results[3].nodes, results[3].edges) == (6, 6)


# Names drawn from all of Unicode, Mermaid syntax included.
names = st.text(min_size=1, max_size=24).filter(lambda s: s.strip() != "")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=1, max_size=6, unique=True))
def test_any_step_name_yields_only_safe_ids(step_names: list[str]) -> None:
    """Property: whatever the names, every Mermaid line is a safe declaration or edge."""
    flow_name = "prop_" + str(abs(hash(tuple(step_names))))
    _flow_of(flow_name, [(step_names[0], [])] + [(n, [step_names[0]]) for n in step_names[1:]])
    text = generate_dag(flow_name)
    safe = re.compile(
        r'    [A-Za-z_][A-Za-z0-9_]*(\["[A-Za-z0-9 _#;]*"\])?( --> [A-Za-z_][A-Za-z0-9_]*)?\Z'
    )
    lines = text.split("\n")
    assert lines[0] == "graph TD"
    for line in lines[1:]:
        assert safe.match(line), line
        for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", line.split("[")[0]):
            assert token not in _MERMAID_RESERVED


def test_property_sample_parses_in_real_mermaid() -> None:
    """A seeded sample of random names, all rendered and parsed by Mermaid in one batch."""
    require_mermaid()
    import random

    rng = random.Random(20261122)
    alphabet = "abcXYZ019 _-><[](){}\"'#;:%&|@!?\\/.,=+*~`^\t\né€😀\u200b"
    diagrams: list[tuple[str, int]] = []
    for case in range(60):
        count = rng.randint(1, 6)
        chosen: list[str] = []
        while len(chosen) < count:
            candidate = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
            if candidate.strip() and candidate not in chosen:
                chosen.append(candidate)
        name = f"sample_{case}"
        _flow_of(name, [(chosen[0], [])] + [(n, [chosen[0]]) for n in chosen[1:]])
        diagrams.append((generate_dag(name), chosen))
    results = parse_mermaid([text for text, _ in diagrams])
    for (text, chosen), result in zip(diagrams, results, strict=True):
        count = len(chosen)
        assert result.error is None, text
        assert result.nodes == count, text
        assert result.edges == count - 1, text
        assert sorted(label for _, label in result.vertices) == sorted(chosen), text


# -- DOT and JSON -------------------------------------------------------------------------------


def test_dot_output() -> None:
    _order_processing()
    assert generate_dag("order_processing", format="dot", direction="LR") == (
        'digraph "order_processing" {\n'
        "    rankdir=LR;\n"
        '    node [shape=box, style="rounded"];\n'
        '    "receive_order" [label="receive_order", shape=ellipse];\n'
        '    "validate" [label="validate", tooltip="Check the order."];\n'
        '    "charge" [label="charge"];\n'
        '    "ship" [label="ship"];\n'
        '    "receive_order" -> "validate";\n'
        '    "validate" -> "charge";\n'
        '    "validate" -> "ship";\n'
        "}"
    )


def test_dot_escapes_quotes_backslashes_and_control_characters() -> None:
    _flow_of(
        "dot_hostile", [('say "hi"', []), ("back\\slash", ['say "hi"']), ("a\nb\x00", ['say "hi"'])]
    )
    text = generate_dag("dot_hostile", format="dot")
    assert '"say \\"hi\\""' in text
    assert '"back\\\\slash"' in text
    assert '"a\\nb "' in text
    assert "\x00" not in text


def test_json_output() -> None:
    _user_update()
    document = json.loads(generate_dag("user_update", format="json"))
    assert document["flow"] == "user_update"
    assert document["direction"] == "TD"
    names = [node["name"] for node in document["nodes"]]
    assert names == ["admin_action", "api_request", "validate", "notify", "persist", "audit_log"]
    by_name = {node["name"]: node for node in document["nodes"]}
    assert by_name["admin_action"]["entrypoint"] is True
    assert by_name["validate"]["entrypoint"] is False
    assert by_name["validate"]["after"] == ["api_request", "admin_action"]
    assert by_name["validate"]["file"] == __file__
    assert isinstance(by_name["validate"]["line"], int)
    assert by_name["validate"]["qualname"].endswith("UserUpdate.validate")
    assert document["edges"][0] == {"source": "admin_action", "target": "validate"}
    assert len(document["edges"]) == 6


def test_json_round_trips_hostile_names() -> None:
    _flow_of(
        "json_hostile",
        [(name, []) if i == 0 else (name, [HOSTILE[0]]) for i, name in enumerate(HOSTILE)],
    )
    document = json.loads(generate_dag("json_hostile", format="json"))
    assert sorted(node["name"] for node in document["nodes"]) == sorted(HOSTILE)


# -- files --------------------------------------------------------------------------------------


def test_output_writes_utf8_and_markdown_gets_a_fence(tmp_path: Path) -> None:
    _order_processing()
    plain = tmp_path / "flow.mmd"
    assert generate_dag("order_processing", output=plain) == ORDER_PROCESSING
    assert plain.read_text(encoding="utf-8") == ORDER_PROCESSING + "\n"
    markdown = tmp_path / "docs" / "flows" / "order.md"
    generate_dag("order_processing", output=markdown)
    assert markdown.read_text(encoding="utf-8") == f"```mermaid\n{ORDER_PROCESSING}\n```\n"
    dot_md = tmp_path / "order_dot.md"
    generate_dag("order_processing", format="dot", output=str(dot_md))
    assert dot_md.read_text(encoding="utf-8").startswith("```dot\ndigraph")


def test_markdown_fence_outgrows_backticks_in_the_content(tmp_path: Path) -> None:
    _flow_of("ticks", [("start", []), ("a ```b```` c", ["start"])])
    target = tmp_path / "ticks.md"
    generate_dag("ticks", format="json", output=target)
    content = target.read_text(encoding="utf-8")
    assert content.startswith("`````json\n")
    assert content.endswith("\n`````\n")


def test_non_ascii_names_survive_the_file(tmp_path: Path) -> None:
    _flow_of("unicode", [("début", []), ("étape", ["début"])])
    target = tmp_path / "u.json"
    generate_dag("unicode", format="json", output=target)
    assert "début" in target.read_text(encoding="utf-8")


def test_dot_never_merges_distinct_steps() -> None:
    """'a\\tb' and 'a b' quote alike; they must still be two nodes."""
    _flow_of("dot_merge", [("start", []), ("a\tb", ["start"]), ("a b", ["start"])])
    text = generate_dag("dot_merge", format="dot")
    node_lines = [line for line in text.splitlines() if "[label=" in line]
    assert len(node_lines) == 3
    ids = {line.split(" [", 1)[0].strip() for line in node_lines}
    assert len(ids) == 3
    edge_targets = {line.split("->")[1].strip(" ;") for line in text.splitlines() if "->" in line}
    assert len(edge_targets) == 2


def test_dot_output_parses_in_graphviz(tmp_path: Path) -> None:
    """Real Graphviz reads the DOT of hostile names with the expected nodes and edges."""
    import os
    import shutil
    import subprocess

    if shutil.which("dot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz `dot` is missing; .ci/run installs the graphviz package")
        pytest.skip("Graphviz `dot` is not installed (apt-get install graphviz)")
    _flow_of("dot_parse", [("start", [])] + [(name, ["start"]) for name in HOSTILE])
    source = tmp_path / "flow.dot"
    generate_dag("dot_parse", format="dot", output=source)
    result = subprocess.run(
        ["dot", "-Tjson", str(source)], capture_output=True, text=True, check=True, timeout=60
    )
    graph = json.loads(result.stdout)
    assert len(graph["objects"]) == len(HOSTILE) + 1
    assert len(graph["edges"]) == len(HOSTILE)
