"""Settings: defaults < assay.toml / [tool.assay] < ASSAY_* environment variables."""

from __future__ import annotations

import dataclasses
import os
import textwrap
from pathlib import Path

import pytest

from assay.config import Settings, find_config, load_settings
from assay.errors import ConfigError, UserError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project directory with no configuration above it."""
    root = tmp_path / "project"
    root.mkdir()
    found = find_config(root)
    if found is not None:
        pytest.skip(f"a configuration file above the temporary directory interferes: {found[0]}")
    return root


def test_defaults_without_a_config_file(project: Path) -> None:
    settings = load_settings(project, {})
    assert settings == Settings(root=project.resolve())
    assert settings.paths == (Path(),)
    assert settings.exclude == ()
    assert settings.jobs is None
    assert settings.timeout is None
    assert settings.test_timeout == 60.0
    assert settings.idle_timeout is None
    assert settings.kill_grace == 2.0
    assert settings.strip_ansi is False
    assert settings.keep_tmp is False
    assert settings.tmp_dir is None


def test_assay_toml_overrides_defaults(project: Path) -> None:
    write(
        project / "assay.toml",
        """
        paths = ["tests", "more/tests"]
        exclude = ["tests/slow"]
        jobs = 4
        timeout = "10m"
        test_timeout = "30s"
        idle_timeout = 5
        kill_grace = "250ms"
        strip_ansi = true
        keep_tmp = true
        tmp_dir = "build/tmp"
        """,
    )
    root = project.resolve()
    assert load_settings(project, {}) == Settings(
        root=root,
        paths=(root / "tests", root / "more/tests"),
        exclude=(root / "tests/slow",),
        jobs=4,
        timeout=600.0,
        test_timeout=30.0,
        idle_timeout=5.0,
        kill_grace=0.25,
        strip_ansi=True,
        keep_tmp=True,
        tmp_dir=root / "build/tmp",
    )


def test_pyproject_tool_assay_is_read(project: Path) -> None:
    write(
        project / "pyproject.toml",
        """
        [project]
        name = "demo"

        [tool.assay]
        jobs = 8
        paths = ["examples"]
        """,
    )
    settings = load_settings(project, {})
    assert settings.jobs == 8
    assert settings.paths == (project.resolve() / "examples",)


def test_assay_toml_wins_over_pyproject_in_the_same_directory(project: Path) -> None:
    write(project / "assay.toml", "jobs = 2\n")
    write(project / "pyproject.toml", "[tool.assay]\njobs = 8\nkill_grace = '1s'\n")
    settings = load_settings(project, {})
    assert settings.jobs == 2
    # The two files are not merged: only assay.toml is read.
    assert settings.kill_grace == 2.0
    assert find_config(project.resolve()) == (project.resolve() / "assay.toml", {"jobs": 2})


def test_pyproject_without_tool_assay_is_passed_over(project: Path) -> None:
    write(project / "assay.toml", "jobs = 3\n")
    write(project / "pkg" / "pyproject.toml", "[project]\nname = 'pkg'\n[tool.ruff]\n")
    settings = load_settings(project / "pkg", {})
    assert settings.jobs == 3
    assert settings.root == project.resolve()


def test_the_nearest_config_wins(project: Path) -> None:
    write(project / "assay.toml", "jobs = 3\n")
    write(project / "pkg" / "pyproject.toml", "[tool.assay]\njobs = 5\n")
    settings = load_settings(project / "pkg", {})
    assert settings.jobs == 5
    assert settings.root == (project / "pkg").resolve()


def test_config_is_found_from_a_subdirectory_and_paths_are_relative_to_it(
    project: Path,
) -> None:
    write(
        project / "assay.toml",
        """
        paths = ["tests"]
        exclude = ["tests/slow", "../outside"]
        tmp_dir = "tmp"
        """,
    )
    deep = project / "src" / "pkg" / "deep"
    deep.mkdir(parents=True)
    settings = load_settings(deep, {})
    root = project.resolve()
    assert settings.root == root
    assert settings.paths == (root / "tests",)
    assert settings.exclude == (root / "tests/slow", root / "../outside")
    assert settings.tmp_dir == root / "tmp"


def test_absolute_paths_are_kept(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    write(project / "assay.toml", f'paths = ["{elsewhere}"]\ntmp_dir = "{elsewhere}"\n')
    settings = load_settings(project, {})
    assert settings.paths == (elsewhere,)
    assert settings.tmp_dir == elsewhere


def test_the_working_directory_defaults_to_the_process_one(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "assay.toml", "jobs = 6\n")
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    assert load_settings(environ={}).jobs == 6


class TestEnvironment:
    def test_environment_overrides_the_file(self, project: Path) -> None:
        write(project / "assay.toml", "jobs = 4\ntimeout = '5m'\nstrip_ansi = false\n")
        settings = load_settings(
            project,
            {"ASSAY_JOBS": "2", "ASSAY_TIMEOUT": "90s", "ASSAY_STRIP_ANSI": "1"},
        )
        assert (settings.jobs, settings.timeout, settings.strip_ansi) == (2, 90.0, True)

    def test_every_setting_from_the_environment(self, project: Path) -> None:
        root = project.resolve()
        settings = load_settings(
            project,
            {
                "ASSAY_PATHS": os.pathsep.join(["a", "b/c"]),
                "ASSAY_EXCLUDE": "b/c/slow",
                "ASSAY_JOBS": "7",
                "ASSAY_TIMEOUT": "1h",
                "ASSAY_TEST_TIMEOUT": "10",
                "ASSAY_IDLE_TIMEOUT": "2s",
                "ASSAY_KILL_GRACE": "500ms",
                "ASSAY_STRIP_ANSI": "true",
                "ASSAY_KEEP_TMP": "yes",
                "ASSAY_TMP_DIR": "scratch",
            },
        )
        assert settings == Settings(
            root=root,
            paths=(root / "a", root / "b/c"),
            exclude=(root / "b/c/slow",),
            jobs=7,
            timeout=3600.0,
            test_timeout=10.0,
            idle_timeout=2.0,
            kill_grace=0.5,
            strip_ansi=True,
            keep_tmp=True,
            tmp_dir=root / "scratch",
        )

    def test_environment_paths_are_relative_to_the_working_directory(self, project: Path) -> None:
        write(project / "assay.toml", "paths = ['tests']\n")
        sub = project / "sub"
        sub.mkdir()
        settings = load_settings(sub, {"ASSAY_PATHS": "here"})
        assert settings.root == project.resolve()
        assert settings.paths == (sub.resolve() / "here",)

    @pytest.mark.parametrize("value", ["", "none", "None", "0"], ids=["empty", "none", "None", "0"])
    def test_a_duration_can_be_switched_off(self, project: Path, value: str) -> None:
        write(project / "assay.toml", "test_timeout = '5s'\n")
        assert load_settings(project, {"ASSAY_TEST_TIMEOUT": value}).test_timeout is None

    @pytest.mark.parametrize(
        ("value", "flag"),
        [
            ("1", True),
            ("true", True),
            ("YES", True),
            ("on", True),
            ("0", False),
            ("false", False),
            ("no", False),
            ("off", False),
            ("", False),
        ],
        ids=["1", "true", "YES", "on", "0", "false", "no", "off", "empty"],
    )
    def test_flags(self, project: Path, value: str, flag: bool) -> None:
        write(project / "assay.toml", f"keep_tmp = {str(not flag).lower()}\n")
        assert load_settings(project, {"ASSAY_KEEP_TMP": value}).keep_tmp is flag

    def test_other_assay_variables_are_ignored(self, project: Path) -> None:
        settings = load_settings(
            project, {"ASSAY_REQUIRE_SERVICES": "1", "ASSAY_SANDBOX_ID": "x", "JOBS": "3"}
        )
        assert settings == Settings(root=project.resolve())

    def test_the_process_environment_is_used_by_default(
        self, project: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ASSAY_JOBS", "9")
        assert load_settings(project).jobs == 9

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("ASSAY_JOBS", "0", "environment: ASSAY_JOBS: must be at least 1"),
            ("ASSAY_JOBS", "-3", "environment: ASSAY_JOBS: must be at least 1"),
            (
                "ASSAY_TIMEOUT",
                "fast",
                "environment: ASSAY_TIMEOUT: invalid duration 'fast': use seconds or the units "
                "ms, s, m, h, d, w (e.g. 5s, 250ms, 1m30s)",
            ),
            (
                "ASSAY_KILL_GRACE",
                "-1",
                "environment: ASSAY_KILL_GRACE: invalid duration '-1': must be greater than zero",
            ),
        ],
        ids=["jobs-zero", "jobs-negative", "duration-word", "duration-negative"],
    )
    def test_invalid_values(self, project: Path, name: str, value: str, message: str) -> None:
        with pytest.raises(ConfigError) as caught:
            load_settings(project, {name: value})
        assert str(caught.value) == message

    def test_a_non_number_for_jobs(self, project: Path) -> None:
        with pytest.raises(ConfigError) as caught:
            load_settings(project, {"ASSAY_JOBS": "many"})
        assert str(caught.value).startswith("environment: ASSAY_JOBS: ")

    def test_an_unrecognised_flag_value_is_an_error(self, project: Path) -> None:
        with pytest.raises(ConfigError):
            load_settings(project, {"ASSAY_STRIP_ANSI": "ture"})


class TestInvalidFile:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("jbos = 4\n", "unknown setting 'jbos'; did you mean 'jobs'?"),
            ("timout = '5s'\n", "unknown setting 'timout'; did you mean 'timeout'?"),
            ("strip-ansi = true\n", "unknown setting 'strip-ansi'; did you mean 'strip_ansi'?"),
            ("database = 'x'\n", "unknown setting 'database'; did you mean 'database_url'?"),
            ("root = '.'\n", "unknown setting 'root'"),
            ("jobs = 0\n", "jobs: must be at least 1"),
            ("paths = 'tests'\n", "paths: expected a list of paths"),
            ("exclude = [1]\n", "exclude: expected a list of paths"),
            ("strip_ansi = 'yes'\n", "strip_ansi: expected true or false"),
            ("keep_tmp = 1\n", "keep_tmp: expected true or false"),
            ("timeout = 0\n", "timeout: invalid duration 0: must be greater than zero"),
            (
                "test_timeout = 'soon'\n",
                "test_timeout: invalid duration 'soon': use seconds or the units ms, s, m, h, d, w "
                "(e.g. 5s, 250ms, 1m30s)",
            ),
            (
                "kill_grace = true\n",
                "kill_grace: invalid duration True: expected e.g. 5s, 250ms or 1m30s",
            ),
        ],
        ids=[
            "typo-jobs",
            "typo-timeout",
            "dash-for-underscore",
            "unknown",
            "root-is-not-a-setting",
            "jobs-zero",
            "paths-string",
            "exclude-numbers",
            "flag-string",
            "flag-number",
            "duration-zero",
            "duration-word",
            "duration-boolean",
        ],
    )
    def test_invalid_assay_toml(self, project: Path, text: str, message: str) -> None:
        path = write(project / "assay.toml", text)
        with pytest.raises(ConfigError) as caught:
            load_settings(project, {})
        assert str(caught.value) == f"{path.resolve()}: {message}"
        assert isinstance(caught.value, UserError)

    def test_invalid_tool_assay_names_pyproject(self, project: Path) -> None:
        path = write(project / "pyproject.toml", "[tool.assay]\nexlude = ['x']\n")
        with pytest.raises(ConfigError) as caught:
            load_settings(project, {})
        assert str(caught.value) == (
            f"{path.resolve()}: unknown setting 'exlude'; did you mean 'exclude'?"
        )

    @pytest.mark.parametrize("name", ["assay.toml", "pyproject.toml"], ids=["assay", "pyproject"])
    def test_invalid_toml(self, project: Path, name: str) -> None:
        path = write(project / name, "[tool.assay\njobs = 2\n")
        with pytest.raises(ConfigError) as caught:
            load_settings(project, {})
        assert str(caught.value) == (
            f"{path.resolve()}: invalid TOML: Expected ']' at the end of a table declaration "
            "(at line 1, column 12)"
        )

    def test_a_file_error_comes_before_the_environment(self, project: Path) -> None:
        write(project / "assay.toml", "jobs = 0\n")
        with pytest.raises(ConfigError):
            load_settings(project, {"ASSAY_JOBS": "2"})

    @pytest.mark.parametrize("value", ["true", "2.7"], ids=["boolean", "float"])
    def test_jobs_must_be_a_whole_number(self, project: Path, value: str) -> None:
        write(project / "assay.toml", f"jobs = {value}\n")
        with pytest.raises(ConfigError):
            load_settings(project, {})


def test_settings_are_immutable(project: Path) -> None:
    settings = load_settings(project, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.jobs = 3  # type: ignore[misc]


def test_merge_ignores_none(project: Path) -> None:
    settings = load_settings(project, {}).merge(jobs=3, timeout=None, keep_tmp=True)
    assert (settings.jobs, settings.timeout, settings.keep_tmp) == (3, None, True)
    assert settings.merge(jobs=None).jobs == 3
