"""One order through four steps: the quick start, with every log line stamped.

Run it with ``python examples/order_processing.py``.
"""

from __future__ import annotations

import logging

from penstock import current_flow_id, entrypoint, flow, generate_dag, step

log = logging.getLogger("shop.orders")


@flow("order_processing")
class OrderFlow:
    """Take an order from the web shop to the warehouse."""

    @entrypoint
    def receive_order(self, order_id: str) -> dict[str, str]:
        """Accept an order placed in the web shop."""
        log.info("received order %s", order_id)
        data = self.validate(order_id)
        self.charge(data)
        self.ship(data)
        return data

    @step(after="receive_order")
    def validate(self, order_id: str) -> dict[str, str]:
        """Check that the order can be fulfilled."""
        return {"order_id": order_id, "status": "valid"}

    @step(after="validate")
    def charge(self, data: dict[str, str]) -> None:
        """Take the payment."""
        log.info("charging for order %s (cid=%s)", data["order_id"], current_flow_id())

    @step(after="validate")
    def ship(self, data: dict[str, str]) -> None:
        """Hand the parcel to the carrier."""
        log.info("shipping order %s", data["order_id"])


if __name__ == "__main__":
    from penstock.contrib.logging import install

    logging.basicConfig(
        level=logging.INFO,
        format="%(levelname)-5s %(name)-12s %(message)s  [%(step)s cid=%(correlation_id)s]",
    )
    install()
    OrderFlow().receive_order("ORD-001")
    OrderFlow().receive_order("ORD-002")  # a new call, a new correlation ID
    print(generate_dag("order_processing"))
