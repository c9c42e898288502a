"""pytest plugin: flow coverage from the test suite you already run.

Installed with penstock and off by default. ``pytest --penstock-observe=observed.json`` records
every flow the tests run and saves the observation at the end of the session, ready for
``penstock check --observed observed.json`` or for drawing over a diagram. The
``penstock_observation`` fixture observes a single test, so it can assert what it exercised::

    def test_checkout_covers_every_path(penstock_observation):
        run_all_checkout_scenarios()
        assert penstock_observation.missing_edges("checkout") == []
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from penstock._observe import Observation, start, stop

if TYPE_CHECKING:
    from collections.abc import Iterator

_SESSION_KEY = pytest.StashKey["tuple[Observation, Observation | None, str]"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--penstock-observe=FILE``."""
    group = parser.getgroup("penstock")
    group.addoption(
        "--penstock-observe",
        metavar="FILE",
        default=None,
        help="record the flows the tests run and save the observation (JSON) to FILE",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start observing the session when asked to."""
    path = config.getoption("penstock_observe", default=None)
    if path:
        observation = Observation()
        config.stash[_SESSION_KEY] = (observation, start(observation), str(path))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop observing and save what the session ran."""
    entry = config.stash.get(_SESSION_KEY, None)
    if entry is not None:
        observation, previous, path = entry
        stop(previous)
        observation.save(path)


@pytest.fixture
def penstock_observation() -> Iterator[Observation]:
    """An observation of this test alone; what it records also counts for the session's."""
    observation = Observation()
    previous = start(observation)
    try:
        yield observation
    finally:
        stop(previous)
        if previous is not None:
            previous.merge(observation)
