"""The Python API behind `assay.run`: settings, loading, selection, execution, reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from assay.config import Settings, load_settings
from assay.engine import Handler, RunOptions, execute, select
from assay.model import CommandTest, RunResult
from assay.runners import RunnerConfig


def collect(
    paths: Sequence[str | Path] | None = None,
    *,
    keyword: str | None = None,
    tags: Iterable[str] = (),
    settings: Settings | None = None,
) -> list[CommandTest]:
    """The tests a run would execute, in report order; raises `SpecError` for bad files."""
    from assay import spec

    settings = settings or load_settings()
    chosen = [Path(p) for p in paths] if paths else list(settings.paths)
    tests = spec.load(chosen, exclude=settings.exclude)
    return select(tests, keyword, tags)


def run(
    paths: Sequence[str | Path] | None = None,
    *,
    jobs: int | None = None,
    keyword: str | None = None,
    tags: Iterable[str] = (),
    timeout: float | None = None,
    update_snapshots: bool = False,
    junit: str | Path | None = None,
    json: str | Path | None = None,
    handlers: Sequence[Handler] = (),
    settings: Settings | None = None,
) -> RunResult:
    """Run the suites under `paths` (default: the configured paths) and return the results.

    Raises `SpecError` (listing every problem) if any test file is malformed,
    before anything runs, `ConfigError` for an invalid setting such as `jobs=0`,
    and `ReportWriteError` after the run if a report could not be written (the
    others still are).
    """
    settings = (settings or load_settings()).merge(jobs=jobs, timeout=timeout)
    tests = collect(paths, keyword=keyword, tags=tags, settings=settings)
    result = execute(tests, run_options(settings, update_snapshots), handlers)
    if junit is not None or json is not None:
        from assay import __version__
        from assay.reports import write_reports

        write_reports(
            result,
            version=__version__,
            junit=None if junit is None else Path(junit),
            json=None if json is None else Path(json),
        )
    return result


def run_options(settings: Settings, update_snapshots: bool = False) -> RunOptions:
    """Engine options from settings."""
    return RunOptions(
        jobs=settings.jobs,
        timeout=settings.timeout,
        keep_tmp=settings.keep_tmp,
        tmp_dir=settings.tmp_dir,
        runner=RunnerConfig(
            update_snapshots=update_snapshots,
            strip_ansi=settings.strip_ansi,
            timeout=settings.test_timeout,
            idle_timeout=settings.idle_timeout,
            grace=settings.kill_grace,
            keep_tmp=settings.keep_tmp,
        ),
    )
