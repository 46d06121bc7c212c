/* The HTML report of one stored run: filters, search, pages and details over embedded data.
 *
 * Test ids, messages and outputs are untrusted, so every node is built with
 * createElement and textContent; nothing is parsed as HTML. At most one page
 * of rows (PAGE) is in the DOM, whatever the size of the run.
 */
(function () {
  "use strict";

  var PAGE = 100;
  var LETTERS = { P: "passed", F: "failed", E: "error", T: "timeout", S: "skipped" };
  var data = JSON.parse(document.getElementById("assay-data").textContent);
  var results = data.results;
  var state = { filter: "all", query: "", page: 0, open: new Set() };
  var shown = results;
  var lowered = null;

  var list = document.getElementById("results");
  var showing = document.getElementById("showing");
  var search = document.getElementById("search");
  var pageInput = document.getElementById("page");
  var pageCount = document.getElementById("pages");
  var filters = Array.prototype.slice.call(document.querySelectorAll("#filters button"));
  var pager = {
    first: document.getElementById("first"),
    prev: document.getElementById("prev"),
    next: document.getElementById("next"),
    last: document.getElementById("last"),
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function duration(seconds) {
    seconds = seconds || 0;
    if (Math.round(seconds * 1000) < 1000) return Math.round(seconds * 1000) + "ms";
    if (Math.round(seconds * 100) / 100 < 60) return seconds.toFixed(2) + "s";
    var whole = Math.round(seconds);
    var rest = whole % 60;
    return Math.floor(whole / 60) + "m" + (rest < 10 ? "0" : "") + rest + "s";
  }

  function bytes(size) {
    if (size < 1024) return size + " B";
    if (size < 1024 * 1024) return (size / 1024).toFixed(1) + " KiB";
    if (size < 1024 * 1024 * 1024) return (size / 1024 / 1024).toFixed(1) + " MiB";
    return (size / 1024 / 1024 / 1024).toFixed(2) + " GiB";
  }

  function keeps(result) {
    var f = state.filter;
    if (f === "flaky") return Boolean(result.flaky);
    return f === "all" || result.outcome === f;
  }

  function select() {
    var query = state.query.toLowerCase();
    if (query && lowered === null) lowered = results.map(function (r) { return r.id.toLowerCase(); });
    shown = results.filter(function (result, i) {
      return keeps(result) && (!query || lowered[i].indexOf(query) !== -1);
    });
    state.page = 0;
    render();
  }

  function pages() {
    return Math.max(1, Math.ceil(shown.length / PAGE));
  }

  function render() {
    filters.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.filter === state.filter));
    });
    var start = state.page * PAGE;
    var rows = shown.slice(start, start + PAGE).map(row);
    if (!rows.length) rows = [el("li", "empty", "No results match.")];
    list.replaceChildren.apply(list, rows);
    showing.textContent = shown.length
      ? "Showing " + (start + 1) + "–" + (start + rows.length) + " of " + shown.length + " results"
      : "Showing 0 of " + results.length + " results";
    var last = pages() - 1;
    pageInput.value = String(state.page + 1);
    pageInput.max = String(last + 1);
    pageCount.textContent = String(last + 1);
    pager.first.disabled = pager.prev.disabled = state.page === 0;
    pager.next.disabled = pager.last.disabled = state.page >= last;
  }

  function go(page) {
    var target = Math.min(Math.max(0, page), pages() - 1);
    if (target !== state.page) {
      state.page = target;
      render();
      list.scrollIntoView({ block: "nearest" });
    } else {
      pageInput.value = String(state.page + 1);
    }
  }

  function sparkline(result) {
    var past = result.history || "";
    var box = el("span", "spark");
    var names = [];
    for (var i = 0; i < past.length; i++) {
      var outcome = LETTERS[past[i]] || "skipped";
      names.push(outcome);
      box.appendChild(el("i", "o-" + outcome));
    }
    box.appendChild(el("i", "now o-" + result.outcome));
    box.title = past.length
      ? "previous " + past.length + ": " + names.join(", ") + "; this run: " + result.outcome
      : "no earlier results; this run: " + result.outcome;
    return box;
  }

  function row(result) {
    var item = el("li", "result");
    item.dataset.outcome = result.outcome;
    var head = el("button", "row");
    head.type = "button";
    head.appendChild(el("span", "badge o-" + result.outcome, result.outcome));
    var id = el("span", "id", result.id);
    var tags = el("span", "tags");
    if (result.flaky) tags.appendChild(el("span", "badge o-flaky", "flaky"));
    if (result.new_failure) tags.appendChild(el("span", "badge o-failed", "new"));
    id.appendChild(tags);
    head.appendChild(id);
    head.appendChild(sparkline(result));
    head.appendChild(el("span", "dur", duration(result.duration)));
    if (result.message) head.appendChild(el("span", "message", result.message));
    item.appendChild(head);
    var open = state.open.has(result.position);
    head.setAttribute("aria-expanded", String(open));
    if (open) {
      item.appendChild(details(result));
      requestAnimationFrame(function () { showEnds(item); });
    }
    head.addEventListener("click", function () {
      var now = !state.open.has(result.position);
      if (now) {
        state.open.add(result.position);
        item.appendChild(details(result));
        showEnds(item);
      } else {
        state.open.delete(result.position);
        var shownDetails = item.querySelector(".details");
        if (shownDetails) shownDetails.remove();
      }
      head.setAttribute("aria-expanded", String(now));
    });
    return item;
  }

  function showEnds(item) {
    // Tails of logs: the last lines are the ones that explain a failure.
    item.querySelectorAll("pre.output").forEach(function (pre) {
      pre.scrollTop = pre.scrollHeight;
    });
  }

  function details(result) {
    var box = el("div", "details");
    var where = [];
    if (result.file) where.push(result.line ? result.file + ":" + result.line : result.file);
    if (result.suite) where.push("suite " + result.suite);
    if (result.kind) where.push(result.kind);
    var attempts = result.attempts || [];
    where.push(attempts.length === 1 ? "1 attempt" : attempts.length + " attempts");
    box.appendChild(el("p", "meta", where.join(" · ")));
    if (result.reason) box.appendChild(el("p", "reason", result.reason));
    attempts.forEach(function (attempt, i) {
      var body = attemptBody(attempt, attempts.length);
      if (i === attempts.length - 1) {
        box.appendChild(body);
      } else {
        var fold = el("details", "attempt");
        fold.appendChild(el("summary", "", attemptTitle(attempt, attempts.length)));
        fold.appendChild(body);
        box.appendChild(fold);
      }
    });
    return box;
  }

  function attemptTitle(attempt, total) {
    var parts = ["Attempt " + attempt.number + " of " + total, attempt.outcome];
    if (attempt.signal) parts.push("killed by " + attempt.signal);
    else if (attempt.exit_code !== undefined && attempt.exit_code !== null) parts.push("exit " + attempt.exit_code);
    parts.push(duration(attempt.duration));
    return parts.join(" · ");
  }

  function attemptBody(attempt, total) {
    var box = el("section", "attempt-body");
    box.appendChild(el("h3", "", attemptTitle(attempt, total)));
    (attempt.failures || []).forEach(function (failure) {
      box.appendChild(failureBlock(failure));
    });
    (attempt.notes || []).forEach(function (note) {
      box.appendChild(el("p", "meta", note));
    });
    ["stdout", "stderr"].forEach(function (stream) {
      if (attempt[stream]) box.appendChild(logBlock(stream, attempt[stream]));
    });
    return box;
  }

  function failureBlock(failure) {
    var box = el("div", "failure");
    var expectation = failure.expectation || "failure";
    var message = failure.message || "";
    var what = el("p", "what o-failed", "✗ " + expectation);
    if (message.indexOf("\n") === -1) {
      // Most messages name what they checked ("stdout is not ..."): no need to say it twice.
      if (message.lastIndexOf(expectation, 0) === 0) what.textContent = "✗ " + message;
      else if (message) what.appendChild(document.createTextNode(": " + message));
      box.appendChild(what);
    } else {
      box.appendChild(what);
      box.appendChild(el("pre", "message", message));
    }
    if (failure.expected != null || failure.actual != null) {
      var pair = el("div", "pair");
      [["expected", failure.expected], ["actual", failure.actual]].forEach(function (side) {
        if (side[1] == null) return;
        var cell = el("div");
        cell.appendChild(el("p", "label", side[0]));
        cell.appendChild(el("pre", side[0], side[1]));
        pair.appendChild(cell);
      });
      box.appendChild(pair);
    }
    if (failure.diff) {
      box.appendChild(el("p", "label", "diff"));
      box.appendChild(diffBlock(failure.diff));
    }
    return box;
  }

  function diffBlock(text) {
    var pre = el("pre", "diff");
    text.replace(/\n$/, "").split("\n").forEach(function (line) {
      var kind = "";
      if (line.lastIndexOf("+++", 0) === 0 || line.lastIndexOf("---", 0) === 0) kind = "file";
      else if (line.lastIndexOf("@@", 0) === 0) kind = "hunk";
      else if (line[0] === "+") kind = "add";
      else if (line[0] === "-") kind = "del";
      pre.appendChild(el("span", kind, line));
    });
    return pre;
  }

  function logBlock(stream, log) {
    var box = el("div", "log");
    var label = el("p", "label");
    label.textContent = log.complete
      ? stream + " (" + bytes(log.size) + ")"
      : stream + " (last " + bytes(new TextEncoder().encode(log.tail || "").length) + " of " + bytes(log.size) + ") ";
    if (log.href) {
      var link = el("a", "", "full log");
      link.href = log.href;
      link.target = "_blank";
      link.rel = "noopener";
      label.appendChild(link);
    } else if (log.artifact) {
      label.appendChild(el("code", "", "artifact " + log.artifact.slice(0, 12)));
    }
    box.appendChild(label);
    box.appendChild(el("pre", "output " + stream, log.tail || ""));
    return box;
  }

  filters.forEach(function (button) {
    button.addEventListener("click", function () {
      state.filter = button.dataset.filter;
      select();
    });
  });
  var timer = 0;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      state.query = search.value.trim();
      select();
    }, 120);
  });
  pager.first.addEventListener("click", function () { go(0); });
  pager.prev.addEventListener("click", function () { go(state.page - 1); });
  pager.next.addEventListener("click", function () { go(state.page + 1); });
  pager.last.addEventListener("click", function () { go(pages() - 1); });
  pageInput.addEventListener("change", function () { go(parseInt(pageInput.value, 10) - 1 || 0); });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "/" && !(target instanceof HTMLInputElement)) {
      event.preventDefault();
      search.focus();
    }
  });

  select();
  document.body.dataset.ready = "true";
})();
