"""Observed flows: what really ran, compared with what the decorators declare.

While an :class:`Observation` is active, every entrypoint and step that runs is counted and timed,
and penstock notes, for each invocation of a flow, which steps ran before which. A step that runs
after one of its declared predecessors exercises that edge; a step that runs when none of its
declared predecessors has run in that invocation is an *undeclared transition*: the diagram does
not show how the flow really got there.

Memory stays bounded whatever the traffic: counters, and for the latencies a histogram of
logarithmic buckets (about 2% wide), not a list of calls. Observations are saved as JSON, and
files from several processes merge by adding their counters.
"""

from __future__ import annotations

import contextlib
import math
import threading
from time import perf_counter_ns

from penstock import _config
from penstock._context import _current_flow, observed
from penstock._typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator
    from typing import Any

    from penstock._types import StepInfo

__all__ = ["Observation", "observe"]

_FORMAT = "penstock-observation/1"
_BASE = 1.02  # each latency bucket is 2% wider than the one before
_LOG_BASE = math.log(_BASE)


class _Latencies:
    """Streaming latency quantiles: counts per logarithmic bucket of nanoseconds."""

    __slots__ = ("buckets", "count")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0

    def add(self, nanoseconds: int) -> None:
        bucket = int(math.log(nanoseconds) / _LOG_BASE) if nanoseconds > 1 else 0
        self.buckets[bucket] = self.buckets.get(bucket, 0) + 1
        self.count += 1

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile in milliseconds (a bucket's middle), or ``None`` without data."""
        if not self.count:
            return None
        rank = q * (self.count - 1)
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen > rank:
                return float(_BASE ** (bucket + 0.5)) / 1e6
        return None  # pragma: no cover - rank < count always finds a bucket

    def merge(self, other: _Latencies) -> None:
        for bucket, count in other.buckets.items():
            self.buckets[bucket] = self.buckets.get(bucket, 0) + count
        self.count += other.count


class _FlowStats:
    __slots__ = ("edges", "invocations", "latency", "steps", "undeclared")

    def __init__(self) -> None:
        self.invocations = 0
        self.steps: dict[str, int] = {}
        self.latency: dict[str, _Latencies] = {}
        self.edges: dict[tuple[str, str], int] = {}
        self.undeclared: dict[tuple[str, str], int] = {}


class _Invocation:
    """What ran so far in one invocation of a flow (kept on its FlowContext)."""

    __slots__ = ("last", "ran")

    def __init__(self) -> None:
        self.ran: set[str] = set()
        self.last: str | None = None


class Observation:
    """Counts, latencies and transitions of the flows that ran while it was active.

    Examples:
        >>> import penstock
        >>> with penstock.observe() as seen:
        ...     pass  # run the code to observe
        >>> seen.flows()
        []
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flows: dict[str, _FlowStats] = {}

    # -- recording (called by the wrappers) ----------------------------------------------------

    def _enter(self, info: StepInfo) -> int:
        ctx = _current_flow.get()
        state: _Invocation | None = None
        new_invocation = False
        if ctx is not None:
            state = ctx._observation
            if state is None:
                state = ctx._observation = _Invocation()
                new_invocation = True
        with self._lock:
            stats = self._flows.get(info.flow)
            if stats is None:
                stats = self._flows[info.flow] = _FlowStats()
            if new_invocation and info.entrypoint:
                stats.invocations += 1
            stats.steps[info.name] = stats.steps.get(info.name, 0) + 1
            if state is not None and not info.entrypoint and info.after:
                before = [name for name in info.after if name in state.ran]
                for name in before:
                    stats.edges[(name, info.name)] = stats.edges.get((name, info.name), 0) + 1
                if not before:
                    key = (state.last or "(start)", info.name)
                    stats.undeclared[key] = stats.undeclared.get(key, 0) + 1
        if state is not None:
            state.ran.add(info.name)
            state.last = info.name
        return perf_counter_ns()

    def _exit(self, info: StepInfo, started: int) -> None:
        elapsed = perf_counter_ns() - started
        with self._lock:
            stats = self._flows[info.flow]
            latencies = stats.latency.get(info.name)
            if latencies is None:
                latencies = stats.latency[info.name] = _Latencies()
            latencies.add(elapsed)

    # -- reading -------------------------------------------------------------------------------

    def flows(self) -> list[str]:
        """The names of the flows seen, sorted."""
        with self._lock:
            return sorted(self._flows)

    def invocations(self, flow: str) -> int:
        """How many times an entrypoint of ``flow`` started an invocation."""
        stats = self._flows.get(flow)
        return 0 if stats is None else stats.invocations

    def step_count(self, flow: str, step: str) -> int:
        """How many times ``step`` of ``flow`` ran."""
        stats = self._flows.get(flow)
        return 0 if stats is None else stats.steps.get(step, 0)

    def latency_ms(self, flow: str, step: str, quantile: float = 0.5) -> float | None:
        """A latency quantile of ``step`` in milliseconds (p50 by default), or ``None``."""
        stats = self._flows.get(flow)
        latencies = None if stats is None else stats.latency.get(step)
        return None if latencies is None else latencies.quantile(quantile)

    def edge_count(self, flow: str, before: str, after: str) -> int:
        """How many times ``after`` ran after its declared predecessor ``before``."""
        stats = self._flows.get(flow)
        return 0 if stats is None else stats.edges.get((before, after), 0)

    def undeclared(self, flow: str) -> dict[tuple[str, str], int]:
        """Undeclared transitions of ``flow``: (the step that ran last, the step) -> count.

        ``(start)`` stands for "nothing had run yet in that invocation".
        """
        stats = self._flows.get(flow)
        return {} if stats is None else dict(stats.undeclared)

    def missing_edges(self, flow: str) -> list[tuple[str, str]]:
        """Declared edges of ``flow`` that no invocation exercised (handy in tests)."""
        from penstock._registry import get_flow

        return [edge for edge in get_flow(flow).edges if not self.edge_count(flow, *edge)]

    def unused_steps(self, flow: str) -> list[str]:
        """Declared steps of ``flow`` that never ran."""
        from penstock._registry import get_flow

        return [name for name in get_flow(flow).steps if not self.step_count(flow, name)]

    # -- files ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The observation as JSON-ready data."""
        with self._lock:
            flows = {
                name: {
                    "invocations": stats.invocations,
                    "steps": {
                        step: {
                            "count": count,
                            "latency_buckets": {
                                str(bucket): value
                                for bucket, value in sorted(
                                    stats.latency[step].buckets.items()
                                    if step in stats.latency
                                    else []
                                )
                            },
                        }
                        for step, count in sorted(stats.steps.items())
                    },
                    "edges": [[a, b, n] for (a, b), n in sorted(stats.edges.items())],
                    "undeclared": [[a, b, n] for (a, b), n in sorted(stats.undeclared.items())],
                }
                for name, stats in sorted(self._flows.items())
            }
        return {"format": _FORMAT, "flows": flows}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observation:
        """Rebuild an observation from :meth:`to_dict`'s data.

        Raises:
            ValueError: ``data`` is not a penstock observation.
        """
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            msg = f"Not a penstock observation (expected format {_FORMAT!r})."
            raise ValueError(msg)
        observation = cls()
        for name, flow in data.get("flows", {}).items():
            stats = observation._flows[name] = _FlowStats()
            stats.invocations = int(flow.get("invocations", 0))
            for step, entry in flow.get("steps", {}).items():
                stats.steps[step] = int(entry["count"])
                latencies = _Latencies()
                for bucket, count in entry.get("latency_buckets", {}).items():
                    latencies.buckets[int(bucket)] = int(count)
                    latencies.count += int(count)
                stats.latency[step] = latencies
            stats.edges = {(a, b): int(n) for a, b, n in flow.get("edges", [])}
            stats.undeclared = {(a, b): int(n) for a, b, n in flow.get("undeclared", [])}
        return observation

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the observation to ``path`` as JSON."""
        # json and pathlib are imported here, not at the top: `import penstock` stays cheap.
        import json
        from pathlib import Path

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Observation:
        """Read an observation saved with :meth:`save`.

        Raises:
            ValueError: The file is not a penstock observation.
        """
        import json
        from pathlib import Path

        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            msg = f"{path} is not a penstock observation: {exc}"
            raise ValueError(msg) from exc
        return cls.from_dict(data)

    def merge(self, *others: Observation) -> Observation:
        """Add the counters of ``others`` to this observation (files from several processes)."""
        for other in others:
            for name, theirs in other._flows.items():
                with self._lock:
                    mine = self._flows.setdefault(name, _FlowStats())
                    mine.invocations += theirs.invocations
                    for step, count in theirs.steps.items():
                        mine.steps[step] = mine.steps.get(step, 0) + count
                    for step, latencies in theirs.latency.items():
                        mine.latency.setdefault(step, _Latencies()).merge(latencies)
                    for key, count in theirs.edges.items():
                        mine.edges[key] = mine.edges.get(key, 0) + count
                    for key, count in theirs.undeclared.items():
                        mine.undeclared[key] = mine.undeclared.get(key, 0) + count
        return self


def start(observation: Observation) -> Observation | None:
    """Make ``observation`` the active one; return the one it replaces."""
    previous = _config.observer
    _config.observer = observation
    observed.steps = True  # every step must go through the recording path now
    return previous


def stop(previous: Observation | None) -> None:
    """Restore the observation that was active before :func:`start`."""
    _config.observer = previous


@contextlib.contextmanager
def observe(observation: Observation | None = None) -> Iterator[Observation]:
    """Observe every flow that runs inside the block, whatever the backend.

    Examples:
        >>> import penstock
        >>> from penstock import entrypoint
        >>> @entrypoint("doc_observed")
        ... def handle() -> None: ...
        >>> with penstock.observe() as seen:
        ...     handle()
        >>> seen.step_count("doc_observed", "handle")
        1
    """
    current = observation if observation is not None else Observation()
    previous = start(current)
    try:
        yield current
    finally:
        stop(previous)
