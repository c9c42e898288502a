"""What users install: a zero-dependency, typed distribution with a curated public API."""

from __future__ import annotations

import email
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import penstock
import penstock.backends
import penstock.errors

ROOT = Path(__file__).resolve().parent.parent


def test_public_api_is_sorted_and_importable() -> None:
    for module in (penstock, penstock.backends, penstock.errors):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_error_hierarchy() -> None:
    from penstock.errors import (
        FlowDefinitionError,
        FlowNotFoundError,
        FlowValidationError,
        MissingDependencyError,
        NotInFlowError,
        PenstockError,
    )

    assert issubclass(FlowNotFoundError, KeyError)
    assert issubclass(FlowDefinitionError, ValueError)
    assert issubclass(FlowValidationError, ValueError)
    assert issubclass(NotInFlowError, RuntimeError)
    assert issubclass(MissingDependencyError, ImportError)
    for cls in (FlowNotFoundError, FlowDefinitionError, FlowValidationError, NotInFlowError):
        assert issubclass(cls, PenstockError)
    error = MissingDependencyError("The OpenTelemetry backend", "otel")
    assert str(error) == (
        "The OpenTelemetry backend needs an optional dependency that is not installed; "
        'install it with: pip install "penstock[otel]"'
    )
    assert error.extra == "otel"


def test_import_pulls_in_no_optional_dependency() -> None:
    code = (
        "import json, sys; import penstock, penstock.backends, penstock.contrib.logging; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = json.loads(out.stdout)
    for optional in ("opentelemetry", "django", "celery", "structlog", "kombu", "sphinx", "mkdocs"):
        assert not [name for name in loaded if name.split(".")[0] == optional], optional


def test_import_defers_the_heavier_standard_library_modules() -> None:
    # These are imported where they are used, to keep `import penstock` within its 15 ms budget.
    # typing (with re and enum) only ever for type checkers: see penstock/_typing.py.
    code = (
        "import sys, penstock; "
        "print(' '.join(m for m in ('json', 'pathlib', 'inspect', 'dataclasses', 'asyncio', "
        "'logging', 'difflib', 'typing', 're', 'enum', 'contextlib', 'penstock._observe') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == []


def test_observing_is_loaded_on_first_use() -> None:
    code = (
        "import sys, penstock; before = 'penstock._observe' in sys.modules; "
        "from penstock import observe; "
        "import penstock._observe as module; "
        "print(before, observe is module.observe, penstock.Observation is module.Observation, "
        "sorted(set(penstock.__all__) - set(dir(penstock))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip().split(maxsplit=3) == ["False", "True", "True", "[]"]
    with pytest.raises(AttributeError, match=r"^module 'penstock' has no attribute 'no_such'$"):
        penstock.no_such  # type: ignore[attr-defined]  # noqa: B018


def test_wheel_is_typed_and_has_no_required_dependencies(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    (wheel,) = tmp_path.glob("penstock-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(metadata_name))
    assert "penstock/py.typed" in names
    assert "penstock_docs/py.typed" in names
    assert "penstock/backends/logging.py" in names
    assert not any(name.startswith("tests/") for name in names)
    assert metadata["Name"] == "penstock"
    assert metadata["Version"] == penstock.__version__
    assert metadata["Requires-Python"] == ">=3.10"
    requirements = metadata.get_all("Requires-Dist") or []
    assert requirements, "the extras declare their requirements"
    assert all("extra ==" in requirement for requirement in requirements), requirements
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"otel", "structlog", "django", "celery", "docs", "dev"} <= extras
