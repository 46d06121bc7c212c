"""Charts drawn on the server as inline SVG: the trend of recent runs, and a test's history.

An inline chart needs no script and no second request, and it scales with
the page through its `viewBox`. Every text in it goes through `escape`
(test names and messages are untrusted), and colours come from classes
(`o-failed`, `bar`, ...) that the stylesheet maps to the theme, so the
charts follow light and dark mode and need no inline style, which the
pages' Content-Security-Policy would refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from assay.model.units import format_duration
from assay.store.queries import StoredRun, StoredSample

WIDTH = 640
HEIGHT = 200


def pass_rate(run: StoredRun) -> float | None:
    """The share of a run's tests that passed, skipped ones aside; None if none ran."""
    ran = run.total - run.skipped
    return 1.0 - run.failed_ratio if ran else None


def element(tag: str, attributes: dict[str, object], *children: str) -> Markup:
    """One SVG element; attribute values are escaped, children must be `Markup` already."""
    attrs = "".join(f' {name}="{escape(value)}"' for name, value in attributes.items())
    inner = "".join(children)
    # Safe as markup: every attribute value was escaped above, and children are markup already.
    return Markup(f"<{tag}{attrs}>{inner}</{tag}>" if inner else f"<{tag}{attrs}/>")


def title(text: str) -> Markup:
    """A tooltip (and the accessible name) of the element it is in."""
    return Markup(f"<title>{escape(text)}</title>")


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


@dataclass(frozen=True, slots=True)
class _Frame:
    """The plot area inside the chart, and the width of each item's slot."""

    left: float
    right: float
    top: float
    bottom: float
    count: int

    @property
    def slot(self) -> float:
        return (self.right - self.left) / self.count

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def x(self, index: int) -> float:
        return self.left + index * self.slot

    def bar(self, index: int, share: float, kind: str) -> Markup:
        """A bar rising from the bottom to `share` of the height in slot `index`."""
        gap = min(2.0, self.slot * 0.15)
        height = max(share * self.height, 1.0)
        return element(
            "rect",
            {
                "class": kind,
                "x": _n(self.x(index) + gap),
                "y": _n(self.bottom - height),
                "width": _n(max(self.slot - 2 * gap, 0.5)),
                "height": _n(height),
            },
        )

    def hit(self, index: int, href: str, text: str, top: float = 0) -> Markup:
        """The whole slot, as a link with a tooltip: easier to point at than a thin bar."""
        area = element(
            "rect",
            {
                "class": "hit",
                "x": _n(self.x(index)),
                "y": _n(top),
                "width": _n(self.slot),
                "height": _n(self.bottom - top),
            },
        )
        return element("a", {"href": href, "class": "mark"}, title(text), area)


def _label(x: float, y: float, text: str, anchor: str = "start") -> Markup:
    return element("text", {"x": _n(x), "y": _n(y), "text-anchor": anchor}, str(escape(text)))


def _svg(label: str, kind: str, *parts: str) -> Markup:
    return element(
        "svg",
        {
            "class": f"chart {kind}",
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
            "aria-label": label,
            "preserveAspectRatio": "xMidYMid meet",
        },
        title(label),
        *parts,
    )


def trend_chart(runs: Sequence[StoredRun], href: Callable[[int], str]) -> Markup:
    """Pass rate (a line) and duration (bars) of `runs`, oldest first; empty for no runs."""
    if not runs:
        return Markup()
    frame = _Frame(60, WIDTH - 72, 12, HEIGHT - 30, len(runs))
    longest = max((r.duration or 0.0) for r in runs) or 1.0
    parts: list[str] = []
    for share, text in ((1.0, "100%"), (0.5, "50%"), (0.0, "0%")):
        y = frame.bottom - share * frame.height
        parts.append(
            element(
                "line",
                {"class": "grid", "x1": frame.left, "x2": frame.right, "y1": _n(y), "y2": _n(y)},
            )
        )
        parts.append(_label(frame.left - 6, y + 4, text, "end"))
    parts.append(_label(frame.right + 6, frame.top + 4, format_duration(longest)))
    parts.append(_label(frame.right + 6, frame.bottom + 4, "0s"))
    points: list[tuple[float, float, StoredRun]] = []
    for index, run in enumerate(runs):
        parts.append(frame.bar(index, (run.duration or 0.0) / longest, "bar"))
        rate = pass_rate(run)
        if rate is not None:
            x = frame.x(index) + frame.slot / 2
            points.append((x, frame.bottom - rate * frame.height, run))
    if len(points) > 1:
        line = " ".join(f"{_n(x)},{_n(y)}" for x, y, _ in points)
        parts.append(element("polyline", {"class": "line", "points": line}))
    for x, y, run in points:
        parts.append(
            element("circle", {"class": f"dot o-{run.status}", "cx": _n(x), "cy": _n(y), "r": 4})
        )
    for index, run in enumerate(runs):
        parts.append(frame.hit(index, href(run.id), _run_text(run)))
    parts.append(_label(frame.left, HEIGHT - 8, f"#{runs[0].id}"))
    parts.append(_label(frame.right, HEIGHT - 8, f"#{runs[-1].id}", "end"))
    label = f"Pass rate and duration of the last {len(runs)} runs"
    return _svg(label, "trend", *parts)


def _run_text(run: StoredRun) -> str:
    rate = pass_rate(run)
    ran = run.total - run.skipped
    passed = "no tests ran" if rate is None else f"{rate:.0%} passed ({run.passed} of {ran})"
    duration = "–" if run.duration is None else format_duration(run.duration)
    started = run.started_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"Run #{run.id} · {run.status} · {passed} · {duration} · {started}"


def history_chart(samples: Sequence[StoredSample], href: Callable[[int], str]) -> Markup:
    """A test's results, oldest first: a cell per outcome above a bar per duration."""
    if not samples:
        return Markup()
    frame = _Frame(88, WIDTH - 72, 34, HEIGHT - 30, len(samples))
    longest = max(s.duration for s in samples) or 1.0
    parts: list[str] = [
        _label(frame.left - 6, 24, "outcome", "end"),
        _label(frame.left - 6, frame.bottom, "time", "end"),
        _label(frame.right + 6, frame.top + 4, format_duration(longest)),
        _label(frame.right + 6, frame.bottom + 4, "0s"),
        element(
            "line",
            {
                "class": "grid",
                "x1": frame.left,
                "x2": frame.right,
                "y1": frame.bottom,
                "y2": frame.bottom,
            },
        ),
    ]
    for index, sample in enumerate(samples):
        outcome = sample.outcome.value
        flaky = " flaky" if sample.flaky else ""
        gap = min(2.0, frame.slot * 0.15)
        parts.append(
            element(
                "rect",
                {
                    "class": f"cell o-{outcome}{flaky}",
                    "x": _n(frame.x(index) + gap),
                    "y": 12,
                    "width": _n(max(frame.slot - 2 * gap, 0.5)),
                    "height": 16,
                    "rx": 2,
                },
            )
        )
        parts.append(frame.bar(index, sample.duration / longest, f"bar o-{outcome}"))
    for index, sample in enumerate(samples):
        parts.append(frame.hit(index, href(sample.run_id), _sample_text(sample), top=8))
    parts.append(_label(frame.left, HEIGHT - 8, f"run #{samples[0].run_id}"))
    parts.append(_label(frame.right, HEIGHT - 8, f"run #{samples[-1].run_id}", "end"))
    label = f"Outcome and duration of this test in its last {len(samples)} runs"
    return _svg(label, "history", *parts)


def _sample_text(sample: StoredSample) -> str:
    outcome = sample.outcome.value + (" (flaky: passed on a retry)" if sample.flaky else "")
    parts = [f"Run #{sample.run_id}", outcome, format_duration(sample.duration)]
    if sample.commit:
        parts.append(f"commit {sample.commit[:12]}")
    parts.append(sample.run_started_at.strftime("%Y-%m-%d %H:%M UTC"))
    if sample.message:
        message = sample.message.splitlines()[0] if sample.message.strip() else ""
        parts.append(message[:200])
    return " · ".join(p for p in parts if p)
