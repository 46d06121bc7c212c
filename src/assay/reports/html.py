"""The HTML report of one stored run: a single self-contained file.

The page is one file with its CSS and JS inline and the run embedded as
JSON; it loads nothing from anywhere (a Content-Security-Policy says so to
the browser too), so it can be attached to a CI job, mailed or opened
offline. The summary header is rendered here; the result list is drawn by
the script one page at a time, so a run of 100,000 results stays fast.
Test names and outputs are untrusted: this module escapes everything it
writes, and the script builds the DOM with `textContent` only.
"""

from __future__ import annotations

import html
import json
import os
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from assay.model.units import format_duration
from assay.reports.document import build_document, bulk_build
from assay.store import Store

FILTERS = ("all", "failed", "error", "timeout", "skipped", "flaky", "passed")

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="generator" content="assay">
<title>{title}</title>
<style>
{css}</style>
</head>
<body>
<header class="summary">
{header}
</header>
<main>
<div class="controls">
<div class="filters" id="filters" role="group" aria-label="Show results by outcome">
{filters}
</div>
<input type="search" id="search" placeholder="Search test ids ( / )" aria-label="Search test ids"
 autocomplete="off" spellcheck="false">
</div>
<p class="showing" id="showing" aria-live="polite"></p>
<noscript><p>The list of results needs JavaScript.</p></noscript>
<ol class="results" id="results"></ol>
<nav class="pager" id="pager" aria-label="Pages of results">
<button type="button" id="first" aria-label="First page">«</button>
<button type="button" id="prev" aria-label="Previous page">‹ Prev</button>
<label>Page <input type="number" id="page" min="1" value="1" inputmode="numeric"> of
<span id="pages">1</span></label>
<button type="button" id="next" aria-label="Next page">Next ›</button>
<button type="button" id="last" aria-label="Last page">»</button>
</nav>
</main>
<script type="application/json" id="assay-data">{data}</script>
<script>
{js}</script>
</body>
</html>
"""


def write_html(store: Store, run_id: int, output: Path) -> Path:
    """Write the HTML report of run `run_id` to `output`, linking logs relative to it."""
    target = output.parent.resolve()
    relative = Path(os.path.relpath(store.artifacts_dir.resolve(), target)).as_posix()
    document = build_document(store, run_id, artifacts_href=quote(relative))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_html(document), encoding="utf-8")
    return output


def render_html(document: dict[str, Any]) -> str:
    """The report page of a document from `build_document`, as one self-contained HTML file."""
    run, counts = document["run"], document["counts"]
    return _PAGE.format(
        csp=_CSP,
        title=html.escape(f"Assay run {run['id']} · {run['status']} · {run['project']}"),
        css=_asset("report.css"),
        header=_header(run, counts),
        filters="\n".join(_filter(name, counts) for name in FILTERS),
        data=_embedded_page_data(document),
        js=_asset("report.js"),
    )


def embedded_json(data: object) -> str:
    """`data` as JSON that cannot end or confuse the `<script>` element holding it.

    `<`, `>` and `&` only ever occur inside JSON strings, where their `\\u`
    escapes mean the same, so `</script>` and `<!--` cannot appear.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name: str) -> str:
    return resources.files("assay.reports").joinpath("html_assets", name).read_text("utf-8")


def _header(run: dict[str, Any], counts: dict[str, int]) -> str:
    status = html.escape(run["status"])
    title = (
        f'<h1><span class="badge o-{status}" id="status">{status}</span> '
        f"Assay run {int(run['id'])} "
        f'<span class="project">{html.escape(run["project"])}</span></h1>'
    )
    shown = [("total", "tests")] + [
        (name, name) for name in FILTERS[1:] if counts[name] or name in ("passed", "failed")
    ]
    items = "".join(
        f'<span class="count o-{key}" data-count="{key}"><span class="n">{counts[key]}</span> '
        f"{word}</span>"
        for key, word in shown
    )
    parts = [title, f'<p class="counts" id="counts">{items}</p>', _facts(run)]
    if run.get("reason"):
        parts.append(f'<p class="reason">{html.escape(run["reason"])}</p>')
    return "\n".join(parts)


def _facts(run: dict[str, Any]) -> str:
    started = datetime.fromisoformat(run["started_at"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    commit = run.get("commit")
    facts = [
        ("duration", format_duration(run["duration"]) if run["duration"] is not None else None),
        ("branch", run.get("branch")),
        ("commit", f"{commit[:12]}{' (dirty)' if run.get('dirty') else ''}" if commit else None),
        ("started", started),
        ("trigger", run.get("trigger")),
        ("host", run.get("host")),
        ("source", run.get("source")),
    ]
    items = "".join(
        f'<div><dt>{name}</dt><dd data-fact="{name}">{html.escape(str(value))}</dd></div>'
        for name, value in facts
        if value
    )
    return f'<dl class="facts">{items}</dl>'


def _filter(name: str, counts: dict[str, int]) -> str:
    count = counts["total" if name == "all" else name]
    return (
        f'<button type="button" data-filter="{name}" aria-pressed="{str(name == "all").lower()}">'
        f'{name}<span class="n">{count}</span></button>'
    )


def _embedded_page_data(document: dict[str, Any]) -> str:
    """What the script needs, without empty fields, so a page of 100,000 results stays small."""
    with bulk_build():
        return embedded_json(
            {
                "run": document["run"],
                "counts": document["counts"],
                "results": [_compact_result(r) for r in document["results"]],
            }
        )


def _compact_result(result: dict[str, Any]) -> dict[str, Any]:
    compact = _compact(result)
    # One letter per past outcome (P, F, E, T, S): 20 runs of history in 20 bytes.
    compact["history"] = "".join(outcome[0].upper() for outcome in result["history"])
    compact["attempts"] = [_compact(a) for a in result["attempts"]]
    return compact


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    # Keeps zeros (an exit code of 0 says something); drops None, False, "" and [].
    return {
        key: value for key, value in fields.items() if value or (value == 0 and value is not False)
    }
