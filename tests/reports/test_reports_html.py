"""The HTML report of a stored run, in a real headless Chromium.

The page is opened from its file, as a user would open a CI artifact; every
test checks that it asked for nothing but `file:` URLs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from assay.model import Attempt, Failure, Outcome
from assay.model.records import ResultRecord, TestRecord
from assay.reports.document import build_document
from assay.reports.html import embedded_json, render_html, write_html
from assay.store import Store
from fixtures.stored_runs import (
    GREETS,
    KEEPS,
    ODD,
    RETRY,
    SLOW,
    T0,
    WRONG,
    demo_runs,
    make_store,
    record,
    write_run,
)

if TYPE_CHECKING:
    # Imported by `pytest_plugins` below (first, so pytest can rewrite its asserts).
    from fixtures.browser import Tab

pytest_plugins = ("fixtures.browser",)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "out" / "test-artifacts" / "html-report.png"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[int]]:
    store = make_store(tmp_path_factory.mktemp("html"))
    return store, demo_runs(store)


@pytest.fixture(scope="module")
def report(demo: tuple[Store, list[int]]) -> Path:
    """The report of the demo's third run, written beside (not inside) the artifact store."""
    store, runs = demo
    return write_html(store, runs[2], store.artifacts_dir.parent / "reports" / "run 3.html")


def open_report(tab: Tab, path: Path) -> Page:
    """`path` opened in `tab`, once its script has drawn the first page."""
    tab.page.goto(path.as_uri())
    expect(tab.page.locator("body")).to_have_attribute("data-ready", "true")
    return tab.page


def row(page: Page, test_id: str) -> Any:
    """The list item of `test_id` (on the current page)."""
    return page.locator("li.result").filter(has=page.locator(".id", has_text=test_id))


def shown_ids(page: Page) -> list[str]:
    """The test ids on the current page, in order (without their tags)."""
    ids: list[str] = page.locator("li.result .id").evaluate_all(
        "nodes => nodes.map(n => n.firstChild.textContent)"
    )
    return ids


def test_header_shows_the_run(tab: Tab, report: Path) -> None:
    page = open_report(tab, report)
    assert page.title() == "Assay run 3 · failed · demo"
    expect(page.locator("#status")).to_have_text("failed")
    counts = page.locator("#counts .count").all_inner_texts()
    assert [" ".join(c.split()) for c in counts] == [
        "8 tests",
        "3 failed",
        "1 error",
        "1 timeout",
        "1 skipped",
        "1 flaky",
        "2 passed",
    ]
    facts = dict(
        zip(
            page.locator(".facts dt").all_inner_texts(),
            page.locator(".facts dd").all_inner_texts(),
            strict=True,
        )
    )
    assert facts == {
        "duration": "12.50s",
        "branch": "main",
        "commit": "0123456789ab",
        "started": "2024-05-01 12:20:00 UTC",
        "trigger": "cli",
    }
    buttons = page.locator("#filters button").all_inner_texts()
    assert [" ".join(b.split()) for b in buttons] == [
        "all8",
        "failed3",
        "error1",
        "timeout1",
        "skipped1",
        "flaky1",
        "passed2",
    ]
    expect(page.locator("#showing")).to_have_text("Showing 1–8 of 8 results")
    assert tab.remote_requests() == []


@pytest.mark.parametrize(
    ("name", "outcomes", "count"),
    [
        ("failed", {"failed"}, 3),
        ("error", {"error"}, 1),
        ("timeout", {"timeout"}, 1),
        ("skipped", {"skipped"}, 1),
        ("flaky", {"passed"}, 1),
        ("passed", {"passed"}, 2),
        ("all", {"passed", "failed", "error", "timeout", "skipped"}, 8),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_filters(tab: Tab, report: Path, name: str, outcomes: set[str], count: int) -> None:
    page = open_report(tab, report)
    if name == "all":
        page.click("[data-filter=failed]")
    page.click(f"[data-filter={name}]")
    expect(page.locator(f"[data-filter={name}]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("li.result")).to_have_count(count)
    shown = page.locator("li.result").evaluate_all("nodes => nodes.map(n => n.dataset.outcome)")
    assert set(shown) == outcomes
    if name == "flaky":
        assert shown_ids(page) == [RETRY]
    assert tab.remote_requests() == []


def test_search_narrows_the_list(tab: Tab, report: Path) -> None:
    page = open_report(tab, report)
    page.fill("#search", "API.assay")
    expect(page.locator("#showing")).to_have_text("Showing 1–4 of 4 results")
    assert all(i.startswith("tests/api.assay.yaml::") for i in shown_ids(page))
    # Search and filter together.
    page.click("[data-filter=failed]")
    expect(page.locator("li.result")).to_have_count(0)
    expect(page.locator(".empty")).to_have_text("No results match.")
    page.click("[data-filter=timeout]")
    assert shown_ids(page) == [SLOW]
    page.click("[data-filter=all]")
    page.fill("#search", "`tick` <b>")
    expect(page.locator("li.result")).to_have_count(1)
    assert shown_ids(page) == [ODD]
    page.fill("#search", "")
    expect(page.locator("li.result")).to_have_count(8)
    assert tab.remote_requests() == []


def test_failed_row_expands_to_its_diff(tab: Tab, report: Path, tmp_path: Path) -> None:
    page = open_report(tab, report)
    page.click("[data-filter=failed]")
    wrong = row(page, WRONG)
    header = wrong.locator("button.row")
    expect(header).to_have_attribute("aria-expanded", "false")
    expect(wrong.locator(".message")).to_have_text("stdout: not exactly as expected")
    expect(wrong.locator(".details")).to_have_count(0)
    header.click()
    expect(header).to_have_attribute("aria-expanded", "true")
    details = wrong.locator(".details")
    expect(details.locator(".what")).to_have_text("✗ stdout: not exactly as expected")
    expect(details.locator("pre.expected")).to_have_text("alpha\nBETA\n")
    expect(details.locator("pre.actual")).to_have_text("alpha\nbeta\n")
    diff = details.locator("pre.diff")
    assert diff.locator("span.del").all_inner_texts() == ["-BETA"]
    assert diff.locator("span.add").all_inner_texts() == ["+beta"]
    assert diff.locator("span.hunk").all_inner_texts() == ["@@ -1,2 +1,2 @@"]
    colours = [
        diff.locator(f"span.{kind}").evaluate("n => getComputedStyle(n).backgroundColor")
        for kind in ("add", "del")
    ]
    assert len(set(colours)) == 2
    assert "rgba(0, 0, 0, 0)" not in colours
    # Output is shown as text, never run as markup.
    expect(details.locator("pre.stderr")).to_have_text("warning: <script>alert(1)</script>\n")
    assert page.locator("script").count() == 2
    expect(details.locator(".label", has_text="stdout")).to_have_text("stdout (11 B)")

    row(page, ODD).locator("button.row").click()
    assert row(page, ODD).locator(".id b").count() == 0
    assert shown_ids(page)[-1] == ODD

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)
    shutil.copy(SCREENSHOT, tmp_path / SCREENSHOT.name)
    assert SCREENSHOT.stat().st_size > 0

    # Pages and filters redraw the list; what was open stays open.
    page.click("[data-filter=all]")
    expect(row(page, WRONG).locator(".details pre.diff")).to_have_count(1)
    header = row(page, WRONG).locator("button.row")
    header.click()
    expect(row(page, WRONG).locator(".details")).to_have_count(0)
    assert tab.remote_requests() == []


def test_earlier_attempts_and_full_logs(tab: Tab, report: Path) -> None:
    page = open_report(tab, report)
    row(page, RETRY).locator("button.row").click()
    details = row(page, RETRY).locator(".details")
    expect(details.locator("details.attempt summary")).to_have_text(
        "Attempt 1 of 2 · failed · exit 1 · 10ms"
    )
    expect(details.locator("h3").last).to_have_text("Attempt 2 of 2 · passed · exit 0 · 10ms")

    row(page, SLOW).locator("button.row").click()
    slow = row(page, SLOW).locator(".details")
    expect(slow.locator("h3")).to_have_text("Attempt 1 of 1 · timeout · killed by SIGKILL · 200ms")
    expect(slow.locator(".label", has_text="stdout")).to_contain_text("last 4.0 KiB of 9.8 KiB")
    link = slow.locator("a", has_text="full log")
    href = link.get_attribute("href")
    assert href is not None
    assert href.startswith("../artifacts/")
    target = (report.parent / href).resolve()
    assert target.read_text().startswith("line 00000 of a long log\n")
    # The tail's end is in view: the last lines are the ones that explain a failure.
    pre = slow.locator("pre.stdout")
    assert pre.evaluate("n => n.scrollTop + n.clientHeight >= n.scrollHeight - 1")
    assert tab.remote_requests() == []


def test_history_sparkline(tab: Tab, report: Path) -> None:
    page = open_report(tab, report)
    spark = row(page, WRONG).locator(".spark")
    assert spark.locator("i").evaluate_all("ns => ns.map(n => n.className)") == [
        "o-passed",
        "o-passed",
        "now o-failed",
    ]
    assert spark.get_attribute("title") == "previous 2: passed, passed; this run: failed"
    assert row(page, SLOW).locator(".spark").get_attribute("title") == (
        "no earlier results; this run: timeout"
    )
    expect(row(page, WRONG).locator(".tags")).to_have_text("new")
    expect(row(page, KEEPS).locator(".tags")).to_have_text("")
    expect(row(page, RETRY).locator(".tags")).to_have_text("flaky")


def test_fits_a_phone(tab: Tab, report: Path, tmp_path: Path) -> None:
    page = tab.page
    page.set_viewport_size({"width": 375, "height": 740})
    open_report(tab, report)
    for test_id in (WRONG, SLOW, ODD):
        row(page, test_id).locator("button.row").click()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    expect(row(page, GREETS).locator(".badge").first).to_be_visible()
    page.screenshot(path=tmp_path / "html-report-phone.png", full_page=True)


def test_untrusted_names_cannot_inject_markup(tab: Tab, tmp_path: Path) -> None:
    store = make_store(tmp_path)
    evil = "x.assay.yaml::</script><img src=x onerror=alert(1)><!--"
    failure = Failure("stdout", "<img src=y onerror=alert(2)>", diff="+<b>bold</b>\n")
    run = write_run(
        store,
        [record(evil, "failed", failures=[failure], stdout="</script><script>alert(3)</script>")],
    )
    output = write_html(store, run, tmp_path / "evil.html")
    text = output.read_text()
    assert "</script><img" not in text
    assert "<!--" not in text.split("<script", 1)[1]
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.page.on("dialog", dismiss)
    page = open_report(tab, output)
    assert shown_ids(page) == [evil]
    row(page, evil).locator("button.row").click()
    expect(page.locator(".details pre.diff span.add")).to_have_text("+<b>bold</b>")
    assert page.locator("img, b").count() == 0
    assert dialogs == []
    assert tab.remote_requests() == []


def test_page_has_no_urls(report: Path) -> None:
    text = report.read_text()
    assert re.search(r"(?i)\b(?:https?|ftp|wss?):|//[a-z0-9.-]+\.[a-z]{2,}/", text) is None
    assert "Content-Security-Policy" in text


def test_embedded_json_round_trips() -> None:
    data = {"id": "</script><!-- & > \u2028", "n": [0, 1.5, None]}
    text = embedded_json(data)
    assert not set(text) & set("<>&")
    assert json.loads(text) == data


def test_render_needs_no_store(demo: tuple[Store, list[int]]) -> None:
    store, runs = demo
    document = build_document(store, runs[2])
    page = render_html(document)
    assert page.startswith("<!doctype html>")
    assert page == render_html(json.loads(json.dumps(document)))


@pytest.mark.slow
def test_a_hundred_thousand_results(tab: Tab, tmp_path: Path) -> None:
    store = make_store(tmp_path)
    # Records share their attempts (they are immutable): building 100,000 stays cheap.
    passed = Attempt(1, Outcome.PASSED, T0, 0.001, exit_code=0)
    failed = Attempt(
        1, Outcome.FAILED, T0, 0.001, exit_code=1, failures=(Failure("exit", "exit code 1"),)
    )
    records = []
    for i in range(100_000):
        file = f"tests/big{i // 1000:03d}.assay.yaml"
        attempt = failed if i % 1000 == 7 else passed
        test = TestRecord(f"{file}::case {i:06d}", f"case {i:06d}", file=file, line=i % 1000)
        records.append(ResultRecord(test, attempt.outcome, (attempt,), started_at=T0))
    write_run(store, records[:100])
    run = write_run(store, records, minutes=10)
    page = open_report(tab, write_html(store, run, tmp_path / "big.html"))

    expect(page.locator("#showing")).to_have_text("Showing 1–100 of 100000 results")
    expect(page.locator("li.result")).to_have_count(100)
    assert page.locator("#results *").count() < 2000
    assert page.locator("body *").count() < 2500
    assert shown_ids(page)[0] == "tests/big000.assay.yaml::case 000000"
    # The first hundred have history from the earlier run.
    expect(page.locator("li.result").first.locator(".spark i")).to_have_count(2)

    page.click("#next")
    expect(page.locator("#showing")).to_have_text("Showing 101–200 of 100000 results")
    assert shown_ids(page)[0] == "tests/big000.assay.yaml::case 000100"
    page.click("#last")
    expect(page.locator("#showing")).to_have_text("Showing 99901–100000 of 100000 results")
    expect(page.locator("#next")).to_be_disabled()
    page.fill("#page", "500")
    page.press("#page", "Enter")
    expect(page.locator("#showing")).to_have_text("Showing 49901–50000 of 100000 results")
    assert shown_ids(page)[0] == "tests/big049.assay.yaml::case 049900"
    expect(page.locator("li.result")).to_have_count(100)

    page.click("[data-filter=failed]")
    expect(page.locator("#showing")).to_have_text("Showing 1–100 of 100 results")
    expect(page.locator("#pages")).to_have_text("1")
    page.fill("#search", "big042")
    expect(page.locator("li.result")).to_have_count(1)
    assert shown_ids(page) == ["tests/big042.assay.yaml::case 042007"]
    row(page, "case 042007").locator("button.row").click()
    expect(page.locator(".details .what")).to_have_text("✗ exit code 1")
    assert tab.remote_requests() == []
