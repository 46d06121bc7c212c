"""Prometheus metrics: runs by status, tests by outcome, run durations, queue, HTTP latency.

Each app has its own registry, so that several apps in one process (tests)
do not share counters. Runs by status are counted in the database when
scraped (the runs table is small); tests by outcome and run durations are
counted as results arrive, from this server's runs and ingested ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.store import Store
from assay.store.rows import RunRow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _RunsByStatus(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("assay_runs", "Runs stored, by status", labels=["status"])
        query = select(RunRow.status, func.count()).group_by(RunRow.status)
        with self.store.engine.connect() as connection:
            for status, count in connection.execute(query):
                family.add_metric([status], count)
        yield family


class Metrics:
    """The server's metrics and the registry they are exposed from."""

    def __init__(self, store: Store, queue_depth: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_RunsByStatus(store))
        self.tests = Counter(
            "assay_tests", "Test results received, by outcome", ["outcome"], registry=self.registry
        )
        self.run_duration = Histogram(
            "assay_run_duration_seconds",
            "Duration of finished runs",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
            registry=self.registry,
        )
        queue = Gauge("assay_queue_depth", "Runs waiting for a worker", registry=self.registry)
        queue.set_function(lambda: float(queue_depth()))
        self.http = Histogram(
            "assay_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )

    def observe(self, events: list[dict[str, Any]]) -> None:
        """Count the outcomes and run durations in a batch of wire events."""
        for event in events:
            kind = event["type"]
            if kind == "test.finished":
                self.tests.labels(event["result"]["outcome"]).inc()
            elif kind == "run.finished" and event.get("duration") is not None:
                self.run_duration.observe(float(event["duration"]))

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)


class LatencyMiddleware:
    """Times every HTTP request by its route template (never the raw path: ids would explode it)."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], Metrics | None]) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            metrics = self.metrics()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if metrics is not None:
                metrics.http.labels(scope["method"], template, str(status)).observe(
                    time.perf_counter() - start
                )
