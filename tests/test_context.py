"""Correlation IDs, nesting, metadata, and isolation under real concurrency."""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from penstock import (
    FlowContext,
    NotInFlowError,
    carry_flow,
    current_flow_id,
    entrypoint,
    flow,
    get_flow_context,
    get_flow_context_value,
    set_flow_context_value,
    step,
)
from penstock._context import new_flow_id

HEX32 = re.compile(r"[0-9a-f]{32}\Z")


def test_new_ids_are_32_lowercase_hex_and_never_zero() -> None:
    ids = [new_flow_id() for _ in range(2000)]
    assert all(HEX32.match(cid) for cid in ids)
    assert all(int(cid, 16) != 0 for cid in ids)
    assert len(set(ids)) == len(ids)


def test_ids_use_all_128_bits() -> None:
    """Unlike uuid4, no bit is fixed: every one of the 128 bits is seen both set and clear."""
    values = [int(new_flow_id(), 16) for _ in range(400)]
    always_set = ~0
    ever_set = 0
    for value in values:
        always_set &= value
        ever_set |= value
    assert ever_set == (1 << 128) - 1
    assert always_set == 0
    # The version nibble uuid4 pins to 4 takes many values here.
    assert len(Counter((value >> 76) & 0xF for value in values)) > 8


def test_each_top_level_call_gets_a_fresh_id_shared_by_its_steps() -> None:
    seen: list[tuple[str | None, str | None]] = []

    @flow("fresh_ids")
    class Fresh:
        @entrypoint
        def start(self) -> None:
            self.inner()

        @step(after="start")
        def inner(self) -> None:
            ctx = get_flow_context()
            assert ctx is not None
            seen.append((current_flow_id(), ctx.flow_id))

    Fresh().start()
    Fresh().start()
    assert seen[0][0] == seen[0][1]
    assert seen[0][0] != seen[1][0]
    assert all(cid is not None and HEX32.match(cid) for pair in seen for cid in pair)


def test_outside_a_flow() -> None:
    assert current_flow_id() is None
    assert get_flow_context() is None
    assert get_flow_context_value("anything") is None
    assert get_flow_context_value("anything", 42) == 42
    with pytest.raises(NotInFlowError, match=r"set_flow_context_value\('user', ...\) was called"):
        set_flow_context_value("user", "alice")
    # Failing to set must not have created a context.
    assert get_flow_context() is None


def test_set_flow_context_value_requires_a_string_key() -> None:
    @entrypoint("bad_key")
    def start() -> None:
        set_flow_context_value(1, "x")  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="needs a str key, got int"):
        start()


def test_step_outside_a_flow_names_itself_and_the_fix() -> None:
    @step("orphan_flow", after="x")
    def orphan() -> None: ...

    with pytest.raises(NotInFlowError) as caught:
        orphan()
    message = str(caught.value)
    assert "'orphan'" in message
    assert "'orphan_flow'" in message
    assert "__wrapped__" in message
    assert isinstance(caught.value, RuntimeError)


def test_metadata_flows_from_step_to_step() -> None:
    """The guide's context example: values set early are read by later steps."""
    out: list[str] = []

    @flow("context_demo")
    class ContextDemo:
        @entrypoint
        def start(self, user: str) -> None:
            set_flow_context_value("user", user)
            set_flow_context_value("source", "api")
            self.process()
            self.finish()

        @step(after="start")
        def process(self) -> None:
            out.append(f"{get_flow_context_value('user')}/{get_flow_context_value('source')}")
            set_flow_context_value("processed", True)

        @step(after="process")
        def finish(self) -> None:
            out.append(f"processed={get_flow_context_value('processed', False)}")

    ContextDemo().start("alice")
    assert out == ["alice/api", "processed=True"]
    assert get_flow_context_value("user") is None


def test_flow_context_is_a_read_only_view() -> None:
    captured: list[FlowContext] = []

    @entrypoint("readonly")
    def start() -> None:
        set_flow_context_value("k", "v")
        ctx = get_flow_context()
        assert ctx is not None
        captured.append(ctx)

    start()
    ctx = captured[0]
    assert ctx.flow_name == "readonly"
    assert dict(ctx.metadata) == {"k": "v"}
    with pytest.raises(TypeError):
        ctx.metadata["k"] = "changed"  # type: ignore[index]
    with pytest.raises(AttributeError):
        ctx.flow_id = "x"  # type: ignore[misc]
    assert "readonly" in repr(ctx)


def test_nested_entrypoint_continues_the_id_with_its_own_metadata() -> None:
    observed: dict[str, object] = {}

    @entrypoint("outer_flow")
    def outer() -> None:
        set_flow_context_value("who", "outer")
        observed["outer_id"] = current_flow_id()
        inner()
        ctx = get_flow_context()
        assert ctx is not None
        observed["after_inner"] = (ctx.flow_name, dict(ctx.metadata), current_flow_id())

    @entrypoint("inner_flow")
    def inner() -> None:
        ctx = get_flow_context()
        assert ctx is not None
        observed["inner"] = (ctx.flow_name, dict(ctx.metadata), current_flow_id())
        set_flow_context_value("who", "inner")
        set_flow_context_value("only_inner", True)

    outer()
    outer_id = observed["outer_id"]
    assert observed["inner"] == ("inner_flow", {"who": "outer"}, outer_id)
    assert observed["after_inner"] == ("outer_flow", {"who": "outer"}, outer_id)
    assert get_flow_context() is None


def test_context_is_restored_when_an_entrypoint_raises() -> None:
    @entrypoint("raising_inner")
    def inner() -> None:
        raise ValueError("inner failed")

    @entrypoint("raising_outer")
    def outer() -> str | None:
        before = get_flow_context()
        with pytest.raises(ValueError, match="inner failed"):
            inner()
        assert get_flow_context() is before
        return current_flow_id()

    assert outer() is not None
    with pytest.raises(ValueError, match="inner failed"):
        inner()
    assert get_flow_context() is None


def test_generator_entrypoint_leaves_nothing_behind_between_yields() -> None:
    @entrypoint("lazy")
    def lazy() -> Iterator[str | None]:
        yield current_flow_id()
        yield current_flow_id()

    gen = lazy()
    first = next(gen)
    assert current_flow_id() is None, "the consumer must not see the generator's flow"
    second = next(gen)
    assert first is not None
    assert first == second


def test_concurrent_asyncio_flows_do_not_cross_talk() -> None:
    """300 flows interleave at every await; each sees only its own ID and metadata."""
    count = 300

    @flow("async_many")
    class AsyncMany:
        @entrypoint
        async def handle(self, index: int, barrier: asyncio.Event) -> tuple[int, str, str, int]:
            set_flow_context_value("index", index)
            cid = current_flow_id()
            assert cid is not None
            await barrier.wait()  # every flow is suspended here at once
            return await self.check(index, cid)

        @step(after="handle")
        async def check(self, index: int, cid: str) -> tuple[int, str, str, int]:
            await asyncio.sleep(0)
            now = current_flow_id()
            assert now is not None
            return index, cid, now, get_flow_context_value("index")

    async def main() -> list[tuple[int, str, str, int]]:
        barrier = asyncio.Event()
        tasks = [asyncio.create_task(AsyncMany().handle(i, barrier)) for i in range(count)]
        await asyncio.sleep(0)
        barrier.set()
        return await asyncio.gather(*tasks)

    results = asyncio.run(main())
    assert [index for index, *_ in results] == list(range(count))
    assert all(cid == now for _, cid, now, _ in results)
    assert all(index == meta for index, _, _, meta in results)
    assert len({cid for _, cid, _, _ in results}) == count


def test_threads_released_together_do_not_cross_talk() -> None:
    """8 threads start their flows at the same instant and check their state after a barrier."""
    threads = 8
    barrier = threading.Barrier(threads)
    results: dict[int, tuple[str | None, str | None, object]] = {}
    errors: list[BaseException] = []

    @flow("threaded")
    class Threaded:
        @entrypoint
        def handle(self, index: int) -> None:
            set_flow_context_value("index", index)
            mine = current_flow_id()
            barrier.wait()  # every thread is inside its own flow now
            self.step_in(index, mine)

        @step(after="handle")
        def step_in(self, index: int, mine: str | None) -> None:
            barrier.wait()
            results[index] = (mine, current_flow_id(), get_flow_context_value("index"))

    def worker(index: int) -> None:
        try:
            Threaded().handle(index)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors
    assert sorted(results) == list(range(threads))
    assert all(mine == now and meta == index for index, (mine, now, meta) in results.items())
    assert len({mine for mine, _, _ in results.values()}) == threads


def test_pool_threads_see_no_flow_without_carry_flow() -> None:
    """The reason carry_flow exists: pool threads start with an empty context."""

    @entrypoint("no_carry")
    def start() -> str | None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(current_flow_id).result()

    assert start() is None


def test_carry_flow_brings_the_flow_into_pool_threads() -> None:
    @flow("carried")
    class Carried:
        @entrypoint
        def fan_out(self, items: list[int]) -> tuple[str | None, list[tuple[int, str | None]]]:
            set_flow_context_value("tenant", "acme")
            with ThreadPoolExecutor(max_workers=4) as pool:
                results = list(pool.map(carry_flow(self.work), items))
                single = pool.submit(carry_flow(self.work), 99).result()
            return current_flow_id(), [*results, single]

        @step(after="fan_out")
        def work(self, item: int) -> tuple[int, str | None]:
            assert get_flow_context_value("tenant") == "acme"
            return item * 2, current_flow_id()

    cid, results = Carried().fan_out(list(range(20)))
    assert [value for value, _ in results] == [*range(0, 40, 2), 198]
    assert {seen for _, seen in results} == {cid}


def test_carry_flow_keeps_metadata_and_wrapper_identity() -> None:
    def work() -> object:
        return get_flow_context_value("k")

    bound = carry_flow(work)
    assert bound.__wrapped__ is work  # type: ignore[attr-defined]
    assert bound.__name__ == "work"

    @entrypoint("carry_meta")
    def start() -> object:
        set_flow_context_value("k", "v")
        with ThreadPoolExecutor(max_workers=2) as pool:
            return pool.submit(carry_flow(work)).result()

    assert start() == "v"
