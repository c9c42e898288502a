"""Async entrypoints and steps: concurrent flows each keep their own correlation ID.

Run it with ``python examples/async_pipeline.py``.
"""

from __future__ import annotations

import asyncio
import logging

from penstock import current_flow_id, entrypoint, flow, generate_dag, step

log = logging.getLogger("ingest")


@flow("async_pipeline")
class AsyncPipeline:
    """Fetch a document, transform it, and store it."""

    @entrypoint
    async def ingest(self, url: str) -> str:
        """Start ingesting one URL."""
        log.info("ingesting %s (cid=%s)", url, current_flow_id())
        raw = await self.fetch(url)
        text = await self.transform(raw)
        await self.store(text)
        return text

    @step(after="ingest")
    async def fetch(self, url: str) -> str:
        """Download the document (simulated)."""
        await asyncio.sleep(0.01)
        return f"data from {url}"

    @step(after="fetch")
    async def transform(self, raw: str) -> str:
        """Normalise the text."""
        return raw.upper()

    @step(after="transform")
    async def store(self, text: str) -> None:
        """Save the result."""
        log.info("stored %d characters", len(text))


async def main() -> None:
    """Ingest three URLs at once; their log lines interleave but their IDs never mix."""
    pipeline = AsyncPipeline()
    await asyncio.gather(*(pipeline.ingest(f"https://example.com/{n}") for n in range(3)))


if __name__ == "__main__":
    from penstock.contrib.logging import install

    logging.basicConfig(
        level=logging.INFO,
        format="%(levelname)-5s %(name)-8s %(message)s  [%(step)s cid=%(correlation_id)s]",
    )
    install()
    asyncio.run(main())
    print(generate_dag("async_pipeline", direction="LR"))
