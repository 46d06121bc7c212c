"""The dashboard's pages, read over HTTP from a real server: content, escaping, paging, auth.

What a browser does with them (live progress, the log stream) is in
`test_dashboard_browser.py`; here the HTML itself is checked, as a client
that runs no script would get it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from assay.model import Attempt, Failure, Outcome
from assay.model.records import ResultRecord, TestRecord
from assay.server.auth import COOKIE
from assay.server.ui import charts
from assay.server.ui.links import static_version
from assay.server.ui.rendering import CSP
from assay.store import Store
from assay.store.queries import StoredRun, StoredSample
from fixtures.databases import database
from fixtures.server import LiveServer, live_server
from fixtures.stored_runs import (
    GREETS,
    KEEPS,
    RETRY,
    T0,
    WRONG,
    demo_runs,
    record,
    write_run,
)

EVIL = "<script>alert(1)</script>"


class Html(HTMLParser):
    """A page's elements, with their attributes, and whether any script is inline."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.inline_scripts = 0
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """The attributes of each `tag` whose attributes contain `attrs` (`class_` for class)."""
        found = []
        for name, have in self.elements:
            if name != tag:
                continue
            wanted = {k.rstrip("_"): v for k, v in attrs.items()}
            if all(
                v in have.get(k, "").split() if k == "class" else have.get(k) == v
                for k, v in wanted.items()
            ):
                found.append(have)
        return found

    def rows(self) -> list[int]:
        """The positions of the results listed on a run's page."""
        return [int(a["data-position"]) for a in self.find("tr", class_="result")]

    def next_href(self) -> str | None:
        """Where the pager's next page is."""
        found = self.find("a", rel="next")
        return found[0]["href"] if found else None


def get_page(client: httpx.Client, path: str, status: int = 200) -> tuple[httpx.Response, Html]:
    """`path` as a page: its status checked, the dashboard's headers checked, parsed."""
    response = client.get(path)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    return response, Html(response.text)


def assert_no_inline_code(response: httpx.Response, page: Html) -> None:
    """Nothing on the page runs or styles inline: the CSP would refuse it anyway."""
    assert page.inline_scripts == 0
    assert all(a.get("src", "").startswith("/ui/static/") for a in page.find("script"))
    for tag, attrs in page.elements:
        assert "style" not in attrs, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert "<style" not in response.text


# -- A server with a few runs of every kind of result, shared by the tests that only read.


@dataclass
class Demo:
    """A server and the ids of its four demo runs (`fixtures.stored_runs.demo_runs`)."""

    server: LiveServer
    runs: list[int]

    def client(self, *scopes: str) -> httpx.Client:
        """A client of the server."""
        return self.server.client(*scopes)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    directory = tmp_path_factory.mktemp("dashboard")
    with database("sqlite", directory) as url, live_server(directory / "project", url) as live:
        yield Demo(live, demo_runs(live.store))


def history_of(key: str) -> str:
    """The dashboard's path of a test's page."""
    return f"/tests/{quote(key, safe='/:')}"


PAGES = [
    ("home", "/", ["Recent runs", "Trend of the last 4 finished runs"]),
    ("run", "/runs/{third}", ["Run #{third}", "wrong greeting", "problems"]),
    ("result", "/runs/{third}/results/1", ["wrong greeting", "History of this test"]),
    ("test", history_of(WRONG), ["Outcome and duration", "Results, newest first"]),
    ("tests", "/tests", [GREETS.split("::")[1], "Search test ids"]),
    ("flaky", "/flaky", ["Flaky tests", "passes on retry"]),
    ("failures", "/failures", ["Failure clusters", "keeps failing"]),
    ("compare", "/compare", ["Compare runs", "New failures", "Fixed"]),
    ("compare-two", "/compare?base={first}&head={third}", ["Run #{first}", "Run #{third}"]),
    ("login", "/login", ["API token"]),
    ("logout", "/logout", ["Log out"]),
]


@pytest.mark.parametrize(
    ("path", "texts"), [(p, t) for _, p, t in PAGES], ids=[n for n, _, _ in PAGES]
)
def test_every_page_renders(demo: Demo, path: str, texts: list[str]) -> None:
    ids = {"first": demo.runs[0], "third": demo.runs[2]}
    with demo.client() as client:
        response, page = get_page(client, path.format(**ids))
    for text in texts:
        assert text.format(**ids) in response.text
    assert_no_inline_code(response, page)
    assert page.find("link", rel="stylesheet")[0]["href"].startswith("/ui/static/app.css?v=")


def test_pages_render_on_each_backend(server: LiveServer) -> None:
    runs = demo_runs(server.store)
    paths = [
        "/",
        f"/runs/{runs[2]}",
        f"/runs/{runs[2]}?outcome=failed&search=greeting&sort=-duration",
        f"/runs/{runs[2]}/results/4",
        history_of(RETRY),
        "/tests?search=api",
        "/flaky",
        "/failures",
        f"/compare?base={runs[1]}&head={runs[2]}",
    ]
    with server.client() as client:
        for path in paths:
            get_page(client, path)


def test_home_draws_the_trend_and_links_each_run(demo: Demo) -> None:
    with demo.client() as client:
        response, page = get_page(client, "/")
    assert len(page.find("svg", class_="trend")) == 1
    marks = [a["href"] for a in page.find("a", class_="mark")]
    assert marks == [f"/runs/{run}" for run in demo.runs]  # oldest first
    assert [int(a["data-run"]) for a in page.find("tr", class_="run")] == demo.runs[::-1]
    assert "Start a run" not in response.text  # reading is public; starting is not


def test_the_run_page_counts_filters_and_links(demo: Demo) -> None:
    third = demo.runs[2]
    with demo.client() as client:
        response, page = get_page(client, f"/runs/{third}")
        assert page.rows() == list(range(8))
        chips = {a["data-filter"]: a["href"] for a in page.find("a", class_="chip")}
        assert chips["problems"] == f"/runs/{third}?outcome=failed&outcome=error&outcome=timeout"
        assert 'data-count="failed"><span class="n">3</span>' in response.text
        assert page.find("progress", id="progress")[0]["value"] == "8"
        assert not page.find("section", id="run-summary")[0].get("data-events")

        _, problems = get_page(client, chips["problems"])
        assert problems.rows() == [1, 2, 3, 4, 7]
        _, found = get_page(client, f"/runs/{third}?search=greet")
        assert found.rows() == [0, 1]
        _, slowest = get_page(client, f"/runs/{third}?sort=-duration")
        assert slowest.rows()[0] == 4  # the timeout, 200ms
    result_links = {a["href"] for a in page.find("a", class_="name")}
    assert f"/runs/{third}/results/1" in result_links
    assert history_of(WRONG).replace(" ", "%20") in {a["href"] for a in page.find("a")}


def test_a_failure_shows_its_diff_attempts_and_logs(demo: Demo) -> None:
    third = demo.runs[2]
    with demo.client() as client:
        response, page = get_page(client, f"/runs/{third}/results/1")
        assert [a["class"] for a in page.find("span") if a.get("class") in ("add", "del")] == [
            "del",
            "add",
        ]
        assert '<span class="del">-BETA</span><span class="add">+beta</span>' in response.text
        assert "warning: &lt;script&gt;alert(1)&lt;/script&gt;" in response.text
        assert page.find("a", rel="next")[0]["href"] == f"/runs/{third}/results/2"

        retried, retry_page = get_page(client, f"/runs/{third}/results/6")
        assert len(retry_page.find("details", class_="attempt")) == 1
        assert "Attempt 1 of 2 · exit 1" in retried.text
        assert "Attempt 2 of 2 · exit 0" in retried.text

        slow, slow_page = get_page(client, f"/runs/{third}/results/4")
        assert "killed by SIGKILL" in slow.text
        assert "last 4.0 KiB of 9.8 KiB" in slow.text
        (full,) = [a["href"] for a in slow_page.find("a") if a["href"].startswith("/api/")]
        log = client.get(full)
    assert log.status_code == 200
    assert log.text.startswith("line 00000 of a long log\n")


def test_a_test_page_charts_its_history_and_explains_flakiness(demo: Demo) -> None:
    with demo.client() as client:
        response, page = get_page(client, history_of(RETRY))
        steady, _ = get_page(client, history_of(KEEPS))
    marks = page.find("a", class_="mark")
    assert len(marks) == 3
    assert marks[0]["href"] == f"/runs/{demo.runs[0]}?search={quote(RETRY, safe='')}".replace(
        "%20", "+"
    )
    assert len(page.find("rect", class_="flaky")) == 1
    assert "passed and failed on the same commit 0123456 (runs 1, 2)" in response.text
    assert "Not flaky" in steady.text
    assert "a steady failure, not a flaky one" in steady.text


def test_the_flaky_and_failures_pages_explain_themselves(demo: Demo) -> None:
    with demo.client() as client:
        flaky, flaky_page = get_page(client, "/flaky")
        failures, failures_page = get_page(client, "/failures?runs=10")
    assert [a["href"] for a in flaky_page.find("a", class_="test-name")] == [history_of(RETRY)]
    assert "passed and failed on the same commit" in flaky.text
    assert failures_page.find("code", class_="signature")
    assert "exit code 1" in failures.text


# -- Untrusted text.


def test_names_messages_and_output_are_text_not_markup(sqlite_server: LiveServer) -> None:
    evil_id = f"x.assay.yaml::{EVIL}<img src=x onerror=alert(2)>"
    failure = Failure(
        "stdout", f"{EVIL} differs", "a", "b", f"--- e\n+++ a\n@@ -1 +1 @@\n-{EVIL}\n"
    )
    records = [record(evil_id, "failed", failures=[failure], stdout=EVIL, stderr=EVIL)]
    runs = [write_run(sqlite_server.store, records, minutes=m, branch=EVIL) for m in (0, 1)]
    paths = [
        "/",
        f"/runs/{runs[1]}",
        f"/runs/{runs[1]}/results/0",
        history_of(evil_id),
        "/tests",
        "/failures",
        f"/compare?base={runs[0]}&head={runs[1]}",
        f"/runs/{runs[1]}?search={quote(EVIL)}",
    ]
    with sqlite_server.client() as client:
        for path in paths:
            response, page = get_page(client, path)
            assert "<script>alert" not in response.text, path
            assert "<img src=x" not in response.text, path
            assert not page.find("img", src="x")
            assert_no_inline_code(response, page)
        result, _ = get_page(client, f"/runs/{runs[1]}/results/0")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.text


def test_chart_text_is_escaped() -> None:
    run = StoredRun(
        1, "p", "failed", "cli", None, None, None, None, None, T0, 1.5, 4, 3, 1, 0, 0, 0, 0, None
    )
    sample = StoredSample(EVIL, 1, T0, EVIL, 0.5, Outcome.FAILED, False, 0.2, EVIL)
    trend = charts.trend_chart([run, run], lambda i: f'/runs/{i}"><script>')
    history = charts.history_chart([sample], lambda i: f"/runs/{i}?q={EVIL}")
    for svg in (trend, history):
        assert "<script>" not in svg
        assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in history
    assert 'href="/runs/1&#34;&gt;&lt;script&gt;"' in trend
    assert charts.trend_chart([], str) == "" and charts.history_chart([], str) == ""


# -- Pages, never everything.


def many(count: int, *, failing_every: int = 10) -> list[ResultRecord]:
    """`count` results, one in `failing_every` failed; records are immutable, so they share."""
    passed = Attempt(1, Outcome.PASSED, T0, 0.001, exit_code=0)
    failed = Attempt(
        1, Outcome.FAILED, T0, 0.002, exit_code=1, failures=(Failure("exit", "exit code 1"),)
    )
    records = []
    for i in range(count):
        file = f"tests/big{i // 1000:03d}.assay.yaml"
        attempt = failed if i % failing_every == failing_every - 1 else passed
        test = TestRecord(f"{file}::case {i:06d}", f"case {i:06d}", file=file, line=i % 1000)
        records.append(ResultRecord(test, attempt.outcome, (attempt,), started_at=T0))
    return records


def test_results_are_paged_on_the_server(sqlite_server: LiveServer) -> None:
    run = write_run(sqlite_server.store, many(1234))
    seen: list[int] = []
    path: str | None = f"/runs/{run}"
    pages = 0
    with sqlite_server.client() as client:
        while path is not None:
            response, page = get_page(client, path)
            pages += 1
            assert len(page.rows()) <= 50
            assert f"page {pages} of 25" in response.text
            seen += page.rows()
            path = page.next_href()
            if pages == 2:
                assert page.find("a", rel="first")[0]["href"] == f"/runs/{run}"
        assert seen == list(range(1234))

        _, failed = get_page(client, f"/runs/{run}?outcome=failed")
        assert failed.rows() == list(range(9, 500, 10))
        next_href = failed.next_href()
        assert next_href is not None
        assert parse_qs(urlsplit(next_href).query)["outcome"] == ["failed"]
        _, second = get_page(client, next_href)
        assert second.rows()[0] == 509


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/runs/{run}?cursor=not-a-cursor", 400),
        ("/runs/{run}?outcome=bogus", 400),
        ("/runs/{run}?sort=-duration&cursor=WzFd", 400),
        ("/?cursor=WyJ4Il0", 400),
        ("/runs/999999", 404),
        ("/runs/{run}/results/99", 404),
        ("/runs/99999999999999999999999", 400),
        ("/tests/no/such.assay.yaml::test", 404),
        ("/compare?base=999999&head={run}", 404),
        ("/flaky?window=0", 400),
    ],
    ids=[
        "bad-cursor",
        "bad-outcome",
        "cursor-of-another-order",
        "bad-runs-cursor",
        "no-run",
        "no-result",
        "huge-id",
        "no-test",
        "compare-unknown",
        "bad-window",
    ],
)
def test_errors_are_pages(sqlite_server: LiveServer, path: str, status: int) -> None:
    run = write_run(sqlite_server.store, [record(GREETS)])
    with sqlite_server.client() as client:
        response, _ = get_page(client, path.format(run=run), status)
    assert "<h1>" in response.text


def test_runs_are_paged_newest_first(sqlite_server: LiveServer) -> None:
    runs = [write_run(sqlite_server.store, [record(GREETS)], minutes=m) for m in range(30)]
    with sqlite_server.client() as client:
        _, first = get_page(client, "/")
        listed = [int(a["data-run"]) for a in first.find("tr", class_="run")]
        href = first.next_href()
        assert href is not None
        _, second = get_page(client, href)
    listed += [int(a["data-run"]) for a in second.find("tr", class_="run")]
    assert listed == runs[::-1]
    assert len(first.find("a", class_="mark")) == 30
    assert second.find("svg") == []


def test_compare_shows_a_few_of_each_kind_and_pages_through_one(sqlite_server: LiveServer) -> None:
    base = write_run(sqlite_server.store, many(150, failing_every=10**9))
    head = write_run(sqlite_server.store, many(150, failing_every=1), minutes=1)
    with sqlite_server.client() as client:
        response, page = get_page(client, f"/compare?base={base}&head={head}")
        rows = [a for a in page.find("a") if a["href"].startswith("/tests/")]
        assert len(rows) == 20
        assert 'New failures <span class="n">150</span>' in response.text
        more = [a["href"] for a in page.find("a") if "kind=new_failures" in a["href"]]
        assert more == [f"/compare?base={base}&head={head}&kind=new_failures"]
        _, every = get_page(client, more[0])
        assert len([a for a in every.find("a") if a["href"].startswith("/tests/")]) == 100
        last, _ = get_page(client, more[0] + "&page=2")
    assert "Page 2 of 2" in last.text


def test_a_project_other_than_the_servers_own(sqlite_server: LiveServer) -> None:
    url = str(sqlite_server.store.engine.url)
    other = Store(url, sqlite_server.root / ".assay" / "artifacts", "other")
    try:
        run = write_run(other, [record(GREETS)])
    finally:
        other.close()
    with sqlite_server.client() as client:
        _, own = get_page(client, "/")
        _, theirs = get_page(client, "/?project=other")
        response, run_page = get_page(client, f"/runs/{run}")
    assert own.find("tr", class_="run") == []
    assert [a["data-run"] for a in theirs.find("tr", class_="run")] == [str(run)]
    assert [o["value"] for o in own.find("option")] == ["demo", "other"]
    history = [a["href"] for a in run_page.find("a") if a["href"].startswith("/tests/")]
    assert history[0].endswith("?project=other")
    assert "other" in response.text


@pytest.mark.slow
def test_a_hundred_thousand_results(sqlite_server: LiveServer) -> None:
    run = write_run(sqlite_server.store, many(100_000))
    with sqlite_server.client() as client:
        response, page = get_page(client, f"/runs/{run}")
        assert page.rows() == list(range(50))
        assert len(response.content) < 100_000
        assert "page 1 of 2000" in response.text
        _, failed = get_page(client, f"/runs/{run}?outcome=failed")
        assert len(failed.rows()) == 50
        _, deep = get_page(client, f"/runs/{run}?search=case%20099&sort=-duration")
        assert len(deep.rows()) == 50
        _, last = get_page(client, f"/runs/{run}/results/99999")
        assert last.find("h1")
        get_page(client, "/")


# -- A run that is still going.


def test_a_running_run_is_wired_for_live_updates(sqlite_server: LiveServer) -> None:
    from fixtures.databases import result
    from fixtures.databases import write_run as write_unfinished

    run = write_unfinished(sqlite_server.store, [result("a.assay.yaml::one")], finished=False)
    with sqlite_server.client() as client:
        response, page = get_page(client, f"/runs/{run}?log=0")
        fragment = client.get(f"/runs/{run}?fragment=1")
    (summary,) = page.find("section", id="run-summary")
    assert summary["data-events"] == f"/api/v1/runs/{run}/events"
    assert summary["data-result-url"] == f"/runs/{run}/results/{{position}}"
    assert "value" not in page.find("progress")[0]  # indeterminate until the events say
    (panel,) = page.find("section", id="log-panel")
    assert panel["data-log-url"] == f"/api/v1/runs/{run}/results/{{position}}/log"
    assert (panel["data-selected-position"], panel["data-selected-name"]) == ("0", "one")
    assert page.find("ul", id="running")
    assert "<html" not in fragment.text
    assert 'id="run-summary"' in fragment.text and 'id="results"' in fragment.text
    assert "Cancel run" not in response.text  # only for a token with the `run` scope


# -- Logging in, and who may start runs.


def login(server: LiveServer, token: str, **headers: str) -> httpx.Response:
    """POST the login form as a browser on the server's own page would."""
    with server.client() as client:
        return client.post(
            "/login",
            data={"token": token, "next": "/flaky"},
            headers={"Origin": server.url, **headers},
        )


def test_logging_in_keeps_the_token_in_a_strict_httponly_cookie(sqlite_server: LiveServer) -> None:
    secret = sqlite_server.token("run")
    response = login(sqlite_server, secret)
    assert response.status_code == 303
    assert response.headers["location"] == "/flaky"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={secret};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    with sqlite_server.client(cookies={COOKIE: secret}) as client:
        page, _ = get_page(client, "/")
        out = client.post("/logout", headers={"Origin": sqlite_server.url})
    assert 'title="scopes: run">run</span>' in page.text
    assert "Start a run" in page.text
    assert out.status_code == 303
    assert out.headers["set-cookie"].startswith(f'{COOKIE}="";')


@pytest.mark.parametrize(
    ("token", "origin", "status"),
    [("assay_wrong", None, 401), ("", None, 400), (None, "http://elsewhere.example", 403)],
    ids=["wrong-token", "no-token", "foreign-origin"],
)
def test_a_login_that_fails_sets_no_cookie(
    sqlite_server: LiveServer, token: str | None, origin: str | None, status: int
) -> None:
    secret = sqlite_server.token("read") if token is None else token
    response = login(sqlite_server, secret, **({"Origin": origin} if origin else {}))
    assert response.status_code == status
    assert "set-cookie" not in response.headers
    assert "text/html" in response.headers["content-type"]


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[LiveServer]:
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "project", url, public_read=False) as live,
    ):
        yield live


def test_where_reading_needs_a_token_pages_send_to_the_login(private_server: LiveServer) -> None:
    run = write_run(private_server.store, [record(GREETS)])
    with private_server.client(cookies={COOKIE: "assay_revoked"}) as client:
        stale = client.get("/")
        assert stale.headers["location"] == "/login?next=%2F&expired=1"
        assert stale.headers["set-cookie"].startswith(f'{COOKIE}="";')
    with private_server.client() as client:
        response = client.get(f"/runs/{run}?outcome=passed")
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next=%2Fruns%2F{run}%3Foutcome%3Dpassed"
        form, _ = get_page(client, "/login?expired=1")
        assert "not valid any more" in form.text
        static = client.get("/ui/static/app.css")
        assert static.status_code == 200  # the dashboard's own files are no secret
    with private_server.client(cookies={COOKIE: private_server.token("read")}) as client:
        get_page(client, f"/runs/{run}")


@pytest.mark.parametrize(
    ("scopes", "form_status", "shown"),
    [((), 303, False), (("read",), 403, False), (("run",), 200, True), (("admin",), 200, True)],
    ids=["nobody", "read", "run", "admin"],
)
def test_the_start_form_is_for_the_run_scope(
    sqlite_server: LiveServer, scopes: tuple[str, ...], form_status: int, shown: bool
) -> None:
    cookies = {COOKIE: sqlite_server.token(*scopes)} if scopes else {}
    with sqlite_server.client(cookies=cookies) as client:
        home = client.get("/")
        form = client.get("/runs/new")
    assert ('href="/runs/new"' in home.text) is shown
    assert form.status_code == form_status
    if form_status == 303:
        assert form.headers["location"] == "/login?next=%2Fruns%2Fnew"
    if shown:
        assert '<option value="suites">' in form.text


def test_the_form_starts_a_run_and_goes_to_its_page(server: LiveServer) -> None:
    with server.client("run") as client:
        response = client.post("/runs/new", data={"suite": "suites", "jobs": "2", "tags": ""})
    assert response.status_code == 303
    run_id = int(response.headers["location"].rsplit("/", 1)[1])
    run = server.wait_for_run(run_id)
    assert (run["status"], run["total"], run["trigger"]) == ("failed", 3, "server")
    with server.client() as client:
        _, page = get_page(client, f"/runs/{run_id}")
    assert page.rows() == [0, 1, 2]


def test_a_form_posted_from_another_origin_starts_nothing(sqlite_server: LiveServer) -> None:
    cookies = {COOKIE: sqlite_server.token("run")}
    with sqlite_server.client(cookies=cookies) as client:
        response = client.post(
            "/runs/new", data={"suite": "suites"}, headers={"Origin": "http://evil.example"}
        )
        runs = client.get("/api/v1/runs").json()["items"]
    assert response.status_code == 403
    assert "this origin may not change anything here" in response.text
    assert runs == []


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"suite": "nowhere"}, 404, "no registered suite &#39;nowhere&#39;"),
        ({"suite": "suites/broken.assay.yaml"}, 422, "broken.assay.yaml:3"),
        ({"suite": "suites", "jobs": "zero"}, 422, "a whole number from 1 to 1000"),
        ({"suite": "suites", "timeout": "soon"}, 422, "invalid duration"),
        ({"suite": ""}, 422, "choose a suite"),
    ],
    ids=["unknown-suite", "broken-suite", "bad-jobs", "bad-timeout", "no-suite"],
)
def test_the_form_says_what_is_wrong(
    sqlite_server: LiveServer, form: dict[str, str], status: int, message: str
) -> None:
    sqlite_server.write_suite("broken.assay.yaml", "tests:\n  - name: x\n    runn: true\n")
    with sqlite_server.client("run") as client:
        response = client.post("/runs/new", data=form)
        runs = client.get("/api/v1/runs").json()["items"]
    assert response.status_code == status
    assert message in response.text
    assert f'value="{form["suite"]}"' in response.text  # what was typed is kept
    assert runs == []


def test_a_run_is_cancelled_from_its_page(sqlite_server: LiveServer) -> None:
    sqlite_server.write_suite("slow.assay.yaml", "tests:\n  - name: sleeps\n    run: sleep 60\n")
    with sqlite_server.client("run") as client:
        started = client.post("/runs/new", data={"suite": "suites/slow.assay.yaml"})
        run_path = started.headers["location"]
        page = client.get(run_path)
        assert "Cancel run" in page.text
        cancelled = client.post(f"{run_path}/cancel")
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == run_path
    run = sqlite_server.wait_for_run(int(run_path.rsplit("/", 1)[1]))
    assert run["status"] == "interrupted"


# -- The dashboard's own files.


@pytest.mark.parametrize(
    ("name", "content_type", "starts"),
    [
        ("app.css", "text/css; charset=utf-8", "/*"),
        ("app.js", "text/javascript; charset=utf-8", "//"),
        ("icon.svg", "image/svg+xml", "<svg"),
    ],
    ids=["css", "js", "icon"],
)
def test_static_files_are_served_from_the_package(
    demo: Demo, name: str, content_type: str, starts: str
) -> None:
    with demo.client() as client:
        current = client.get(f"/ui/static/{name}", params={"v": static_version(name)})
        unversioned = client.get(f"/ui/static/{name}")
    assert current.status_code == 200
    assert current.headers["content-type"] == content_type
    assert current.headers["x-content-type-options"] == "nosniff"
    assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert unversioned.headers["cache-control"] == "no-cache"
    assert current.text.startswith(starts)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", current.text)


@pytest.mark.parametrize(
    "path",
    ["/ui/static/nope.js", "/ui/static/..%2Frendering.py", "/ui/static/%2e%2e%2f__init__.py"],
    ids=["unknown", "escaped-dotdot", "encoded-dots"],
)
def test_only_known_static_files_are_served(demo: Demo, path: str) -> None:
    with demo.client() as client:
        response = client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text


def test_the_dashboard_is_not_part_of_the_api_description(demo: Demo) -> None:
    with demo.client() as client:
        spec = client.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert paths and all(
        p.startswith("/api/") or p in {"/healthz", "/readyz", "/metrics"} for p in paths
    )


def test_times_are_shown_in_utc(demo: Demo) -> None:
    with demo.client() as client:
        response, _ = get_page(client, f"/runs/{demo.runs[0]}")
    started = datetime.fromtimestamp(T0.timestamp(), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert started in response.text
