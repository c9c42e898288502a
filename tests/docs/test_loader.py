"""Importing flow modules during a docs build: problems reported, the host's collector respected."""

from __future__ import annotations

import gc
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from penstock import get_flow
from penstock_docs._loader import ModuleLoader, load

FLOWS = textwrap.dedent(
    """
    from penstock import entrypoint, step

    @entrypoint("loader_flow")
    def begin():
        ...

    @step("loader_flow", after=begin)
    def finish():
        ...
    """
)


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the garbage collector as the test found it, whatever the test did to it."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:  # pragma: no cover - pytest runs with the collector on
        gc.disable()


def test_a_module_that_fails_is_reported_not_raised(module_dir: Path) -> None:
    (module_dir / "loadermod_broken.py").write_text("raise RuntimeError('no database here')\n")
    problem = load("loadermod_broken", fresh=False)
    assert problem is not None
    assert problem.module == "loadermod_broken"
    assert str(problem) == (
        "could not import module 'loadermod_broken': RuntimeError: no database here"
    )
    assert "Traceback" in problem.details


@pytest.mark.usefixtures("collector")
@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was(module_dir: Path, enabled: bool) -> None:
    (module_dir / "loadermod_good.py").write_text(FLOWS)
    (module_dir / "loadermod_bad.py").write_text("import loadermod_missing\n")
    if not enabled:
        gc.disable()
    assert load("loadermod_good", fresh=False) is None
    assert gc.isenabled() is enabled
    assert load("loadermod_bad", fresh=False) is not None
    assert gc.isenabled() is enabled
    assert load("loadermod_good", fresh=True) is None  # a reload, as on a rebuild
    assert gc.isenabled() is enabled


@pytest.mark.usefixtures("collector")
def test_the_flows_objects_go_straight_to_the_oldest_generation(module_dir: Path) -> None:
    (module_dir / "loadermod_old.py").write_text(FLOWS)
    assert load("loadermod_old", fresh=False) is None
    module = sys.modules["loadermod_old"]
    oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    assert id(module.begin) in oldest
    assert id(module.finish) in oldest
    assert [step.name for step in get_flow("loader_flow").steps.values()] == ["begin", "finish"]


@pytest.mark.usefixtures("collector")
def test_objects_the_host_froze_stay_frozen(module_dir: Path) -> None:
    (module_dir / "loadermod_frozen.py").write_text(FLOWS)
    gc.freeze()  # as a pre-forking server would, before the docs build imports flows
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert ModuleLoader(["loadermod_frozen"]).start_build() == []
    assert gc.get_freeze_count() >= frozen


@pytest.mark.usefixtures("collector")
def test_an_interrupted_import_still_restores_the_collector(module_dir: Path) -> None:
    (module_dir / "loadermod_interrupted.py").write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load("loadermod_interrupted", fresh=False)
    assert gc.isenabled()
