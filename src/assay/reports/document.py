"""The report document of one stored run: what the HTML and Markdown reports are made from.

A plain, JSON-able dict, so that both renderers (and anything else that
wants it, such as an API route) read the same facts: the run, its counts,
every result with every attempt, failure details, log tails with links to
whole logs, and each test's outcomes over the runs before this one.

History is read for the whole run at once: one `samples` query over the
runs recorded just before it, never one query per test, so a run of 100,000
results costs a handful of queries.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator
from typing import Any

from assay.store import Store, queries
from assay.store.queries import BAD, StoredAttempt, StoredResult, StoredRun

SCHEMA = "assay.report/1"
OUTCOMES = ("passed", "failed", "error", "timeout", "skipped")


def build_document(
    store: Store, run_id: int, *, history: int = 20, artifacts_href: str | None = None
) -> dict[str, Any]:
    """The report document of run `run_id`, with up to `history` previous outcomes per test.

    `artifacts_href` is how links to whole logs begin (a URL or a path
    relative to the report, naming the artifact store's directory); without
    it, logs are named by digest only.
    """
    run = queries.get_run(store, run_id)
    with bulk_build():
        stored = queries.results(store, run_id, with_attempts=True)
        previous, past = _history(store, run, {r.key for r in stored}, history)
        results = [_result(r, past.get(r.key, []), artifacts_href) for r in stored]
    return {
        "schema": SCHEMA,
        "run": _run(run),
        "counts": counts(results),
        "history_runs": [_history_run(r) for r in previous],
        "results": results,
    }


@contextlib.contextmanager
def bulk_build() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large document is built.

    Every few hundred allocations it would walk all the objects built so far,
    which for 100,000 results doubles the time taken. What is built here is
    kept, not garbage, and what is dropped is freed by reference counting.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def counts(results: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Results per outcome, with the total and the flaky ones (which are also `passed`)."""
    found = dict.fromkeys(("total", *OUTCOMES, "flaky"), 0)
    for result in results:
        found["total"] += 1
        found[result["outcome"]] += 1
        found["flaky"] += bool(result["flaky"])
    return found


def is_bad(outcome: str | None) -> bool:
    """Whether `outcome` is one that fails a run (failed, error or timeout)."""
    return outcome in BAD


def _run(run: StoredRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "project": run.project,
        "status": run.status,
        "trigger": run.trigger,
        "source": run.source,
        "host": run.host,
        "branch": run.branch,
        "commit": run.commit,
        "dirty": run.dirty,
        "started_at": run.started_at.isoformat(),
        "duration": run.duration,
        "reason": run.reason,
    }


def _history_run(run: StoredRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "commit": run.commit,
    }


def _history(
    store: Store, run: StoredRun, keys: set[str], depth: int
) -> tuple[list[StoredRun], dict[str, list[str]]]:
    """The finished runs recorded before `run` (oldest first) and each test's outcomes in them."""
    if depth <= 0 or not keys:
        return [], {}
    earlier = queries.list_runs(store, limit=depth * 2, before=run.id)
    previous = [r for r in earlier if r.status != "running"][:depth]
    if not previous:
        return [], {}
    outcomes: dict[str, list[str]] = {}
    for sample in queries.samples(store, run_ids=[r.id for r in previous]):
        if sample.test_id in keys:
            outcomes.setdefault(sample.test_id, []).append(sample.outcome.value)
    return previous[::-1], outcomes


def _result(result: StoredResult, past: list[str], href: str | None) -> dict[str, Any]:
    return {
        "position": result.position,
        "id": result.key,
        "name": result.name,
        "suite": result.suite,
        "kind": result.kind,
        "file": result.file,
        "line": result.line,
        "outcome": result.outcome,
        "flaky": result.flaky,
        "new_failure": is_bad(result.outcome) and _last_verdict(past) not in BAD,
        "duration": result.duration,
        "reason": result.reason,
        "message": result.message,
        "attempts": [_attempt(a, href) for a in result.attempts],
        "history": past,
    }


def _last_verdict(past: list[str]) -> str | None:
    """The latest outcome that said something about the test (a skip says nothing)."""
    return next((o for o in reversed(past) if o != "skipped"), None)


def _attempt(attempt: StoredAttempt, href: str | None) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "outcome": attempt.outcome,
        "started_at": attempt.started_at.isoformat() if attempt.started_at else None,
        "duration": attempt.duration,
        "exit_code": attempt.exit_code,
        "signal": attempt.signal,
        "failures": [_failure(f) for f in attempt.failures],
        "notes": list(attempt.notes),
        "stdout": _log(attempt.stdout_tail, attempt.stdout_size, attempt.stdout_artifact, href),
        "stderr": _log(attempt.stderr_tail, attempt.stderr_size, attempt.stderr_artifact, href),
    }


def _failure(failure: dict[str, str]) -> dict[str, str | None]:
    return {
        key: failure.get(key) for key in ("expectation", "message", "expected", "actual", "diff")
    }


def _log(
    tail: str | None, size: int, artifact: str | None, href: str | None
) -> dict[str, Any] | None:
    """A stream's tail and, when the tail is not all of it, where the whole log is."""
    if tail is None and artifact is None:
        return None
    return {
        "tail": tail or "",
        "size": size,
        "complete": artifact is None,
        "artifact": artifact,
        "href": artifact_href(href, artifact),
    }


def artifact_href(base: str | None, sha256: str | None) -> str | None:
    """The link to an artifact under the store's layout (`<sha[:2]>/<sha>`), if one can be made."""
    if base is None or sha256 is None:
        return None
    return f"{base.rstrip('/')}/{sha256[:2]}/{sha256}"
