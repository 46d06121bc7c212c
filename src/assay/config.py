"""One typed, immutable settings object.

Precedence, lowest first: built-in defaults < `assay.toml` (or `[tool.assay]`
in `pyproject.toml`, found in the working directory or its parents) <
`ASSAY_*` environment variables < command-line flags. Settings are loaded
once and passed explicitly; nothing here runs at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from assay.errors import ConfigError
from assay.model.units import parse_duration
from assay.spec.suggestions import did_you_mean


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that shapes a run, validated whenever one is made."""

    root: Path = field(default_factory=Path.cwd)
    paths: tuple[Path, ...] = (Path(),)
    exclude: tuple[Path, ...] = ()
    jobs: int | None = None
    timeout: float | None = None
    test_timeout: float | None = 60.0
    idle_timeout: float | None = None
    kill_grace: float = 2.0
    strip_ansi: bool = False
    keep_tmp: bool = False
    tmp_dir: Path | None = None
    record: bool = True
    database_url: str | None = None
    data_dir: Path | None = None
    project: str | None = None

    @property
    def state_dir(self) -> Path:
        """Where Assay keeps its database and artifacts: `data_dir`, or `<root>/.assay`."""
        return self.data_dir or self.root / ".assay"

    @property
    def project_name(self) -> str:
        """The project runs are recorded under: `project`, or the root folder's name."""
        return self.project or self.root.name or "default"

    @property
    def database(self) -> str:
        """The database URL: `database_url`, or the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.state_dir / 'assay.db'}"

    def __post_init__(self) -> None:
        # Loading checks each value and names its source; this check also covers settings
        # made by `merge` (command-line flags, `assay.run` arguments) or built by hand.
        for key in ("jobs", *_DURATIONS):
            value = getattr(self, key)
            if value is None:
                continue
            try:
                _check(key, value)
            except (TypeError, ValueError) as error:
                raise ConfigError(f"{key}: {error}") from None

    def merge(self, **changes: object) -> Settings:
        """A copy with the given settings changed; `None` values are ignored.

        Raises `ConfigError` for a value a configuration file could not hold either.
        """
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


_DURATIONS = ("timeout", "test_timeout", "idle_timeout", "kill_grace")
_FLAGS = {"strip_ansi", "keep_tmp", "record"}
_STRINGS = {"database_url", "project"}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
_PATH_LISTS = {"paths", "exclude"}
KEYS = tuple(f.name for f in fields(Settings) if f.name != "root")


def load_settings(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the config file, then `ASSAY_*` variables."""
    cwd = (cwd or Path.cwd()).resolve()
    environ = os.environ if environ is None else environ
    settings = Settings(root=cwd)
    found = find_config(cwd)
    if found is not None:
        path, table = found
        settings = _apply(settings, table, str(path), path.parent)
    env_table = {
        key: environ[f"ASSAY_{key.upper()}"] for key in KEYS if f"ASSAY_{key.upper()}" in environ
    }
    return _apply(settings, env_table, "environment", cwd, from_env=True)


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest `assay.toml`, or `pyproject.toml` with `[tool.assay]`, and its table."""
    for directory in (start, *start.parents):
        for name in ("assay.toml", "pyproject.toml"):
            path = directory / name
            if not path.is_file():
                continue
            import tomllib  # only when there is a file to read

            try:
                data = tomllib.loads(path.read_text())
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
                raise ConfigError(f"{path}: invalid TOML: {error}") from None
            if name == "assay.toml":
                return path, data
            tool = data.get("tool", {}).get("assay")
            if isinstance(tool, dict):
                return path, tool
    return None


def _apply(
    settings: Settings, table: Mapping[str, Any], source: str, base: Path, *, from_env: bool = False
) -> Settings:
    changes: dict[str, object] = {}
    for key, value in table.items():
        name = f"ASSAY_{key.upper()}" if from_env else key
        if key not in KEYS:
            raise ConfigError(f"{source}: unknown setting '{key}'{did_you_mean(key, KEYS)}")
        try:
            changes[key] = _convert(key, value, base, from_env)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{source}: {name}: {error}") from None
    if "root" not in changes and not from_env:
        changes["root"] = base
    return replace(settings, **changes)  # type: ignore[arg-type]


def _convert(key: str, value: Any, base: Path, from_env: bool) -> object:
    if key in _PATH_LISTS:
        items = value.split(os.pathsep) if from_env and isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise TypeError("expected a list of paths")
        return tuple(base / i for i in items)
    if key in _DURATIONS:
        if from_env and str(value).lower() in ("", "none", "0"):
            return None
        return parse_duration(value)
    if key in _FLAGS:
        if from_env:
            return _env_flag(value)
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return value
    if key == "jobs":
        if from_env:
            try:
                value = int(value)
            except ValueError:
                raise ValueError(f"expected a whole number, not {value!r}") from None
        _check(key, value)
        return value
    if key in ("tmp_dir", "data_dir"):
        return base / str(value)
    if key in _STRINGS:
        if not isinstance(value, str) or not value:
            raise TypeError("expected a non-empty string")
        return value
    raise AssertionError(key)


def _check(key: str, value: object) -> None:
    """Raise `TypeError` or `ValueError` if `value`, already converted, is invalid for `key`."""
    if key == "jobs":
        # bool is an int, and int() would quietly turn `true` into 1 and 2.7 into 2.
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected a whole number, not {value!r}")
        if value < 1:
            raise ValueError("must be at least 1")
    elif key in _DURATIONS:
        parse_duration(value)
    else:
        raise AssertionError(key)


def _env_flag(value: str) -> bool:
    # A typo such as `ture` must not quietly mean false.
    text = value.lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"expected 1, true, yes, on, 0, false, no or off, not {value!r}")
