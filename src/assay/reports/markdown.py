"""The Markdown summary of one stored run, for `$GITHUB_STEP_SUMMARY` and merge-request comments.

GitHub- and GitLab-flavoured: a status line of text badges, a counts table,
where and how long the run ran, the failures (new ones first) with their
first message, and the flaky tests. Test ids come from users and from
foreign reports, so they are written as code spans (which show Markdown and
HTML literally) with table pipes escaped, and messages go in fenced blocks
whose fence is longer than any backtick run inside.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from assay.model.units import format_duration
from assay.reports.document import OUTCOMES, is_bad

MESSAGE_CHARS = 400
"""How much of a failure's message is shown before it is cut."""
MESSAGE_LINES = 8
MAX_FLAKY = 20

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_NOUNS = {"error": ("error", "errors"), "timeout": ("timeout", "timeouts")}


def render_markdown(document: dict[str, Any], *, max_failures: int = 20) -> str:
    """The summary of a document from `build_document`, listing at most `max_failures` failures."""
    run, counts, results = document["run"], document["counts"], document["results"]
    parts = [
        f"### Assay run {int(run['id'])} · {escape(run['project'])}",
        _status_line(run, counts),
        _counts_table(counts),
        _where(run),
    ]
    if run.get("reason"):
        parts.append(f"Reason: {escape(run['reason'])}")
    parts.extend(_failures([r for r in results if is_bad(r["outcome"])], max_failures))
    parts.extend(_flaky([r for r in results if r["flaky"]]))
    return "\n\n".join(parts) + "\n"


def escape(text: str) -> str:
    """`text` as literal Markdown text on one line: punctuation backslashed, HTML as entities."""
    text = _one_line(text).replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def code(text: str, *, in_table: bool = False) -> str:
    """`text` as a code span that holds any backticks in it; pipes escaped for table cells."""
    text = _one_line(text)
    runs = [len(run) for run in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    # A space on each side is stripped by the renderer, and keeps a leading or
    # trailing backtick from joining the fence.
    body = f" {text} " if runs or text.startswith(" ") else text
    span = f"{fence}{body}{fence}"
    return span.replace("|", "\\|") if in_table else span


def fenced(text: str) -> str:
    """A fenced code block of `text`, cut to `MESSAGE_LINES` lines and `MESSAGE_CHARS`."""
    lines = text.splitlines() or [""]
    cut = "\n".join(lines[:MESSAGE_LINES])
    if len(cut) > MESSAGE_CHARS:
        cut = cut[:MESSAGE_CHARS]
    if cut != "\n".join(lines):
        cut = cut.rstrip() + " … (truncated)"
    runs = [len(run) for run in re.findall(r"^\s*(`{3,})", cut, flags=re.M)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}\n{cut}\n{fence}"


def _one_line(text: str) -> str:
    # A line break in a name would end the list item or table row it is in.
    return " ".join(text.splitlines())


def _status_line(run: dict[str, Any], counts: dict[str, int]) -> str:
    badges = [f"**`{run['status'].upper()}`**"]
    for outcome in ("failed", "error", "timeout", "passed", "skipped", "flaky"):
        if counts[outcome]:
            badges.append(f"`{_count(counts[outcome], outcome)}`")
    total = counts["total"]
    duration = f" in {format_duration(run['duration'])}" if run["duration"] is not None else ""
    return f"{' '.join(badges)} · {total} {'test' if total == 1 else 'tests'}{duration}"


def _count(n: int, outcome: str) -> str:
    singular, plural = _NOUNS.get(outcome, (outcome, outcome))
    return f"{n} {singular if n == 1 else plural}"


def _counts_table(counts: dict[str, int]) -> str:
    rows = ["| outcome | tests |", "|:--|--:|"]
    rows += [f"| {outcome} | {counts[outcome]} |" for outcome in (*OUTCOMES, "flaky")]
    rows.append(f"| **total** | **{counts['total']}** |")
    return "\n".join(rows)


def _where(run: dict[str, Any]) -> str:
    started = datetime.fromisoformat(run["started_at"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    facts = [f"Started {started}"]
    if run.get("branch"):
        facts.append(f"branch {code(run['branch'])}")
    if run.get("commit"):
        dirty = " (with uncommitted changes)" if run.get("dirty") else ""
        facts.append(f"commit {code(run['commit'][:12])}{dirty}")
    return " · ".join(facts)


def _failures(bad: list[dict[str, Any]], limit: int) -> list[str]:
    if not bad:
        return []
    parts, room, left_out = [], max(0, limit), []
    groups = (
        ("New failures", "new", [r for r in bad if r["new_failure"]]),
        ("Still failing", "still failing", [r for r in bad if not r["new_failure"]]),
    )
    for title, word, group in groups:
        listed = group[:room]
        room -= len(listed)
        if listed:
            parts.append(f"#### {title} ({len(group)})")
            parts.append("\n".join(_failure(r) for r in listed))
        if len(group) > len(listed):
            left_out.append(f"{len(group) - len(listed)} {word}")
    if left_out:
        omitted = len(bad) - max(0, limit)
        verb = "failure is" if omitted == 1 else "failures are"
        parts.append(f"_{omitted} more {verb} not listed here ({', '.join(left_out)})._")
    return parts


def _failure(result: dict[str, Any]) -> str:
    item = f"- **{result['outcome']}** {code(result['id'])}"
    message = result["message"] or result["reason"]
    if not message:
        return item
    # Indented to the item's content, so the block belongs to the item.
    block = "\n".join(f"  {line}" if line else "" for line in fenced(message).splitlines())
    return f"{item}\n{block}"


def _flaky(flaky: list[dict[str, Any]]) -> list[str]:
    if not flaky:
        return []
    rows = ["| test | attempts | duration |", "|:--|--:|--:|"]
    rows += [
        f"| {code(r['id'], in_table=True)} | {len(r['attempts'])} | "
        f"{format_duration(r['duration'])} |"
        for r in flaky[:MAX_FLAKY]
    ]
    parts = [f"#### Flaky tests ({len(flaky)})", "\n".join(rows)]
    if len(flaky) > MAX_FLAKY:
        parts.append(f"_{len(flaky) - MAX_FLAKY} more flaky tests are not listed here._")
    return parts
