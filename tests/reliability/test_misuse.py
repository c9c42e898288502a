"""Every misuse of the API raises the documented error, with a message that says how to fix it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from penstock import FlowDefinitionError, NotInFlowError, configure, entrypoint, flow, step
from penstock import set_flow_context_value as set_value


def _decorate_non_callable() -> None:
    step("misuse")(42)


def _after_of_wrong_type() -> None:
    step("misuse", after=3.14)  # type: ignore[arg-type]


def _empty_flow_name() -> None:
    flow("  ")


def _non_string_flow_name() -> None:
    entrypoint(b"misuse")  # type: ignore[call-overload]


def _step_outside_a_flow() -> None:
    @step("misuse_outside")
    def lonely() -> None: ...

    lonely()


def _unknown_backend() -> None:
    configure("jaeger")


def _metadata_outside_a_flow() -> None:
    set_value("user", "alice")


@pytest.mark.parametrize(
    ("misuse", "error", "advice"),
    [
        (_decorate_non_callable, TypeError, "decorates functions and methods"),
        (_after_of_wrong_type, TypeError, "after= takes a step name, a decorated step"),
        (_empty_flow_name, FlowDefinitionError, "must not be empty or blank; give it a"),
        (_non_string_flow_name, TypeError, "or the flow's name as a str"),
        (_step_outside_a_flow, NotInFlowError, "call it from an @entrypoint"),
        (_unknown_backend, ValueError, "choose one of 'logging', 'otel', 'auto'"),
        (_metadata_outside_a_flow, NotInFlowError, "call it from code that runs inside"),
    ],
)
def test_misuse_raises_the_documented_error_with_a_fix(
    misuse: Callable[[], None], error: type[Exception], advice: str, figures: list[str]
) -> None:
    with pytest.raises(error) as caught:
        misuse()
    message = str(caught.value)
    assert advice in message
    assert message.count(". ") <= 2, "one or two sentences"
    figures.append(f"misuse {misuse.__name__.strip('_')}: {type(caught.value).__name__}")
