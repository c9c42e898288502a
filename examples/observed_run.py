"""Record an example run of the order flows and save it for the docs' live overlay.

``python examples/observed_run.py`` writes ``docs/assets/observed-run.json``: 100 orders and 40
user updates, two of which take a path the diagram does not declare (an emergency admin fix
that skips validation), so the overlay has something to show.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from order_processing import OrderFlow
from user_update import UserUpdate

import penstock

TARGET = Path(__file__).resolve().parent.parent / "docs" / "assets" / "observed-run.json"


def main() -> None:
    logging.getLogger("penstock").setLevel(logging.WARNING)
    logging.getLogger("shop.orders").setLevel(logging.WARNING)
    logging.getLogger("accounts").setLevel(logging.WARNING)
    with penstock.observe() as seen:
        for index in range(100):
            OrderFlow().receive_order(f"ORD-{index}")
        for index in range(30):
            UserUpdate().api_request(f"user{index}", f"user{index}@example.com")
        for index in range(8):
            UserUpdate().admin_action("root", f"user{index}", f"user{index}@example.com")
        for index in range(2):  # the emergency path, which skips validation
            UserUpdate().admin_action("root", f"fix{index}", f"fix{index}@example.com", force=True)
    seen.save(TARGET)
    print(f"Saved {TARGET}")


if __name__ == "__main__":
    main()
