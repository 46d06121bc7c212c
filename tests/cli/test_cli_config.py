"""Configuration picked up by `assay run`: `assay.toml`, `[tool.assay]` and `ASSAY_*`."""

from __future__ import annotations

import pytest

from fixtures.projects import Project, run_assay

SUITE = """\
tests:
  - name: passes
    run: "true"
"""


@pytest.fixture
def layout(project: Project) -> Project:
    """Suites in `suites/`, a failing one in `suites/failing/`, and one outside both."""
    project.write("suites/one.assay.yaml", SUITE)
    project.write("suites/nested/two.assay.yaml", SUITE)
    project.write("suites/failing/bad.assay.yaml", "tests:\n  - name: fails\n    run: 'false'\n")
    project.write("elsewhere/three.assay.yaml", SUITE)
    return project


def listed(project: Project, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """The ids `assay run --list` prints, sorted."""
    result = project.assay("run", "--list", *args, env=env)
    assert result.code == 0, result
    return sorted(result.stdout.splitlines())


def test_without_configuration_the_current_directory_is_searched(layout: Project) -> None:
    assert listed(layout) == [
        "elsewhere/three.assay.yaml::passes",
        "suites/failing/bad.assay.yaml::fails",
        "suites/nested/two.assay.yaml::passes",
        "suites/one.assay.yaml::passes",
    ]


def test_assay_toml_paths_and_exclude(layout: Project) -> None:
    layout.write("assay.toml", 'paths = ["suites"]\nexclude = ["suites/failing"]\n')
    assert listed(layout) == [
        "suites/nested/two.assay.yaml::passes",
        "suites/one.assay.yaml::passes",
    ]
    result = layout.assay("run")
    assert result.code == 0, result


def test_an_excluded_directory_named_on_the_command_line_runs(layout: Project) -> None:
    layout.write("assay.toml", 'paths = ["suites"]\nexclude = ["suites/failing"]\n')
    assert listed(layout, "suites/failing") == ["suites/failing/bad.assay.yaml::fails"]
    assert layout.assay("run", "suites/failing").code == 1


def test_configuration_is_found_from_a_subdirectory(layout: Project) -> None:
    layout.write("assay.toml", 'paths = ["elsewhere"]\n')
    inside = run_assay(
        ("run", "--list"), layout.root / "suites" / "nested", {"TMPDIR": str(layout.runs)}
    )
    assert inside.code == 0, inside
    # Configured paths are relative to the file, and so are ids: the same test has the
    # same id (and history) wherever `assay` runs.
    assert inside.stdout.splitlines() == ["elsewhere/three.assay.yaml::passes"]


def test_pyproject_tool_assay_table(layout: Project) -> None:
    (layout.root / "assay.toml").unlink()
    layout.write(
        "pyproject.toml",
        """\
        [project]
        name = "demo"

        [tool.assay]
        paths = ["suites"]
        exclude = ["suites/nested"]
        """,
    )
    assert listed(layout) == [
        "suites/failing/bad.assay.yaml::fails",
        "suites/one.assay.yaml::passes",
    ]


def test_environment_overrides_the_file_and_flags_override_both(layout: Project) -> None:
    layout.write("assay.toml", 'paths = ["suites"]\nexclude = ["suites/failing"]\njobs = 3\n')
    first = layout.assay("run").stdout.splitlines()[0]
    assert first == "assay: 2 tests from 2 files, 3 jobs"
    from_env = layout.assay("run", env={"ASSAY_JOBS": "2"}).stdout.splitlines()[0]
    assert from_env == "assay: 2 tests from 2 files, 2 jobs"
    from_flag = layout.assay("run", "-j", "1", env={"ASSAY_JOBS": "2"}).stdout.splitlines()[0]
    assert from_flag == "assay: 2 tests from 2 files, 1 job"
    assert listed(layout, env={"ASSAY_PATHS": "elsewhere"}) == [
        "elsewhere/three.assay.yaml::passes"
    ]
