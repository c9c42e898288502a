"""Metadata set early in a flow is read by the steps after it.

Run it with ``python examples/context_metadata.py``.
"""

from __future__ import annotations

import logging

from penstock import (
    current_flow_id,
    entrypoint,
    flow,
    generate_dag,
    get_flow_context_value,
    set_flow_context_value,
    step,
)

log = logging.getLogger("demo.context")


@flow("context_demo")
class ContextDemo:
    """Carry who asked, and from where, without threading it through every call."""

    @entrypoint
    def start(self, user: str) -> None:
        """Record the caller in the flow's metadata."""
        log.info("correlation ID %s", current_flow_id())
        set_flow_context_value("user", user)
        set_flow_context_value("source", "api")
        self.process()
        self.finish()

    @step(after="start")
    def process(self) -> None:
        """Use the caller's identity."""
        user = get_flow_context_value("user")
        source = get_flow_context_value("source")
        log.info("processing for user=%s, source=%s", user, source)
        set_flow_context_value("processed", True)

    @step(after="process")
    def finish(self) -> None:
        """Read what the earlier step left behind."""
        log.info("finishing (processed=%s)", get_flow_context_value("processed", False))


if __name__ == "__main__":
    from penstock.contrib.logging import install

    logging.basicConfig(
        level=logging.INFO,
        format="%(levelname)-5s %(name)-12s %(message)s  [%(step)s cid=%(correlation_id)s]",
    )
    install()
    ContextDemo().start("alice")
    print(generate_dag("context_demo"))
