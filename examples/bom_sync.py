"""A Kafka-style consumer written as plain functions, with a thread pool and a generator.

The function form (``@flow("name")`` above ``@entrypoint`` / ``@step``) and the explicit form
(``@step("flow", after=...)``) describe the same kind of flow as the class form, without a class.
Run it with ``python examples/bom_sync.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from penstock import carry_flow, entrypoint, flow, generate_dag, step

log = logging.getLogger("bom")


@flow("bom_sync")
@entrypoint
def handle_kafka_message(msg: dict[str, Any]) -> int:
    """Consume one bill-of-materials change message."""
    part_number = msg["payload"]["part_number"]
    return sync_reference(part_number)


@flow("bom_sync")
@step(after="handle_kafka_message")
def sync_reference(part_number: str) -> int:
    """Fetch the part and bring our copy up to date."""
    data = fetch_from_api(part_number)
    upsert_to_db(data)
    events = list(publish_change_events(data))
    return len(events)


@step("bom_sync", after=sync_reference)
def fetch_from_api(part_number: str) -> dict[str, Any]:
    """Ask the PLM system for the part (simulated)."""
    return {"part": part_number, "children": [f"{part_number}-{n}" for n in range(3)]}


@step("bom_sync", after=fetch_from_api)
def upsert_to_db(data: dict[str, Any]) -> None:
    """Store the part and its children."""
    log.info("upserted %s with %d children", data["part"], len(data["children"]))


@step("bom_sync", after=upsert_to_db)
def publish_change_events(data: dict[str, Any]) -> Iterator[str]:
    """Yield one change event per child; the step lasts as long as the iteration."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        # Pool threads start with an empty context: carry_flow brings the flow along.
        yield from pool.map(carry_flow(update_ebom), data["children"])
    enqueue_changelog(data["part"])


@step("bom_sync", after=publish_change_events)
def update_ebom(child: str) -> str:
    """Update the engineering BOM for one child part."""
    log.info("updated EBOM entry %s", child)
    return f"changed:{child}"


@step("bom_sync", after=publish_change_events)
def enqueue_changelog(part: str) -> None:
    """Queue the change log for the part."""
    log.info("queued change log for %s", part)


if __name__ == "__main__":
    from penstock.contrib.logging import install

    logging.basicConfig(
        level=logging.INFO,
        format="%(levelname)-5s %(threadName)-24s %(message)s  [%(step)s cid=%(correlation_id)s]",
    )
    install()
    handle_kafka_message({"payload": {"part_number": "P-1000"}})
    print(generate_dag("bom_sync"))
