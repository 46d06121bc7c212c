"""What a finished run announces to webhooks: its events, and their bodies as JSON or Slack.

A run that ends announces `run.finished`; one that did not pass (failed, or
interrupted) also announces `run.failed`; and one with flaky tests announces
`test.flaky_detected`, listing them. A test counts as flaky here when it
passed on a retry in this run, or when history (`assay.history.flaky`) calls
it flaky now and did not before this run, so that a test is not announced
again for every run while its old evidence stays in the window.

Everything is decided from what the store holds once the run is recorded,
so the same history always gives the same events. Each event gets an id
when it is made; that id goes with every attempt to deliver it, which lets
receivers drop duplicates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from assay.history.flaky import FlakyConfig, find_flaky
from assay.store import Store, queries
from assay.store.queries import StoredRun
from assay.store.webhooks import Webhook

FAILURES_LISTED = 10
"""Failed tests a `run.failed` payload lists; the run's counts say how many there are."""
FLAKY_LISTED = 100
"""Flaky tests a `test.flaky_detected` payload lists."""
_MESSAGE = 500  # characters of a failure message kept in a payload
_SLACK_TEXT = 2900  # Slack rejects a section text over 3000 characters


@dataclass(frozen=True, slots=True)
class Announcement:
    """One event to deliver: its name, its id, and its JSON document."""

    event: str
    id: str
    document: dict[str, Any]

    def body(self, format: str) -> bytes:
        """The request body for a webhook of `format` (`json` or `slack`)."""
        shaped = slack_message(self.document) if format == "slack" else self.document
        return json.dumps(shaped, separators=(",", ":"), ensure_ascii=False).encode()


def announce(
    store: Store, run_id: int, wanted: Collection[str], *, root_path: str = ""
) -> list[Announcement]:
    """The events among `wanted` that finished run `run_id` makes; reads the store (blocking).

    Nothing for a run that is still queued or running.
    """
    store = replace(store, project=queries.run_project(store, run_id))
    run = queries.get_run(store, run_id)
    if run.status in ("queued", "running"):
        return []
    summary = run_summary(run, root_path)
    found = []
    if "run.finished" in wanted:
        found.append(_make("run.finished", run=summary))
    if "run.failed" in wanted and run.status != "passed":
        found.append(_make("run.failed", run=summary, failures=_failures(store, run)))
    if "test.flaky_detected" in wanted:
        flaky = flaky_in_run(store, run)
        if flaky:
            found.append(_make("test.flaky_detected", run=summary, tests=flaky[:FLAKY_LISTED]))
    return found


def ping(webhook: Webhook) -> Announcement:
    """A test event for `webhook`, sent on request whatever it subscribes to."""
    return _make(
        "ping",
        message="This is a test event from Assay: the webhook is reachable.",
        webhook={"id": webhook.id, "url": webhook.url, "events": list(webhook.events)},
    )


def run_summary(run: StoredRun, root_path: str = "") -> dict[str, Any]:
    """What every run event says about its run; `url` is the run's page (`root_path` + path)."""
    return {
        "id": run.id,
        "project": run.project,
        "status": run.status,
        "reason": run.reason,
        "trigger": run.trigger,
        "branch": run.branch,
        "commit": run.commit,
        "started_at": _iso(run.started_at),
        "duration": None if run.duration is None else round(run.duration, 3),
        "counts": {
            "total": run.total,
            "passed": run.passed,
            "failed": run.failed,
            "errors": run.errors,
            "timeouts": run.timeouts,
            "skipped": run.skipped,
            "flaky": run.flaky,
        },
        "url": f"{root_path}/runs/{run.id}",
    }


def flaky_in_run(
    store: Store, run: StoredRun, config: FlakyConfig | None = None
) -> list[dict[str, Any]]:
    """Tests that passed on a retry in `run`, or that history calls flaky since `run`; by id.

    History is judged over the `config.window` finished runs up to `run`,
    with and without it: only a verdict that `run` changed counts.
    """
    config = config or FlakyConfig()
    earlier = queries.list_runs(
        store, limit=config.window + 1, after=(run.started_at.timestamp(), run.id)
    )
    window = [r.id for r in earlier if r.id != run.id and r.status not in ("queued", "running")]
    samples = queries.samples(store, run_ids=[*window[: config.window], run.id])
    before = {f.test_id for f in find_flaky((s for s in samples if s.run_id != run.id), config)}
    now = {f.test_id: f for f in find_flaky(samples, config)}
    retried = {s.test_id for s in samples if s.run_id == run.id and s.flaky}
    chosen = retried | {test_id for test_id in now if test_id not in before}
    tests = []
    for test_id in sorted(chosen):
        verdict = now.get(test_id)
        tests.append(
            {
                "id": test_id,
                "retried": test_id in retried,
                "score": None if verdict is None else round(verdict.score, 4),
                "reasons": (
                    ["passed on a retry in this run"] if verdict is None else list(verdict.reasons)
                ),
            }
        )
    return tests


def _failures(store: Store, run: StoredRun) -> list[dict[str, Any]]:
    bad = queries.results(store, run.id, outcomes=queries.BAD, limit=FAILURES_LISTED)
    return [
        {
            "id": r.key,
            "outcome": r.outcome,
            "message": None if r.message is None else r.message[:_MESSAGE],
        }
        for r in bad
    ]


def _make(event: str, **fields: Any) -> Announcement:
    event_id = uuid.uuid4().hex
    document = {"event": event, "id": event_id, "created_at": _iso(datetime.now(UTC)), **fields}
    return Announcement(event, event_id, document)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# -- Slack: an incoming-webhook message (`text` for notifications, `blocks` for the channel).


def slack_message(document: dict[str, Any]) -> dict[str, Any]:
    """The Slack message for an event document: a one-line `text` and a few `blocks`."""
    event = document["event"]
    run = document.get("run")
    if run is None:
        headline = f":wave: {document.get('message', 'Assay webhook test')}"
        details: list[str] = []
    elif event == "test.flaky_detected":
        tests = document.get("tests", [])
        headline = (
            f":warning: {_plural(len(tests), 'flaky test')} in run {run['id']} of {run['project']}"
        )
        details = [f"`{_escape(t['id'])}`: {_escape('; '.join(t['reasons']))}" for t in tests]
    else:
        headline = f"{_ICONS.get(run['status'], ':grey_question:')} {_run_line(run)}"
        details = [
            f"`{_escape(f['id'])}` {f['outcome']}"
            + (f": {_escape(f['message'].splitlines()[0])}" if f.get("message") else "")
            for f in document.get("failures", [])
        ]
    headline = _escape(headline)
    blocks: list[dict[str, Any]] = [_section(f"*{headline}*")]
    if details:
        blocks.append(_section(_bullets(details)))
    context = []
    if run is not None and run["branch"]:
        context.append(f"branch `{_escape(run['branch'])}`")
    if run is not None and run["commit"]:
        context.append(f"commit `{_escape(run['commit'][:12])}`")
    context.append(f"event `{event}`")
    if run is not None and run["url"].startswith(("http://", "https://")):
        context.append(f"<{run['url']}|open the run>")
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
    )
    return {"text": headline, "blocks": blocks}


_ICONS = {"passed": ":white_check_mark:", "failed": ":x:", "interrupted": ":warning:"}


def _run_line(run: dict[str, Any]) -> str:
    counts = run["counts"]
    parts = [f"{counts['passed']} passed"]
    parts += [
        f"{counts[key]} {label}"
        for key, label in (
            ("failed", "failed"),
            ("errors", "errors"),
            ("timeouts", "timed out"),
            ("skipped", "skipped"),
            ("flaky", "flaky"),
        )
        if counts[key]
    ]
    verb = "was interrupted" if run["status"] == "interrupted" else run["status"]
    line = f"Run {run['id']} of {run['project']} {verb}: {', '.join(parts)}"
    if run["duration"] is not None:
        seconds = run["duration"]
        line += f" in {seconds * 1000:.0f}ms" if seconds < 1 else f" in {seconds:.1f}s"
    return line + (f" ({run['reason']})" if run["reason"] else "")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _bullets(lines: list[str]) -> str:
    text = ""
    for n, line in enumerate(lines):
        entry = f"• {line}\n"
        if len(text) + len(entry) > _SLACK_TEXT:
            return text + f"… and {len(lines) - n} more"
        text += entry
    return text.rstrip("\n")


def _escape(text: str) -> str:
    """Text as Slack's mrkdwn shows it literally: `&`, `<` and `>` are its markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
