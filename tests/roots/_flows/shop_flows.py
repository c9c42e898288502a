"""Flows of a small shop, documented by the Sphinx test project."""

from penstock import entrypoint, flow, step


@flow("checkout")
class Checkout:
    """Turn a cart into an order."""

    @entrypoint
    def submit_cart(self, cart_id: str) -> None:
        """Accept a cart from the web shop."""
        self.reserve_stock(cart_id)

    @step(after="submit_cart")
    def reserve_stock(self, cart_id: str) -> None:
        """Hold the items so nobody else can buy them."""
        self.take_payment(cart_id)
        self.send_receipt(cart_id)

    @step(after="reserve_stock")
    def take_payment(self, cart_id: str) -> None:
        """Charge the customer's card."""

    @step(after="reserve_stock")
    def send_receipt(self, cart_id: str) -> None:
        """E-mail the receipt."""


@flow("returns")
@entrypoint
def request_return(order_id: str) -> None:
    """A customer asks to send something back."""


@flow("returns")
@step(after="request_return")
def issue_refund(order_id: str) -> None:
    """Pay the money back."""
