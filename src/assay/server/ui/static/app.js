// The Assay dashboard's one script: live run progress and the output of a running test.
//
// Every page works without it. It adds what needs a connection: on the page of a
// run that is still going it follows the run's events (Server-Sent Events) to move
// the progress bar and the counts, lists the tests running now and the problems so
// far, and swaps in the final summary and results when the run ends; on any run's
// page it streams the output of the test the user picks, then shows its stored
// tail. It builds the DOM with textContent only: names and output are untrusted.
"use strict";

(function () {
  const BAD = new Set(["failed", "error", "timeout"]);
  const MAX_PROBLEMS = 20; // listed live; the results table has them all once the run ends
  const MAX_LOG = 200000; // characters of streamed output kept on the page
  const STORE_RETRIES = 20; // results are stored in batches, up to half a second late

  document.documentElement.classList.add("js");

  function node(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = String(text);
    return element;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(String(values[key])));
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    const units = ["KiB", "MiB", "GiB"];
    let value = bytes / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return value.toFixed(1) + " " + units[unit];
  }

  function firstLine(text) {
    return (text || "").split("\n")[0];
  }

  // -- A run that is still going.

  function followRun(summary) {
    const state = {
      status: summary.dataset.status,
      total: null,
      done: 0,
      counts: {},
      running: new Map(), // position -> {name, attempt}
      problems: [], // newest first
    };
    const resultUrl = summary.dataset.resultUrl;
    let scheduled = false;
    const source = new EventSource(summary.dataset.events);

    function reset(total) {
      state.total = total;
      state.done = 0;
      state.counts = { passed: 0, failed: 0, error: 0, timeout: 0, skipped: 0, flaky: 0 };
      state.running.clear();
      state.problems = [];
    }

    // A late joiner gets the whole history in one burst: draw once per frame, not per event.
    function schedule() {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        draw();
      });
    }

    function on(kind, handle) {
      source.addEventListener(kind, (event) => {
        handle(JSON.parse(event.data));
        schedule();
      });
    }

    on("run.started", (data) => {
      reset(data.tests.length);
      state.status = "running";
    });
    on("test.started", (data) => {
      state.running.set(data.position, { name: data.name, attempt: 1 });
    });
    on("attempt.started", (data) => {
      const test = state.running.get(data.position);
      if (test) test.attempt = data.number;
    });
    on("test.finished", (data) => {
      const result = data.result;
      if (state.total === null) reset(0);
      state.running.delete(data.position);
      state.done += 1;
      state.counts[result.outcome] = (state.counts[result.outcome] || 0) + 1;
      if (result.flaky) state.counts.flaky += 1;
      if (BAD.has(result.outcome)) {
        state.problems.unshift({
          position: data.position,
          name: result.test.name,
          outcome: result.outcome,
          message: result.message || lastFailure(result) || result.reason,
        });
        state.problems.length = Math.min(state.problems.length, MAX_PROBLEMS);
      }
    });
    on("run.finished", (data) => {
      source.close(); // the stream ends here; without this the browser would reconnect
      state.status = data.interrupted ? "interrupted" : "finished";
      state.running.clear();
      if (data.counts) Object.assign(state.counts, data.counts);
      refresh();
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED && state.status !== "finished") {
        setText("progress-text", "live updates are not available: reload the page");
      }
    });

    function draw() {
      const progress = document.getElementById("progress");
      if (!progress) return;
      if (state.total !== null) {
        progress.max = Math.max(state.total, 1);
        progress.value = state.done;
        setText("progress-text", state.done + " of " + state.total + " tests");
        setCount("total", state.total);
        for (const [key, value] of Object.entries(state.counts)) setCount(key, value);
      }
      const badge = document.getElementById("run-status");
      if (badge && state.status !== "finished") {
        badge.textContent = state.status;
        badge.className = "badge o-" + state.status;
      }
      drawRunning();
      drawProblems();
    }

    function drawRunning() {
      const list = document.getElementById("running");
      if (!list) return;
      const items = [];
      for (const [position, test] of state.running) {
        const item = node("li");
        const button = node("button", "link", test.name);
        button.type = "button";
        button.dataset.logPosition = position;
        button.dataset.logName = test.name;
        item.append(button);
        if (test.attempt > 1) item.append(node("span", "attempt", "attempt " + test.attempt));
        items.push(item);
      }
      list.replaceChildren(...items);
      const empty = document.getElementById("running-empty");
      if (empty) {
        empty.hidden = items.length > 0;
        if (state.total !== null) empty.textContent = "Nothing is running right now.";
      }
    }

    function drawProblems() {
      const list = document.getElementById("live-problems");
      if (!list) return;
      list.replaceChildren(
        ...state.problems.map((problem) => {
          const item = node("li");
          const link = node("a", "", problem.name);
          link.href = fill(resultUrl, { position: problem.position });
          item.append(node("span", "badge o-" + problem.outcome, problem.outcome), " ", link);
          if (problem.message) item.append(" ", node("span", "muted", firstLine(problem.message)));
          return item;
        }),
      );
      const empty = document.getElementById("problems-empty");
      if (empty) empty.hidden = state.problems.length > 0;
    }

    // The run is stored: fetch this page again and swap in its final summary and results.
    async function refresh() {
      draw();
      const url = new URL(window.location.href);
      url.searchParams.set("fragment", "1");
      try {
        const response = await fetch(url, { headers: { Accept: "text/html" } });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const fragment = new DOMParser().parseFromString(await response.text(), "text/html");
        for (const id of ["run-summary", "results"]) {
          const fresh = fragment.getElementById(id);
          const old = document.getElementById(id);
          if (fresh && old) old.replaceWith(document.adoptNode(fresh));
        }
        document.title = document.title.replace(/ · (queued|running) · /, " · finished · ");
      } catch (error) {
        setText("progress-text", "finished: reload the page to see the results");
      }
    }
  }

  function lastFailure(result) {
    const attempts = result.attempts || [];
    const last = attempts[attempts.length - 1];
    return last && last.failures && last.failures.length ? last.failures[0].message : null;
  }

  function setText(id, text) {
    const element = document.getElementById(id);
    if (element) element.textContent = text;
  }

  function setCount(key, value) {
    const count = document.querySelector('#counts [data-count="' + key + '"] .n');
    if (count) count.textContent = String(value);
  }

  // -- The output of one test: live while it runs, then its stored tail.

  function logPanel(panel) {
    const live = document.getElementById("log-live");
    const stored = document.getElementById("log-stored");
    let source = null;
    let selected = null; // {position, name}
    let stream = "stdout";
    let generation = 0; // a newer selection makes older callbacks stale
    let shownAttempt = null;
    let sawRetry = false; // then the live view holds earlier attempts the stored tail lacks

    function stop() {
      if (source) source.close();
      source = null;
    }

    function open(position, name) {
      selected = { position: position, name: name };
      setText("log-name", name);
      panel.hidden = false;
      const url = new URL(window.location.href);
      url.searchParams.set("log", String(position));
      window.history.replaceState(null, "", url);
      connect();
      panel.scrollIntoView({ block: "nearest" });
    }

    function close() {
      stop();
      generation += 1;
      panel.hidden = true;
      selected = null;
      const url = new URL(window.location.href);
      url.searchParams.delete("log");
      window.history.replaceState(null, "", url);
    }

    function connect() {
      stop();
      generation += 1;
      live.textContent = "";
      live.hidden = true;
      stored.hidden = true;
      shownAttempt = null;
      sawRetry = false;
      setText("log-state", "Connecting…");
      follow(generation, 0);
    }

    // Follow the running attempt's output until it ends. A retry is a new attempt with a
    // file of its own: once one ends and no result is stored yet, look for the next.
    function follow(mine, tries) {
      let budget = tries;
      const url = fill(panel.dataset.logUrl, { position: selected.position });
      source = new EventSource(url + "?stream=" + stream);
      source.addEventListener("log", (event) => {
        if (mine !== generation) return;
        const data = JSON.parse(event.data);
        budget = 0;
        live.hidden = false;
        let text = live.textContent;
        if (shownAttempt !== null && data.attempt !== shownAttempt) {
          text += "\n--- attempt " + data.attempt + " ---\n";
          sawRetry = true;
        }
        shownAttempt = data.attempt;
        text += data.text;
        if (text.length > MAX_LOG) text = text.slice(text.length - MAX_LOG);
        const atEnd = live.scrollTop + live.clientHeight >= live.scrollHeight - 4;
        live.textContent = text;
        if (atEnd) live.scrollTop = live.scrollHeight;
        setText("log-state", "Running: attempt " + data.attempt + ", " + size(data.offset) + " so far");
      });
      source.addEventListener("end", () => {
        if (mine !== generation) return;
        stop();
        showStored(mine, budget);
      });
      source.addEventListener("error", () => {
        if (mine === generation && source && source.readyState === EventSource.CLOSED) {
          setText("log-state", "The output cannot be followed live here.");
          showStored(mine, STORE_RETRIES);
        }
      });
    }

    async function showStored(mine, tries) {
      const url = fill(panel.dataset.resultApi, { position: selected.position });
      let response;
      try {
        response = await fetch(url, { headers: { Accept: "application/json" } });
      } catch (error) {
        response = null;
      }
      if (mine !== generation) return;
      if (response && response.status === 404 && tries < STORE_RETRIES) {
        // Not stored yet: it is being retried, has not started, or is about to be stored.
        setText("log-state", "Waiting for the test's output or its result…");
        window.setTimeout(() => {
          if (mine === generation) follow(mine, tries + 1);
        }, 500);
        return;
      }
      if (!response || !response.ok) {
        setText("log-state", "No stored result yet: the test has not finished.");
        return;
      }
      const result = await response.json();
      if (mine !== generation) return;
      const attempts = result.attempts || [];
      const last = attempts[attempts.length - 1];
      const log = last ? last[stream] : null;
      setText("log-state", "Finished: " + result.outcome + (last ? ", attempt " + last.number : "") + ".");
      const label = document.getElementById("log-stored-label");
      const tail = (log && log.tail) || "";
      const shown = new TextEncoder().encode(tail).length;
      label.textContent =
        "Stored " + stream + " (" + (log && log.size > shown ? "last " + size(shown) + " of " + size(log.size) : size(log ? log.size : 0)) + ")";
      if (log && log.artifact) {
        const link = node("a", "", "full log");
        link.href = fill(panel.dataset.artifactUrl, { sha: log.artifact });
        label.append(" · ", link);
      }
      const pre = document.getElementById("log-stored-text");
      pre.textContent = tail || "(empty)";
      stored.hidden = false;
      // The stored tail is the whole log: the copy streamed live would only repeat it.
      if (!sawRetry && (!log || log.size <= shown)) live.hidden = true;
      pre.scrollTop = pre.scrollHeight;
    }

    panel.addEventListener("click", (event) => {
      const choice = event.target.closest("[data-log-stream]");
      if (choice && selected) {
        stream = choice.dataset.logStream;
        for (const button of panel.querySelectorAll("[data-log-stream]")) {
          button.setAttribute("aria-pressed", String(button === choice));
        }
        connect();
      }
      if (event.target.closest("#log-close")) close();
    });

    if (panel.dataset.selectedPosition) {
      open(Number(panel.dataset.selectedPosition), panel.dataset.selectedName);
    }
    return { open: open };
  }

  function start() {
    const panel = document.getElementById("log-panel");
    const logs = panel ? logPanel(panel) : null;
    document.addEventListener("click", (event) => {
      const button = event.target.closest("[data-log-position]");
      if (button && logs) {
        event.preventDefault();
        logs.open(Number(button.dataset.logPosition), button.dataset.logName);
      }
    });
    const summary = document.getElementById("run-summary");
    if (summary && summary.dataset.events) followRun(summary);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
