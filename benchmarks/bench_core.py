"""The cost of penstock's steps and entrypoints, against the minimum they stand in for.

Every reference does the unavoidable minimum of the same job, in the same process, in the same
rounds:

- a step with the ``penstock`` logger below INFO (production's usual setting), against a
  hand-written wrapper that reads a ContextVar, asks ``logger.isEnabledFor(INFO)`` and calls the
  function (target: at most 2.0x);
- a step with the logger enabled, writing to a ``NullHandler``, against the two bare
  ``logger.info(..., extra=...)`` calls its records cost (target: at most 1.15x);
- an entrypoint with the logger below INFO, against a ContextVar set and reset plus a fresh
  128-bit hex ID (target: at most 2.5x).

Run with ``make bench`` (all benchmarks) or ``python -m benchmarks.bench_core``.
"""

from __future__ import annotations

import contextvars
import logging
import random

import penstock
from benchmarks._harness import measure, report
from penstock import entrypoint, step
from penstock.backends import LoggingBackend

INFO = logging.INFO


def work() -> int:
    return 1


def run() -> list[dict]:
    logger = logging.getLogger("penstock")
    logger.propagate = False
    handler = logging.NullHandler()
    logger.addHandler(handler)
    penstock.configure(LoggingBackend())
    sections = []
    try:
        sections.append(_steps_disabled(logger))
        sections.append(_steps_enabled(logger))
        sections.append(_entrypoints(logger))
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    return sections


def _steps_disabled(logger: logging.Logger) -> dict:
    logger.setLevel(logging.WARNING)
    var: contextvars.ContextVar[object] = contextvars.ContextVar("reference", default=None)

    # What any decorator has to be: it takes and passes on whatever arguments it is given.
    def minimal_wrapper(*args: object, **kwargs: object) -> int:
        var.get()
        if logger.isEnabledFor(INFO):
            pass  # pragma: no cover - the logger is below INFO here
        return work(*args, **kwargs)

    traced = step("bench_core", name="work_disabled")(work)

    def reference(ops: int) -> None:
        for _ in range(ops):
            minimal_wrapper()

    @entrypoint("bench_core", name="steps_disabled")
    def penstock_steps(ops: int) -> None:
        for _ in range(ops):
            traced()

    return report(
        "Step, logger below INFO",
        measure(
            {"minimal wrapper": reference, "penstock step": penstock_steps},
            reference="minimal wrapper",
            ops=20_000,
        ),
        target=("penstock step", 2.0),
    )


def _steps_enabled(logger: logging.Logger) -> dict:
    logger.setLevel(logging.INFO)
    traced = step("bench_core", name="work_enabled")(work)
    start_extra = {
        "flow": "bench_core",
        "step": "work_enabled",
        "correlation_id": "0af7651916cd43dd8448eb211c80319c",
        "entrypoint": False,
        "event": "step.start",
    }
    end_extra = {**start_extra, "event": "step.end", "duration_ms": 0.001, "outcome": "ok"}

    def reference(ops: int) -> None:
        for _ in range(ops):
            logger.info("step.start %s.%s", "bench_core", "work_enabled", extra=start_extra)
            work()
            logger.info(
                "step.end %s.%s ok in %.3f ms",
                "bench_core",
                "work_enabled",
                0.001,
                extra=end_extra,
            )

    def penstock_steps(ops: int) -> None:
        # One entrypoint around all of them; its own two records are spread over the ops.
        @entrypoint("bench_core", name="steps_enabled")
        def around() -> None:
            for _ in range(ops):
                traced()

        around()

    return report(
        "Step, logger enabled (NullHandler)",
        measure(
            {"two bare logger.info calls": reference, "penstock step": penstock_steps},
            reference="two bare logger.info calls",
            ops=5_000,
        ),
        target=("penstock step", 1.15),
    )


def _entrypoints(logger: logging.Logger) -> dict:
    logger.setLevel(logging.WARNING)
    var: contextvars.ContextVar[str] = contextvars.ContextVar("reference", default="")
    bits = random.Random().getrandbits
    traced = entrypoint("bench_core_entry", name="enter")(work)

    def reference(ops: int) -> None:
        for _ in range(ops):
            token = var.set("%032x" % bits(128))  # noqa: UP031 - as fast as Python formats hex
            work()
            var.reset(token)

    def penstock_entrypoints(ops: int) -> None:
        for _ in range(ops):
            traced()

    return report(
        "Entrypoint, logger below INFO",
        measure(
            {
                "ContextVar set/reset + new ID": reference,
                "penstock entrypoint": penstock_entrypoints,
            },
            reference="ContextVar set/reset + new ID",
            ops=20_000,
        ),
        target=("penstock entrypoint", 2.5),
    )


if __name__ == "__main__":
    run()
