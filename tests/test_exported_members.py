"""The public facade: `assay.__all__` is pinned, and every name in it resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest

import assay

EXPORTED = [
    "AssayError",
    "Attempt",
    "CommandTest",
    "Failure",
    "Outcome",
    "Result",
    "RunResult",
    "Settings",
    "SpecError",
    "__version__",
    "collect",
    "load_settings",
    "run",
]


def test_all_is_pinned() -> None:
    # Adding or removing a public name is a decision: change this list with it.
    assert assay.__all__ == EXPORTED


def test_all_is_sorted_and_unique() -> None:
    assert assay.__all__ == sorted(set(assay.__all__))


@pytest.mark.parametrize("name", [n for n in EXPORTED if n != "__version__"], ids=str)
def test_every_name_resolves_to_an_assay_object(name: str) -> None:
    member = getattr(assay, name)
    assert member.__module__.startswith("assay.")
    assert member.__doc__, f"assay.{name} has no docstring"


def test_version() -> None:
    assert isinstance(assay.__version__, str)
    assert assay.__version__.count(".") >= 1


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from assay import *", namespace)
    assert sorted(set(namespace) - {"__builtins__"}) == sorted(EXPORTED)


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        _ = assay.no_such_name  # type: ignore[attr-defined]


def test_import_stays_light() -> None:
    # `import assay` must not load the engine: the command's start-up time depends on it.
    code = "import sys, assay; print(sorted(m for m in sys.modules if m.startswith('assay')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['assay']"
