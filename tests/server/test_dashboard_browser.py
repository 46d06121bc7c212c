"""The dashboard in a real headless Chromium, against a real server: what a person does with it.

Starting a run from the form and watching it progress live, following a
test's output through its retry, opening a failure to read its diff,
following a test's history, and all of it on a phone-sized screen. Each test saves screenshots under
`$ASSAY_TEST_ARTIFACTS/screenshots` (default `test-artifacts/screenshots`).
Nothing is timed: every wait is Playwright's, with a generous limit.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from fixtures.server import LiveServer

if TYPE_CHECKING:
    # Imported by `pytest_plugins` below (first, so pytest can rewrite its asserts).
    from playwright.sync_api import Browser

    from fixtures.browser import Tab

pytest_plugins = ("fixtures.browser",)

REPO = Path(__file__).resolve().parents[2]
WAIT = 30_000
"""Milliseconds any one expectation may take: a slow CI machine, never a timing check."""

LIVE_SUITE = """\
tests:
  - name: ticks slowly
    run: sh -c 'i=1; while [ $i -le 15 ]; do echo tick $i; i=$((i + 1)); sleep 0.3; done'
  - {name: sleeps a while, run: sleep 0.3}
  - name: wants yes
    run: echo nope
    expect: {stdout: "yes\\n"}
  - {name: sleeps again, run: sleep 0.3}
  - {name: sleeps once more, run: sleep 0.3}
"""


def flaky_suite(flag: Path) -> str:
    """A test that fails, then passes on its retry (a flag file outside its work dir)."""
    return f"""\
tests:
  - name: passes on a retry
    run: sh -c 'if [ -e {flag} ]; then rm {flag}; else touch {flag}; exit 1; fi'
    retries: 1
  - name: says hi
    run: echo hi
"""


def retried_suite(flag: Path) -> str:
    """A test that prints, fails, and on its retry prints something else and passes."""
    script = (
        f"if [ -e {flag} ]; then echo second try; sleep 1; "
        f"else touch {flag}; echo first try; sleep 2; exit 1; fi"
    )
    return f"tests:\n  - name: retried\n    run: [sh, -c, {json.dumps(script)}]\n    retries: 1\n"


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    root = Path(os.environ.get("ASSAY_TEST_ARTIFACTS") or REPO / "test-artifacts")
    path = root / "screenshots" / f"dashboard-{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 0
    return path


@dataclass
class Watch:
    """What a page complained about: script errors and refusals by its Content-Security-Policy."""

    problems: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        """Keep errors, except a 404 while a result is not stored yet (the script retries)."""
        if message.type == "error" and "404 (Not Found)" not in message.text:
            self.problems.append(message.text)


def watched(page: Page) -> Watch:
    """Record the page's script errors and CSP violations from now on."""
    watch = Watch()
    page.on("console", watch.console)
    page.on("pageerror", lambda error: watch.problems.append(str(error)))
    return watch


def assert_only_from(tab: Tab, server: LiveServer) -> None:
    """Every request the page made went to the server itself: nothing is loaded from elsewhere."""
    assert tab.requests
    assert [url for url in tab.requests if not url.startswith(server.url + "/")] == []


def log_in(page: Page, server: LiveServer, *scopes: str) -> None:
    """Log in through the login page with a token of `scopes`."""
    page.goto(server.url + "/")
    page.get_by_role("link", name="Log in").click()
    page.fill("#token", server.token(*scopes))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=WAIT)


def start_run(server: LiveServer, suite: str) -> int:
    """Start a run over the API and wait for it to end; its id."""
    with server.client("run") as client:
        response = client.post("/api/v1/runs", json={"suite": suite})
    assert response.status_code == 202, response.text
    run_id = int(response.json()["id"])
    server.wait_for_run(run_id)
    return run_id


def test_start_a_run_from_the_ui_and_watch_it_live(tab: Tab, sqlite_server: LiveServer) -> None:
    sqlite_server.write_suite("live.assay.yaml", LIVE_SUITE)
    page = tab.page
    watch = watched(page)
    page.goto(sqlite_server.url + "/")
    expect(page.get_by_role("link", name="Start a run")).to_have_count(0)  # reading is public
    log_in(page, sqlite_server, "run")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Start a run").click()
    page.fill("#suite", "suites/live.assay.yaml")
    page.fill("#jobs", "1")
    screenshot(page, "start-form")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"), timeout=WAIT)
    page.evaluate("window.assayMarker = 'same page'")

    # The slow test is listed while it runs; its output streams into the log panel.
    page.locator("#running button", has_text="ticks slowly").click(timeout=WAIT)
    expect(page.locator("#log-name")).to_have_text("ticks slowly")
    expect(page.locator("#log-panel")).to_contain_text("tick 2", timeout=WAIT)
    # Progress moves without a reload: some tests done, some not, the run still running.
    page.wait_for_function(
        """() => {
            const bar = document.getElementById("progress");
            const status = document.getElementById("run-status").textContent;
            const text = document.getElementById("progress-text").textContent;
            return status === "running" && bar.max === 5 && bar.value >= 1 && bar.value < 5
                && text === bar.value + " of 5 tests";
        }""",
        timeout=WAIT,
    )
    screenshot(page, "run-live")

    # The run ends: the final summary and the whole results table are swapped in.
    expect(page.locator("#run-status")).to_have_text("failed", timeout=WAIT)
    expect(page.locator("tr.result")).to_have_count(5, timeout=WAIT)
    expect(page.locator('#counts [data-count="passed"] .n')).to_have_text("4")
    expect(page.locator('#counts [data-count="failed"] .n')).to_have_text("1")
    expect(page.locator("#progress")).to_have_attribute("value", "5")
    expect(page.locator("#running")).to_have_count(0)
    expect(page.locator("#log-panel")).to_contain_text("Finished: passed", timeout=WAIT)
    expect(page.locator("#log-stored-text")).to_contain_text("tick 15")
    assert page.evaluate("window.assayMarker") == "same page"
    screenshot(page, "run-finished")
    assert watch.problems == []
    assert_only_from(tab, sqlite_server)


def test_open_a_failure_and_see_its_diff(tab: Tab, sqlite_server: LiveServer) -> None:
    run_id = start_run(sqlite_server, "suites")
    page = tab.page
    watch = watched(page)
    page.goto(f"{sqlite_server.url}/runs/{run_id}")
    page.locator('.chips [data-filter="problems"]').click()
    expect(page.locator("tr.result")).to_have_count(1)
    page.locator("tr.result a.name", has_text="wants yes").click()

    expect(page.locator("h1")).to_contain_text("wants yes")
    diff = page.locator(".attempt pre.diff")
    expect(diff.locator("span.del")).to_have_text(["-yes"])
    expect(diff.locator("span.add")).to_have_text(["+nope"])
    expect(diff.locator("span.hunk")).to_have_text(["@@ -1 +1 @@"])
    colours = [
        diff.locator(f"span.{kind}").evaluate("n => getComputedStyle(n).backgroundColor")
        for kind in ("add", "del")
    ]
    assert len(set(colours)) == 2 and "rgba(0, 0, 0, 0)" not in colours
    expect(page.locator(".attempt pre.stdout")).to_have_text("nope\n")
    screenshot(page, "failure-diff")
    assert watch.problems == []
    assert_only_from(tab, sqlite_server)


def test_follow_a_tests_history(tab: Tab, sqlite_server: LiveServer) -> None:
    sqlite_server.write_suite("flaky.assay.yaml", flaky_suite(sqlite_server.root / "flag"))
    runs = [start_run(sqlite_server, "suites/flaky.assay.yaml") for _ in range(2)]
    page = tab.page
    watch = watched(page)
    page.goto(f"{sqlite_server.url}/runs/{runs[-1]}")
    row = page.locator("tr.result", has_text="passes on a retry")
    expect(row.locator(".badge.o-flaky")).to_have_text("flaky")
    row.get_by_role("link", name="history").click()

    expect(page.locator("h1")).to_contain_text("passes on a retry")
    chart = page.locator("svg.chart.history")
    expect(chart.locator("a.mark")).to_have_count(2)
    expect(chart.locator("rect.cell.flaky")).to_have_count(2)
    expect(page.locator("#flaky")).to_contain_text("passed on retry in 2 of 2 runs")
    expect(page.locator("tr.sample")).to_have_count(2)
    screenshot(page, "test-history")

    chart.locator("a.mark").first.click()
    page.wait_for_url(re.compile(rf"/runs/{runs[0]}\?search="), timeout=WAIT)
    expect(page.locator("tr.result")).to_have_count(1)
    expect(page.locator("tr.result a.name")).to_have_text("passes on a retry")
    assert watch.problems == []
    assert_only_from(tab, sqlite_server)


def test_the_log_follows_a_test_through_its_retry(tab: Tab, sqlite_server: LiveServer) -> None:
    sqlite_server.write_suite("retried.assay.yaml", retried_suite(sqlite_server.root / "tried"))
    with sqlite_server.client("run") as client:
        run_id = client.post("/api/v1/runs", json={"suite": "suites/retried.assay.yaml"}).json()[
            "id"
        ]
    page = tab.page
    watch = watched(page)
    page.goto(f"{sqlite_server.url}/runs/{run_id}?log=0")  # selected by its link
    live = page.locator("#log-live")
    expect(live).to_contain_text("first try", timeout=WAIT)
    expect(live).to_contain_text("--- attempt 2 ---\nsecond try", timeout=WAIT)
    expect(page.locator("#log-state")).to_have_text("Finished: passed, attempt 2.", timeout=WAIT)
    expect(live).to_be_visible()  # the stored tail has the last attempt only
    expect(page.locator("#log-stored-text")).to_have_text("second try\n")
    assert watch.problems == []


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page the size of a phone's screen, with touch."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def test_usable_on_a_phone(phone: Page, sqlite_server: LiveServer) -> None:
    sqlite_server.write_suite("flaky.assay.yaml", flaky_suite(sqlite_server.root / "flag"))
    runs = [start_run(sqlite_server, "suites") for _ in range(2)]
    flaky_run = start_run(sqlite_server, "suites/flaky.assay.yaml")
    watch = watched(phone)
    pages = {
        "home": "/",
        "run": f"/runs/{runs[1]}",
        "result": f"/runs/{runs[1]}/results/2",
        "test": "/tests/suites/flaky.assay.yaml::passes on a retry",
        "flaky": "/flaky",
        "compare": f"/compare?base={runs[0]}&head={flaky_run}",
    }
    for name, path in pages.items():
        phone.goto(sqlite_server.url + path)
        expect(phone.locator("h1")).to_be_visible()
        width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], name
        screenshot(phone, f"phone-{name}")
    # A result is a card: its outcome, duration, name and message all within the screen.
    phone.goto(f"{sqlite_server.url}/runs/{runs[1]}")
    failed = phone.locator("tr.result", has_text="wants yes")
    failed.scroll_into_view_if_needed()
    for part in ("td.outcome .badge", "td.dur", "a.name", ".message"):
        box = failed.locator(part).bounding_box()
        assert box is not None, part
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, part
    assert watch.problems == []
