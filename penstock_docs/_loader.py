"""Importing the user's flow modules during a docs build, and importing them again on a rebuild.

A docs server (``mkdocs serve``, ``sphinx-autobuild``) rebuilds in the same process, where a plain
import would hand back the module as it was first loaded. Modules are therefore reloaded on every
build after the first, with their old flow registrations dropped first, so an edited flow shows
up and a deleted step disappears.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from penstock._registry import forget_module

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Modules that defined the flows drawn by earlier builds in this process. Docs servers rebuild
#: with fresh plugin objects, so this lives here: the next build re-imports them too, and an
#: edit to a module that only an imported module imports still shows up.
DRAWN_MODULES: set[str] = set()


class ImportProblem(NamedTuple):
    """A module that could not be imported, with a one-line summary of why.

    A named tuple, not a dataclass: creating a dataclass costs a docs build a third of a
    millisecond at start-up, for nothing a tuple cannot do.
    """

    module: str
    summary: str
    details: str

    def __str__(self) -> str:
        return f"could not import module {self.module!r}: {self.summary}"


def split_modules(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Turn a comma-separated string or a list into clean module names."""
    if not value:
        return []
    parts = value.split(",") if isinstance(value, str) else list(value)
    return [part.strip() for part in parts if part and part.strip()]


def _drop_stale_bytecode(module: object) -> None:
    # Bytecode is reused when the source's recorded mtime and size match, with one-second
    # precision: an edit within the same second that keeps the size would otherwise be missed.
    source = getattr(module, "__file__", None)
    if not source or not source.endswith(".py"):
        return
    try:
        cached = importlib.util.cache_from_source(source)
    except (NotImplementedError, ValueError):  # pragma: no cover - no bytecode cache in use
        return
    with contextlib.suppress(OSError):
        os.remove(cached)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the garbage collector around an import of flows, and restore it as it was.

    A flows module's decorators allocate thousands of small objects that live as long as the
    module. Left running, the collector would scan the docs tool's whole (large) heap again and
    again while they are created, and in a big MkDocs build that once meant a full collection
    the build without penstock never ran. Afterwards everything created meanwhile goes straight
    to the oldest generation, unscanned (``gc.freeze()`` then ``gc.unfreeze()``): the young
    objects would each be scanned twice on their way there. That promotes every young object in
    the process, not only the module's, which costs nothing but a later look in the next full
    collection. It is skipped when anything is frozen already: unfreezing releases all frozen
    objects, and a host's own must stay frozen.
    """
    collecting = gc.isenabled()
    try:
        gc.disable()
        yield
    finally:
        try:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
        finally:
            if collecting:
                gc.enable()


def load(name: str, *, fresh: bool) -> ImportProblem | None:
    """Import ``name``; with ``fresh``, re-execute it if it was imported before.

    Returns the problem instead of raising, so one broken module cannot stop a docs build.
    """
    with _collector_paused():
        try:
            module = sys.modules.get(name)
            if module is not None and fresh:
                # Files may have changed since the last build: forget what the finders cached.
                # (Not on a first import: it would make every later import in the build scan
                # again.)
                importlib.invalidate_caches()
                forget_module(name)
                _drop_stale_bytecode(module)
                importlib.reload(module)
            else:
                importlib.import_module(name)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - user code failing (even sys.exit) is reported
            import traceback  # only when something failed

            summary = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            return ImportProblem(module=name, summary=summary, details=details)
    return None


def module_file(name: str) -> Path | None:
    """Return the source file of an imported module, if it has one."""
    module = sys.modules.get(name)
    source = getattr(module, "__file__", None)
    return Path(source).resolve() if source else None


class ModuleLoader:
    """Imports modules once per build, re-executing those an earlier build (or anyone) imported.

    Args:
        modules: Modules to import at the start of every build.
        reload: Re-execute modules that are already imported. Only a caller that knows where
            builds begin (a plugin, a Sphinx event) should ask for it: otherwise every page
            would re-execute them.
    """

    def __init__(self, modules: list[str], *, reload: bool = True) -> None:
        self.modules = modules
        self.reload = reload
        self._loaded: dict[str, ImportProblem | None] = {}
        #: Further modules to re-execute at each build: those that defined the flows drawn before.
        self.extra_reloads: set[str] = DRAWN_MODULES

    def start_build(self) -> list[ImportProblem]:
        """Begin a build: (re)import the configured modules and the extra ones."""
        self._loaded = {}
        extra = sorted(name for name in self.extra_reloads if name in sys.modules)
        names = list(dict.fromkeys([*self.modules, *extra]))
        return [problem for name in names if (problem := self.ensure(name)) is not None]

    def ensure(self, name: str) -> ImportProblem | None:
        """Import ``name`` once in this build; return its problem, if it had one."""
        if name not in self._loaded:
            self._loaded[name] = load(name, fresh=self.reload and name in sys.modules)
        return self._loaded[name]
