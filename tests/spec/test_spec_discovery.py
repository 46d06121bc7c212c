"""Finding suite files under the paths given on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import UsageError
from assay.spec import discover
from assay.spec.discovery import display_path

TREE = [
    "top.assay.yaml",
    "a.assay.yml",
    "notes.yaml",
    "x.assay.yaml.bak",
    "assay.yaml",
    "cli/b.assay.yaml",
    "cli/a.assay.yaml",
    "cli/deep/er/c.assay.yml",
    "api/z.assay.yaml",
    ".hidden/h.assay.yaml",
    "__snapshots__/s.assay.yaml",
    "node_modules/pkg/n.assay.yaml",
    "__pycache__/p.assay.yaml",
    ".git/g.assay.yaml",
    ".venv/v.assay.yaml",
    "venv/v.assay.yaml",
    "slow/s.assay.yaml",
    "slow/inner/i.assay.yaml",
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project with suites, other files and directories that discovery must skip."""
    for name in TREE:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("tests: []\n")
    return tmp_path


def relative(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root.resolve()).as_posix() for p in paths]


def test_recursive_sorted_skipping_hidden_and_tool_directories(tree: Path) -> None:
    found = discover([Path(".")], cwd=tree)
    # Each directory's files come first, by name, then its subdirectories, by name.
    assert relative(found, tree) == [
        "a.assay.yml",
        "top.assay.yaml",
        "api/z.assay.yaml",
        "cli/a.assay.yaml",
        "cli/b.assay.yaml",
        "cli/deep/er/c.assay.yml",
        "slow/s.assay.yaml",
        "slow/inner/i.assay.yaml",
    ]
    assert all(p.is_absolute() for p in found)


def test_order_does_not_depend_on_creation_order(tmp_path: Path) -> None:
    for name in ["c.assay.yaml", "a.assay.yaml", "b.assay.yaml"]:
        (tmp_path / name).write_text("")
    assert relative(discover([tmp_path]), tmp_path) == [
        "a.assay.yaml",
        "b.assay.yaml",
        "c.assay.yaml",
    ]


def test_excluded_directories_are_skipped(tree: Path) -> None:
    found = discover([Path(".")], exclude=[Path("slow"), Path("cli/deep")], cwd=tree)
    assert relative(found, tree) == [
        "a.assay.yml",
        "top.assay.yaml",
        "api/z.assay.yaml",
        "cli/a.assay.yaml",
        "cli/b.assay.yaml",
    ]


def test_an_excluded_directory_named_explicitly_is_searched(tree: Path) -> None:
    found = discover([Path("slow")], exclude=[Path("slow")], cwd=tree)
    assert relative(found, tree) == ["slow/s.assay.yaml", "slow/inner/i.assay.yaml"]


def test_a_directory_inside_an_excluded_one_named_explicitly_is_searched(tree: Path) -> None:
    found = discover([Path("slow/inner")], exclude=[Path("slow")], cwd=tree)
    assert relative(found, tree) == ["slow/inner/i.assay.yaml"]


def test_a_skipped_directory_named_explicitly_is_searched(tree: Path) -> None:
    found = discover([Path(".hidden"), Path("__snapshots__")], cwd=tree)
    assert relative(found, tree) == [".hidden/h.assay.yaml", "__snapshots__/s.assay.yaml"]


def test_explicit_files_are_taken_whatever_their_name(tree: Path) -> None:
    found = discover(
        [Path("notes.yaml"), Path("x.assay.yaml.bak"), Path("node_modules/pkg/n.assay.yaml")],
        exclude=[Path("node_modules")],
        cwd=tree,
    )
    assert relative(found, tree) == [
        "notes.yaml",
        "x.assay.yaml.bak",
        "node_modules/pkg/n.assay.yaml",
    ]


def test_each_file_is_found_once_in_the_order_given(tree: Path) -> None:
    found = discover(
        [Path("cli/b.assay.yaml"), Path("cli"), Path("./cli/../cli/a.assay.yaml")], cwd=tree
    )
    assert relative(found, tree) == [
        "cli/b.assay.yaml",
        "cli/a.assay.yaml",
        "cli/deep/er/c.assay.yml",
    ]


def test_absolute_paths_are_accepted(tree: Path, tmp_path: Path) -> None:
    found = discover([tree / "api"], cwd=tmp_path / "cli")
    assert relative(found, tree) == ["api/z.assay.yaml"]


def test_an_empty_directory_has_no_suites(tmp_path: Path) -> None:
    assert discover([tmp_path]) == []


@pytest.mark.parametrize(
    "missing",
    ["nope", "cli/nope.assay.yaml", "nope/deeper"],
    ids=["directory", "file", "nested"],
)
def test_a_missing_path_is_a_usage_error(tree: Path, missing: str) -> None:
    with pytest.raises(UsageError) as caught:
        discover([Path("cli"), Path(missing)], cwd=tree)
    assert str(caught.value) == f"file or directory not found: {missing}"


def test_paths_are_relative_to_the_working_directory_by_default(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree / "cli")
    assert relative(discover([Path("deep")]), tree) == ["cli/deep/er/c.assay.yml"]


def test_display_path(tmp_path: Path) -> None:
    inside = tmp_path.resolve() / "a" / "b.assay.yaml"
    outside = Path("/somewhere/else.assay.yaml")
    assert display_path(inside, tmp_path) == Path("a/b.assay.yaml")
    assert display_path(outside, tmp_path) == outside
