"""The three API forms, every kind of callable, and what the wrappers preserve."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from penstock import (
    FlowDefinitionError,
    NotInFlowError,
    current_flow_id,
    entrypoint,
    flow,
    get_flow,
    step,
)
from tests.conftest import CapturedRecords


def test_class_form_registers_every_marked_method() -> None:
    """@flow on a class registers bare @entrypoint, @step and @step(after=...) methods."""

    @flow("orders")
    class Orders:
        @entrypoint
        def receive(self, order_id: str) -> str:
            return self.validate(order_id)

        @step(after="receive")
        def validate(self, order_id: str) -> str:
            return order_id.upper()

        @step
        def standalone(self) -> None: ...

    info = get_flow("orders")
    assert list(info.steps) == ["receive", "validate", "standalone"]
    assert [s.name for s in info.entrypoints] == ["receive"]
    assert info.steps["validate"].after == ("receive",)
    assert info.steps["standalone"].after == ()
    assert Orders().receive("ord-1") == "ORD-1"
    assert Orders.__penstock_flow__ == "orders"  # type: ignore[attr-defined]


def test_entrypoint_name_option_renames_the_step() -> None:
    """@entrypoint(name=...) gives the step a name other than the method's."""

    @flow("renamed")
    class Renamed:
        @entrypoint(name="http_post")
        def post(self) -> str:
            return self.work()

        @step(after="http_post", name="do_work")
        def work(self) -> str:
            return "done"

    info = get_flow("renamed")
    assert set(info.steps) == {"http_post", "do_work"}
    assert info.steps["do_work"].after == ("http_post",)
    assert Renamed().post() == "done"


def test_bare_flow_on_a_class_uses_the_class_name() -> None:
    @flow
    class Billing:
        @entrypoint
        def charge(self) -> None: ...

    assert get_flow("Billing").steps["charge"].entrypoint
    assert Billing.__penstock_flow__ == "Billing"  # type: ignore[attr-defined]


def test_flow_name_as_keyword() -> None:
    @flow(name="kw_flow")
    class KwFlow:
        @entrypoint
        def start(self) -> None: ...

    assert "start" in get_flow("kw_flow").steps
    assert KwFlow.__penstock_flow__ == "kw_flow"  # type: ignore[attr-defined]


def test_function_form_stacks_flow_above_entrypoint_and_step() -> None:
    """The architecture page's form: @flow("name") above @entrypoint / @step on functions."""

    @flow("bom_sync")
    @entrypoint
    def handle_message(msg: dict[str, str]) -> str:
        return sync_reference(msg["part"])

    @flow("bom_sync")
    @step(after="handle_message")
    def sync_reference(part: str) -> str:
        return f"synced {part} in {current_flow_id() is not None}"

    info = get_flow("bom_sync")
    assert info.edges == (("handle_message", "sync_reference"),)
    assert handle_message({"part": "P-1"}) == "synced P-1 in True"


def test_explicit_form_names_the_flow_in_the_decorator() -> None:
    """penstock 0.1.0's form: @entrypoint("flow") and @step("flow", after=...)."""

    @entrypoint("explicit")
    def begin() -> int:
        return finish(1)

    @step("explicit", after=begin)
    def finish(value: int) -> int:
        return value + 1

    assert get_flow("explicit").edges == (("begin", "finish"),)
    assert begin() == 2


def test_forms_can_be_mixed_in_one_flow() -> None:
    """A class-form flow can gain steps declared elsewhere in explicit form."""

    @flow("mixed")
    class Mixed:
        @entrypoint
        def start(self) -> None:
            audit()

    @step("mixed", after="start")
    def audit() -> None: ...

    assert get_flow("mixed").edges == (("start", "audit"),)
    Mixed().start()


def test_after_accepts_names_callables_and_lists_of_both() -> None:
    @flow("after_forms")
    class AfterForms:
        @entrypoint
        def a(self) -> None: ...

        @entrypoint
        def b(self) -> None: ...

        @step(after=a)
        def c(self) -> None: ...

        @step(after=["a", b, c])
        def d(self) -> None: ...

        @step(after=("c", "c", d))
        def e(self) -> None: ...

        @step(after=[e, "e", d])
        def f(self) -> None: ...

    steps = get_flow("after_forms").steps
    assert steps["c"].after == ("a",)
    assert steps["d"].after == ("a", "b", "c")
    assert steps["e"].after == ("c", "d"), "duplicates are dropped, order kept"
    assert steps["f"].after == ("e", "d"), "a step named and passed is one predecessor"


def test_after_can_reference_a_classmethod_step() -> None:
    @flow("after_classmethod")
    class Flow:
        @entrypoint
        @classmethod
        def start(cls) -> None: ...

        @step(after=start)
        def then(self) -> None: ...

    assert get_flow("after_classmethod").steps["then"].after == ("start",)


def test_methods_classmethods_and_staticmethods_in_either_order() -> None:
    """@step works above and below @classmethod / @staticmethod."""

    @flow("method_kinds")
    class Kinds:
        factor = 3

        @entrypoint
        def run(self, value: int) -> list[int]:
            return [
                self.instance(value),
                self.cls_above(value),
                self.cls_below(value),
                self.static_above(value),
                self.static_below(value),
                Kinds.cls_above(value),
                Kinds.static_below(value),
            ]

        @step(after="run")
        def instance(self, value: int) -> int:
            return value * self.factor

        @step(after="run")
        @classmethod
        def cls_above(cls, value: int) -> int:
            return value * cls.factor

        @classmethod
        @step(after="run")
        def cls_below(cls, value: int) -> int:
            return value * cls.factor

        @step(after="run")
        @staticmethod
        def static_above(value: int) -> int:
            return value + 1

        @staticmethod
        @step(after="run")
        def static_below(value: int) -> int:
            return value + 2

    assert Kinds().run(2) == [6, 6, 6, 3, 4, 6, 4]
    assert isinstance(Kinds.__dict__["cls_above"], classmethod)
    assert isinstance(Kinds.__dict__["static_below"], staticmethod)
    assert set(get_flow("method_kinds").steps) == {
        "run",
        "instance",
        "cls_above",
        "cls_below",
        "static_above",
        "static_below",
    }


def test_wrapper_keeps_identity_signature_and_kind() -> None:
    """__name__, __qualname__, __doc__, __wrapped__, signature and inspect's verdicts survive."""

    def plain(a: int, b: str = "x", *rest: int, key: bool = False, **extra: Any) -> str:
        """Do a plain thing.

        More text.
        """
        return f"{a}{b}{rest}{key}{extra}"

    async def coro(x: int) -> int:
        return x

    def gen(n: int) -> Iterator[int]:
        yield from range(n)

    async def agen(n: int) -> AsyncIterator[int]:
        for i in range(n):
            yield i

    for original in (plain, coro, gen, agen):
        wrapped = step("kinds_flow")(original)
        assert wrapped is not original
        assert wrapped.__name__ == original.__name__
        assert wrapped.__qualname__ == original.__qualname__
        assert wrapped.__doc__ == original.__doc__
        assert wrapped.__module__ == original.__module__
        assert wrapped.__wrapped__ is original
        assert inspect.signature(wrapped) == inspect.signature(original)
        assert inspect.iscoroutinefunction(wrapped) == inspect.iscoroutinefunction(original)
        assert inspect.isasyncgenfunction(wrapped) == inspect.isasyncgenfunction(original)
        assert inspect.isgeneratorfunction(wrapped) == inspect.isgeneratorfunction(original)

    kinds = {name: info.kind for name, info in get_flow("kinds_flow").steps.items()}
    assert kinds == {
        "plain": "function",
        "coro": "coroutine",
        "gen": "generator",
        "agen": "async_generator",
    }


def test_step_records_module_qualname_location_and_doc() -> None:
    @flow("located")
    class Located:
        @entrypoint
        def start(self) -> None:
            """Start here.

            Not this line.
            """

        @step(after="start")
        def undocumented(self) -> None: ...

    line = inspect.getsourcelines(Located.start)[1]
    info = get_flow("located").steps["start"]
    assert info.module == __name__
    assert info.qualname.endswith("Located.start")
    assert info.file == __file__
    assert info.line == line
    assert info.location == f"{__file__}:{line}"
    assert info.doc == "Start here."
    assert get_flow("located").steps["undocumented"].doc == ""


def test_undecorated_function_stays_callable_via_wrapped() -> None:
    """Zero magic: the original function is there for unit tests, no flow needed."""

    @step("unit_tested", after="x")
    def compute(value: int) -> int:
        return value * 10

    with pytest.raises(NotInFlowError):
        compute(1)
    assert compute.__wrapped__(1) == 10  # type: ignore[attr-defined]


def test_async_entrypoint_and_steps() -> None:
    @flow("async_pipeline")
    class Pipeline:
        @entrypoint
        async def ingest(self, url: str) -> tuple[str, str | None]:
            return await self.transform(url), current_flow_id()

        @step(after="ingest")
        async def transform(self, raw: str) -> str:
            await asyncio.sleep(0)
            return raw.upper()

    result, cid = asyncio.run(Pipeline().ingest("https://example.com"))
    assert result == "HTTPS://EXAMPLE.COM"
    assert cid is not None
    assert current_flow_id() is None


def test_generator_send_throw_close_and_return_value_are_forwarded() -> None:
    """A generator step behaves exactly like the generator it wraps."""
    seen: list[object] = []

    @entrypoint("gen_protocol")
    def echo() -> Iterator[str]:
        total = 0
        while True:
            try:
                received = yield f"total={total}"
            except ValueError as exc:
                seen.append(f"caught {exc}")
                continue
            except GeneratorExit:
                seen.append("closed")
                raise
            if received is None:
                return total
            total += received

    gen = echo()
    assert next(gen) == "total=0"
    assert gen.send(5) == "total=5"
    assert gen.throw(ValueError("boom")) == "total=5"
    assert gen.send(2) == "total=7"
    with pytest.raises(StopIteration) as stop:
        gen.send(None)
    assert stop.value.value == 7
    assert seen == ["caught boom"]

    early = echo()
    next(early)
    early.close()
    assert seen == ["caught boom", "closed"]


def test_generator_exception_propagates_unchanged() -> None:
    error = KeyError("missing")

    @entrypoint("gen_error")
    def failing() -> Iterator[int]:
        yield 1
        raise error

    gen = failing()
    assert next(gen) == 1
    with pytest.raises(KeyError) as caught:
        next(gen)
    assert caught.value is error


def test_async_generator_asend_athrow_aclose_are_forwarded() -> None:
    seen: list[str] = []

    @entrypoint("agen_protocol")
    async def counter() -> AsyncIterator[str]:
        total = 0
        try:
            while True:
                try:
                    received = yield f"total={total}"
                except ValueError:
                    seen.append("caught")
                    continue
                await asyncio.sleep(0)
                total += received or 0
        finally:
            seen.append(f"finally cid={current_flow_id() is not None}")

    async def drive() -> list[str]:
        agen = counter()
        out = [await agen.__anext__()]
        out.append(await agen.asend(3))
        out.append(await agen.athrow(ValueError("x")))
        out.append(await agen.asend(4))
        await agen.aclose()
        return out

    assert asyncio.run(drive()) == ["total=0", "total=3", "total=3", "total=7"]
    assert seen == ["caught", "finally cid=True"]


def test_nested_step_sees_outer_flow_inside_generator() -> None:
    @flow("gen_nesting")
    class GenFlow:
        @entrypoint
        def produce(self, n: int) -> Iterator[str | None]:
            for _ in range(n):
                yield self.label()

        @step(after="produce")
        def label(self) -> str | None:
            return current_flow_id()

    ids = list(GenFlow().produce(3))
    assert len(set(ids)) == 1
    assert ids[0] is not None
    assert current_flow_id() is None


# -- misuse -------------------------------------------------------------------------------------


def test_step_of_a_class_without_flow_explains_itself() -> None:
    class NoFlow:
        @entrypoint
        def start(self) -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"'start' .* is not part of any flow; put @flow"):
        NoFlow().start()


def test_bare_step_function_without_flow_explains_itself() -> None:
    @step
    def lonely() -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"Step 'lonely' .* not part of any flow"):
        lonely()


@pytest.mark.parametrize("bad", [42, None, 3.5])
def test_decorating_a_non_callable_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="decorates functions and methods"):
        step("flow_x")(bad)
    with pytest.raises(TypeError, match="decorates functions and methods"):
        entrypoint("flow_x")(bad)


def test_step_on_a_class_points_to_flow() -> None:
    with pytest.raises(TypeError, match=r"not classes like .*Thing; put @flow"):

        @step("flow_y")
        class Thing:
            pass


@pytest.mark.parametrize("bad", ["", "   ", "\t\n", "\u3000"])
def test_empty_flow_name_is_rejected(bad: str) -> None:
    with pytest.raises(FlowDefinitionError, match="The flow name must not be empty"):
        flow(bad)
    with pytest.raises(FlowDefinitionError, match="The flow name must not be empty"):
        entrypoint(bad)
    with pytest.raises(FlowDefinitionError, match="The flow name must not be empty"):
        step(bad)


@pytest.mark.parametrize("bad", ["", " ", "\u2003\n"])
def test_blank_step_names_are_rejected(bad: str) -> None:
    with pytest.raises(FlowDefinitionError, match="The step's name= must not be empty"):
        step("named_flow", name=bad)
    with pytest.raises(FlowDefinitionError, match="The entrypoint's name= must not be empty"):
        entrypoint("named_flow", name=bad)
    with pytest.raises(FlowDefinitionError, match="A step name in after= must not be empty"):
        step("named_flow", after=bad)


def test_names_may_be_str_subclasses() -> None:
    class Name(str):
        pass

    @entrypoint(Name("subclassed_flow"), name=Name("begin"))
    def begin() -> None: ...

    @step(Name("subclassed_flow"), after=Name("begin"), name=Name("then"))
    def then() -> None: ...

    assert get_flow("subclassed_flow").edges == (("begin", "then"),)


def test_non_string_flow_name_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="@flow takes a flow name"):
        flow(12)  # type: ignore[call-overload]


def test_flow_without_name_on_a_function_asks_for_one() -> None:
    @entrypoint
    def start() -> None: ...

    with pytest.raises(FlowDefinitionError, match=r'needs the flow\'s name: write @flow\("name"\)'):
        flow(start)  # type: ignore[call-overload]


def test_flow_on_a_plain_function_asks_for_entrypoint_or_step() -> None:
    def plain() -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"put @entrypoint or @step\(...\) between"):
        flow("plain_flow")(plain)


def test_flow_on_a_class_without_steps_says_so() -> None:
    with pytest.raises(FlowDefinitionError, match="found no methods marked with @entrypoint"):

        @flow("empty_class")
        class Empty:
            def method(self) -> None: ...


@pytest.mark.parametrize("bad", [3, {"a": 1}, [1], object()])
def test_after_of_the_wrong_type(bad: object) -> None:
    with pytest.raises(TypeError, match="after= takes"):
        step("f", after=bad)  # type: ignore[arg-type]


def test_after_with_an_undecorated_function() -> None:
    def helper() -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"which is not a penstock step; decorate it"):
        step("f", after=helper)


def test_after_with_an_empty_name() -> None:
    with pytest.raises(FlowDefinitionError, match="A step name in after= must not be empty"):
        step("f", after=["ok", ""])


def test_after_across_flows_is_rejected() -> None:
    @entrypoint("flow_one")
    def one() -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"which is a step of flow 'flow_one'"):

        @step("flow_two", after=one)
        def two() -> None: ...


def test_step_cannot_join_two_flows() -> None:
    with pytest.raises(FlowDefinitionError, match=r"already belongs to flow 'first'"):

        @flow("second")
        @step("first")
        def shared() -> None: ...


def test_decorating_twice_is_rejected() -> None:
    with pytest.raises(FlowDefinitionError, match="already an entrypoint or step"):

        @step("twice")
        @entrypoint("twice")
        def both() -> None: ...


def test_flow_name_given_twice_is_rejected() -> None:
    with pytest.raises(TypeError, match="takes the flow's name once"):
        flow("a", name="b")  # type: ignore[call-overload]


@pytest.mark.parametrize("bad", [3, 2.5, b"flow"])
def test_first_argument_must_be_a_function_or_a_flow_name(bad: object) -> None:
    with pytest.raises(
        TypeError, match=r"@step takes the function to decorate, or the flow's name"
    ):
        step(bad)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"@entrypoint takes the function to decorate, or the flow"):
        entrypoint(bad)  # type: ignore[call-overload]


# -- regressions found in review ----------------------------------------------------------------


def test_abandoned_async_generator_closes_once_inside_its_flow(
    step_records: CapturedRecords,
) -> None:
    """An async generator left unfinished when the loop stops is closed once, in the flow."""
    seen: list[str | None] = []
    loop_errors: list[dict[str, object]] = []
    keep: list[object] = []

    @step("abandoned")
    async def numbers() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            await asyncio.sleep(0)
            seen.append(current_flow_id())

    @entrypoint("abandoned")
    async def start() -> str | None:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
        gen = numbers()
        keep.append(gen)  # still referenced when the loop shuts down
        await gen.__anext__()
        return current_flow_id()

    cid = asyncio.run(start())
    assert loop_errors == []
    assert seen == [cid]
    ends = [r for r in step_records if getattr(r, "event", None) == "step.end"]
    outcomes = {r.step: r.outcome for r in ends}  # type: ignore[attr-defined]
    assert outcomes == {"start": "ok", "numbers": "cancelled"}


def test_throwing_generator_exit_behaves_like_the_plain_generator() -> None:
    """A generator may catch GeneratorExit thrown in and keep yielding; so may the wrapped one."""

    def plain() -> Iterator[str]:
        try:
            yield "first"
        except GeneratorExit:
            yield "caught"

    wrapped = entrypoint("gen_exit")(plain)
    for factory in (plain, wrapped):
        gen = factory()
        assert next(gen) == "first"
        assert gen.throw(GeneratorExit) == "caught"
        gen.close()
        with pytest.raises(StopIteration):
            next(gen)


def test_generator_step_iterated_outside_its_flow_says_so() -> None:
    @step("lazy_step")
    def rows() -> Iterator[int]:
        yield 1

    @entrypoint("lazy_step")
    def make() -> Iterator[int]:
        return rows()  # created inside the flow, iterated by the caller afterwards

    gen = make()
    with pytest.raises(NotInFlowError, match="was first iterated outside a running flow"):
        next(gen)


def test_ids_do_not_depend_on_the_global_random_seed() -> None:
    import random

    @entrypoint("seeded")
    def start() -> str | None:
        return current_flow_id()

    random.seed(42)
    first = start()
    after_first = random.random()
    random.seed(42)
    second = start()
    assert first != second
    random.seed(42)
    assert random.random() == after_first, "penstock must not consume the application's sequence"


def test_wrapper_metadata_matches_functools_wraps() -> None:
    """The direct copy of a function's metadata gives what functools.update_wrapper gives."""
    import functools

    def original(a: int, *, b: str = "") -> str:
        """Summary."""
        return f"{a}{b}"

    original.custom = "kept"  # type: ignore[attr-defined]
    original.__wrapped__ = len  # type: ignore[attr-defined] - replaced by the original itself

    ours = step("metadata_flow")(original)

    def reference(*args: Any, **kwargs: Any) -> Any: ...

    functools.update_wrapper(reference, original)
    for attribute in (*functools.WRAPPER_ASSIGNMENTS, "__wrapped__"):
        assert getattr(ours, attribute) == getattr(reference, attribute), attribute
    assert ours.__annotations__ is original.__annotations__
    assert ours.custom == "kept"  # type: ignore[attr-defined]
    assert ours.__wrapped__ is original  # type: ignore[attr-defined]
    assert {k: v for k, v in vars(ours).items() if k != "__penstock_step__"} == vars(reference)


def test_callable_objects_get_their_metadata_from_update_wrapper() -> None:
    class Handler:
        """Handles things."""

        __name__ = "handler"
        __qualname__ = "Handler.instance"

        def __call__(self) -> str:
            return "handled"

    instance = Handler()
    wrapped = entrypoint("callable_object_flow")(instance)
    assert wrapped() == "handled"
    assert wrapped.__wrapped__ is instance
    assert wrapped.__name__ == "handler"
    assert wrapped.__doc__ == "Handles things."
    assert get_flow("callable_object_flow").steps["handler"].doc == "Handles things."


_doc_cases = itertools.count()


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   \n\t\n", ""),
        ("One line.", "One line."),
        ("  Padded.  ", "Padded."),
        ("\n\n    After blank lines.\n\n    Body.\n    ", "After blank lines."),
        ("Windows line\r\nends.", "Windows line"),
        ("Old Mac\rline ends.", "Old Mac"),
        ("Tab\tinside, then\u2028a line separator", "Tab\tinside, then"),
    ],
)
def test_doc_is_the_first_non_blank_line(doc: str | None, expected: str) -> None:
    def documented() -> None: ...

    documented.__doc__ = doc
    name = f"case_{next(_doc_cases)}"
    step("doc_lines", name=name)(documented)
    assert get_flow("doc_lines").steps[name].doc == expected
    # The same answer as the obvious definition.
    lines = [line.strip() for line in (doc or "").splitlines() if line.strip()]
    assert expected == (lines[0] if lines else "")


def test_a_step_is_one_record_that_becomes_its_step_info(step_records: CapturedRecords) -> None:
    """What the registry holds is what the running step reports: one object, immutable."""
    from penstock._context import _current_step

    seen: list[object] = []

    @entrypoint("one_record")
    def start() -> None:
        seen.append(_current_step.get())

    start()  # recorded (step_records), so the step is made current
    assert len(step_records) == 2
    registered = get_flow("one_record").steps["start"]
    assert seen == [registered]
    assert seen[0] is registered
    with pytest.raises(AttributeError, match="immutable"):
        registered.name = "other"  # type: ignore[misc]


def test_a_step_refused_by_the_registry_stays_out_of_every_flow() -> None:
    """A duplicate name leaves the second step unregistered, runnable nowhere, listed as such."""
    from penstock._registry import _orphan_problems

    @entrypoint("refused_flow")
    def start() -> None: ...

    class Duplicate:
        @entrypoint
        def start(self) -> None: ...

    with pytest.raises(FlowDefinitionError, match="defined twice"):
        flow("refused_flow")(Duplicate)
    assert get_flow("refused_flow").steps["start"].qualname.endswith("<locals>.start")
    with pytest.raises(FlowDefinitionError, match="is not part of any flow"):
        Duplicate().start()
    orphans = [p for p in _orphan_problems() if p.step == "start" and "Duplicate" in p.message]
    assert len(orphans) == 1
    # Where its name is free, the same class joins a flow after all.
    flow("accepted_flow")(Duplicate)
    assert "start" in get_flow("accepted_flow").steps
    assert not [p for p in _orphan_problems() if "Duplicate" in p.message]


def test_giving_a_class_the_same_flow_twice_is_harmless() -> None:
    @flow("twice_flow")
    class Twice:
        @entrypoint
        def start(self) -> str:
            return "ran"

    before = get_flow("twice_flow").steps["start"]
    flow("twice_flow")(Twice)
    assert get_flow("twice_flow").steps["start"] is before
    assert Twice().start() == "ran"


def test_a_step_cannot_run_before_its_registration_finishes() -> None:
    """Joining publishes the step last, under the registry's lock: no call sees it half-joined."""
    from penstock._registry import _lock

    class Late:
        @entrypoint
        def start(self) -> str:
            return "ran"

    def join() -> None:
        flow("late_flow")(Late)

    with _lock:  # the join below waits for it after filling in the record
        worker = threading.Thread(target=join)
        worker.start()
        worker.join(0.2)  # time to get as far as the lock; it cannot get further
        assert worker.is_alive()
        with pytest.raises(FlowDefinitionError, match="is not part of any flow"):
            Late().start()
    worker.join(5)
    assert Late().start() == "ran"
    assert get_flow("late_flow").steps["start"].flow == "late_flow"


def test_joining_the_same_flow_again_checks_after_again() -> None:
    def shared() -> None: ...

    shared_step = step(shared)  # not in a flow yet

    class Uses:
        @entrypoint
        def start(self) -> None: ...

        @step(after=shared_step)
        def then(self) -> None: ...

    flow("rejoin_a")(Uses)
    flow("rejoin_b")(shared_step)
    with pytest.raises(FlowDefinitionError, match="which is a step of flow 'rejoin_b'"):
        flow("rejoin_a")(Uses)
