"""Registration, conflicts, the read API, and validation of flows."""

from __future__ import annotations

import importlib
import re
import textwrap
import threading
from pathlib import Path

import pytest

from penstock import (
    FlowDefinitionError,
    FlowInfo,
    FlowNotFoundError,
    FlowValidationError,
    entrypoint,
    flow,
    get_flow,
    list_flows,
    step,
    validate_flow,
    validate_flows,
)
from penstock._registry import find_problems, forget_module


def test_get_flow_and_list_flows() -> None:
    @flow("registry_read")
    class Read:
        @entrypoint
        def a(self) -> None: ...

        @step(after="a")
        def b(self) -> None: ...

    info = get_flow("registry_read")
    assert isinstance(info, FlowInfo)
    assert info.name == "registry_read"
    assert "registry_read" in list_flows()
    assert list_flows() == sorted(list_flows())
    with pytest.raises(TypeError):
        info.steps["c"] = info.steps["a"]  # type: ignore[index]


def test_unknown_flow_lists_the_known_ones() -> None:
    @entrypoint("known_one")
    def one() -> None: ...

    with pytest.raises(FlowNotFoundError) as caught:
        get_flow("zzz")
    error = caught.value
    assert isinstance(error, KeyError)
    assert error.flow == "zzz"
    assert "known_one" in error.known
    message = str(error)
    assert message.startswith("No flow named 'zzz' is registered (known flows: ")
    assert "'known_one'" in message
    assert message.endswith("import the module that defines it before asking for it.")


def test_conflicting_definitions_name_both_locations() -> None:
    @entrypoint("conflicts")
    def start() -> None: ...

    first_line = start.__wrapped__.__code__.co_firstlineno  # type: ignore[attr-defined]

    def make_other() -> None:
        @step("conflicts", name="start")
        def other() -> None: ...

    with pytest.raises(FlowDefinitionError) as caught:
        make_other()
    message = str(caught.value)
    assert "Step 'start' is defined twice in flow 'conflicts'" in message
    assert f"{__file__}:{first_line}" in message
    assert "other" in message
    assert message.count(__file__) == 2
    assert "name=..." in message


def test_reimporting_the_same_definition_is_fine(module_dir: Path) -> None:
    source = module_dir / "regmod_reload.py"
    source.write_text(
        textwrap.dedent(
            """
            from penstock import entrypoint, flow, step

            @flow("reloaded")
            class Reloaded:
                @entrypoint
                def start(self) -> None: ...

                @step(after="start")
                def finish(self) -> None: ...
            """
        )
    )
    module = importlib.import_module("regmod_reload")
    importlib.reload(module)
    # Edited and reloaded: the new definition replaces the old one.
    source.write_text(source.read_text().replace('after="start"', 'after=["start"], name="finish"'))
    importlib.reload(module)
    assert set(get_flow("reloaded").steps) == {"start", "finish"}


def test_forget_module_drops_its_steps(module_dir: Path) -> None:
    (module_dir / "regmod_forget.py").write_text(
        "from penstock import entrypoint\n@entrypoint('forgotten')\ndef start() -> None: ...\n"
    )
    importlib.import_module("regmod_forget")
    assert "forgotten" in list_flows()
    forget_module("regmod_forget")
    assert "forgotten" not in list_flows()


def test_concurrent_imports_register_consistently(module_dir: Path) -> None:
    """16 threads import 16 flow modules at the same instant; every step is registered."""
    count = 16
    for index in range(count):
        lines = ["from penstock import entrypoint, step", ""]
        lines += [f"@entrypoint('shared_flow', name='start_{index}')", "def start(): ...", ""]
        for k in range(20):
            lines += [f"@step('shared_flow', after='start_{index}', name='s{index}_{k}')"]
            lines += [f"def s{k}(): ...", ""]
        (module_dir / f"regmod_conc_{index}.py").write_text("\n".join(lines))
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def load(index: int) -> None:
        try:
            barrier.wait()
            importlib.import_module(f"regmod_conc_{index}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    steps = get_flow("shared_flow").steps
    assert len(steps) == count * 21
    validate_flow("shared_flow")


# -- validation ---------------------------------------------------------------------------------


def test_valid_flow_passes() -> None:
    @flow("valid")
    class Valid:
        @entrypoint
        def a(self) -> None: ...

        @step(after="a")
        def b(self) -> None: ...

    validate_flow("valid")
    assert find_problems("valid") == []


def test_unknown_after_with_suggestion() -> None:
    @flow("typo")
    class Typo:
        @entrypoint
        def receive_order(self) -> None: ...

        @step(after="recieve_order")
        def validate(self) -> None: ...

    with pytest.raises(FlowValidationError) as caught:
        validate_flow("typo")
    problems = [p for p in caught.value.problems if p.code == "unknown-after"]
    assert len(problems) == 1
    problem = problems[0]
    assert problem.step == "validate"
    assert problem.file == __file__
    assert "comes after 'recieve_order', which is not a step" in problem.message
    assert "Did you mean 'receive_order'?" in problem.message
    assert str(problem).startswith(f"{__file__}:{problem.line}: ")


def test_cycle_names_its_path() -> None:
    @flow("cyclic")
    class Cyclic:
        @entrypoint
        def start(self) -> None: ...

        @step(after=["start", "c"])
        def a(self) -> None: ...

        @step(after="a")
        def b(self) -> None: ...

        @step(after="b")
        def c(self) -> None: ...

    problems = find_problems("cyclic")
    assert [p.code for p in problems] == ["cycle"]
    assert "a -> b -> c -> a" in problems[0].message


def test_unreachable_steps_and_missing_entrypoints() -> None:
    @flow("islands")
    class Islands:
        @entrypoint
        def start(self) -> None: ...

        @step(after="start")
        def reached(self) -> None: ...

        @step
        def island(self) -> None: ...

    @step("headless")
    def lonely() -> None: ...

    codes = {(p.code, p.step) for p in find_problems("islands")}
    assert codes == {("unreachable", "island")}
    headless = find_problems("headless")
    assert [(p.code, p.step) for p in headless] == [("no-entrypoint", None)]
    assert "mark the function where it starts with @entrypoint" in headless[0].message


def test_validation_reports_every_problem_at_once() -> None:
    @flow("many_problems")
    class Many:
        @entrypoint
        def start(self) -> None: ...

        @step(after="nowhere")
        def a(self) -> None: ...

        @step(after="b")
        def b(self) -> None: ...

    with pytest.raises(FlowValidationError) as caught:
        validate_flow("many_problems")
    codes = sorted((p.code, p.step) for p in caught.value.problems)
    # 'a' is cut off only by its misspelt after=, so it is not reported as unreachable too.
    assert codes == [("cycle", "b"), ("unknown-after", "a"), ("unreachable", "b")]
    message = str(caught.value)
    assert message.startswith("Flow validation found 3 problems:\n")
    assert message.count(__file__) == 3
    assert isinstance(caught.value, ValueError)


def test_validate_flows_covers_all_flows() -> None:
    @step("broken_a")
    def a() -> None: ...

    @entrypoint("broken_b")
    def start() -> None: ...

    @step("broken_b", after="missing")
    def b() -> None: ...

    with pytest.raises(FlowValidationError) as caught:
        validate_flows()
    flows = {p.flow for p in caught.value.problems}
    assert {"broken_a", "broken_b"} <= flows


def test_validate_flow_unknown_name() -> None:
    with pytest.raises(FlowNotFoundError):
        validate_flow("does_not_exist")


def test_single_problem_message_is_singular() -> None:
    @step("single_problem")
    def only() -> None: ...

    with pytest.raises(FlowValidationError, match="found 1 problem:"):
        validate_flow("single_problem")


def test_deep_flow_validates_without_recursion() -> None:
    """A 5,000-step chain validates; the search is iterative."""

    @entrypoint("deep")
    def s0() -> None: ...

    for index in range(1, 5000):

        def body() -> None: ...

        step("deep", after=f"s{index - 1}", name=f"s{index}")(body)

    validate_flow("deep")


def test_unknown_flow_suggests_a_close_name_and_caps_the_list() -> None:
    for index in range(25):
        entrypoint(f"many_{index:02d}", name="start")(lambda_free_body)
    with pytest.raises(FlowNotFoundError) as caught:
        get_flow("many-07")
    message = str(caught.value)
    assert "did you mean 'many_07'?" in message
    listed = message.split("known flows: ")[1].split(")", maxsplit=1)[0]
    assert listed.count("'") == 2 * 20, "twenty names, then a count of the rest"
    assert re.search(r" and \d+ more$", listed)


def lambda_free_body() -> None:
    """A module-level function reused as the body of generated steps."""


def test_two_definitions_in_one_module_execution_conflict(module_dir: Path) -> None:
    """Redefining a step further down the same module is a mistake, not a re-import."""
    (module_dir / "regmod_twice.py").write_text(
        "from penstock import entrypoint\n"
        "@entrypoint('twice_in_module')\n"
        "def start() -> None: ...\n"
        "@entrypoint('twice_in_module')\n"
        "def start() -> None: ...\n"
    )
    with pytest.raises(FlowDefinitionError, match=r"regmod_twice.py:2 and .*regmod_twice.py:4"):
        importlib.import_module("regmod_twice")


def test_lambdas_need_a_name() -> None:
    with pytest.raises(FlowDefinitionError, match="has no name of its own"):
        step("lambdas")(lambda: 1)
    named = step("lambdas", name="one")(lambda: 1)
    assert "one" in get_flow("lambdas").steps
    assert callable(named)


def test_validate_flows_reports_steps_that_joined_no_flow() -> None:
    class Forgotten:  # no @flow on the class
        @entrypoint
        def start(self) -> None: ...

    with pytest.raises(FlowValidationError) as caught:
        validate_flows()
    orphans = [p for p in caught.value.problems if p.code == "no-flow"]
    assert [(p.flow, p.step) for p in orphans] == [(None, "start")]
    assert "Forgotten.start) is not part of any flow" in orphans[0].message
    assert orphans[0].file == __file__
    del Forgotten


def test_joining_a_flow_clears_the_orphan_record() -> None:
    @flow("adopted")
    class Adopted:
        @entrypoint
        def start(self) -> None: ...

    validate_flow("adopted")
    from penstock._registry import _orphan_problems

    assert not [p for p in _orphan_problems() if p.step == "start" and "Adopted" in p.message]


def test_a_flow_the_graph_shows_sound_gets_the_same_verdict_as_the_full_check() -> None:
    """The docs' shortcut (no problem, judged from the graph alone) agrees with the searches."""
    import random

    from penstock._dag import FlowGraph
    from penstock._registry import _problems
    from penstock._types import StepInfo

    rng = random.Random(20261122)
    sound = 0
    for index in range(600):
        names = [f"s{n}" for n in range(rng.randint(1, 9))]
        steps = {}
        for position, name in enumerate(names):
            # Mostly earlier steps (a DAG), sometimes a later one (a cycle) or a misspelling.
            pool = names[:position] or names
            wanted = rng.randint(1, 2) if rng.random() < 0.9 else 0  # 0: a source of its own
            after = rng.sample(pool, k=min(len(pool), wanted)) if position else []
            if rng.random() < 0.05:
                after.append(rng.choice(names))
            if rng.random() < 0.05:
                after.append("ghost")
            steps[name] = StepInfo(
                name=name,
                flow=f"random_{index}",
                entrypoint=position == 0 or rng.random() < 0.15,
                after=tuple(after),
                module=__name__,
                qualname=name,
                file=__file__,
                line=position + 1,
                doc="",
                kind="function",
            )
        info = FlowInfo(name=f"random_{index}", steps=steps)
        full = _problems(info)
        assert _problems(info, graph=FlowGraph(info)) == full
        sound += not full
    assert 100 < sound < 500  # both verdicts were put to the test, many times
