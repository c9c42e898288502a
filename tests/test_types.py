"""The registry's records: what the decorators build equals what the public constructor builds."""

from __future__ import annotations

import copy
import pickle

import pytest

from penstock import entrypoint, get_flow, step
from penstock._types import FlowInfo, StepInfo


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
