"""The registry's records: what the decorators build equals what the public constructor builds."""

from __future__ import annotations

import copy
import pickle

import pytest

from penstock import entrypoint, get_flow, step
from penstock._types import FlowInfo, StepInfo
from penstock.errors import FlowProblem


def _declared() -> StepInfo:
    @entrypoint("types_flow")
    def begin() -> None:
        """Start here.

        More text that is not part of the summary.
        """

    @step("types_flow", after=begin)
    def finish() -> None: ...

    return get_flow("types_flow").steps["begin"]


def test_decorated_records_equal_records_built_by_keyword() -> None:
    info = _declared()
    by_keyword = StepInfo(
        name=info.name,
        flow=info.flow,
        entrypoint=info.entrypoint,
        after=info.after,
        module=info.module,
        qualname=info.qualname,
        file=info.file,
        line=info.line,
        doc=info.doc,
        kind=info.kind,
    )
    assert type(info) is StepInfo
    assert info == by_keyword
    assert hash(info) == hash(by_keyword)
    assert repr(info) == repr(by_keyword)
    assert repr(info).startswith("StepInfo(name='begin', flow='types_flow', entrypoint=True, ")
    assert info.doc == "Start here."
    assert info.kind == "function"


def test_records_are_immutable() -> None:
    info = _declared()
    with pytest.raises(AttributeError, match="StepInfo is immutable; cannot set 'name'"):
        info.name = "other"
    with pytest.raises(AttributeError, match="cannot delete 'doc'"):
        del info.doc
    with pytest.raises(AttributeError):
        info.extra = 1
    assert info.name == "begin"


def test_records_pickle_and_copy_as_themselves() -> None:
    info = _declared()
    flow = get_flow("types_flow")
    assert pickle.loads(pickle.dumps(info)) == info  # noqa: S301 - bytes made just above
    assert pickle.loads(pickle.dumps(flow)) == flow  # noqa: S301 - bytes made just above
    assert copy.copy(info) is info
    assert copy.deepcopy(info) is info
    assert flow == FlowInfo("types_flow", dict(flow.steps))
    assert flow.steps["finish"].after == ("begin",)
    assert flow.edges == (("begin", "finish"),)


def test_every_record_class_compares_and_pickles_by_its_own_fields() -> None:
    first = FlowProblem(flow="f", step="a", file="x.py", line=1, code="cycle", message="m")
    other = FlowProblem(flow="g", step="a", file="x.py", line=1, code="cycle", message="m")
    assert first != other
    assert len({first, other}) == 2
    assert repr(first).startswith("FlowProblem(flow='f', step='a', file='x.py', line=1, ")
    assert pickle.loads(pickle.dumps(first)) == first  # noqa: S301 - bytes made just above


def test_step_records_can_be_subclassed() -> None:
    info = _declared()
    fields = {name: getattr(info, name) for name in StepInfo._field_names}

    class Plain(StepInfo):
        pass

    class Initialised(StepInfo):
        __slots__ = ()

        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)

    for cls in (Plain, Initialised):
        made = cls(**fields)
        assert type(made) is cls
        assert made.name == "begin"
        assert made == cls(**fields)
        assert made != info  # a record equals records of its own class only
        with pytest.raises(AttributeError, match="immutable"):
            made.name = "other"
    assert StepInfo(*fields.values()) == info  # positionally, in the documented order
