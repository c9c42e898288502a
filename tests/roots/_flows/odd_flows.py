"""Flows with declaration mistakes that validation reports."""

from penstock import entrypoint, step


@entrypoint("odd")
def begin() -> None:
    """Start."""


@step("odd", after="begni")
def misspelt() -> None:
    """Follows a step that does not exist."""


@step("odd", after=["begin", "loop_b"])
def loop_a() -> None:
    """Half of a cycle."""


@step("odd", after="loop_a")
def loop_b() -> None:
    """The other half."""
