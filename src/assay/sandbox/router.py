"""`Sandboxes`: one sandbox that starts each request in the sandbox its isolation names.

The engine holds one `Sandbox`; tests choose theirs with `sandbox:`. The
`process` sandbox is always there; `bwrap` and `container` are set up on
first use, so a run that does not use them never looks for bwrap or a
container engine. A sandbox that cannot be set up turns every request for
it into an error outcome that says why, and the run goes on.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assay.errors import UserError
from assay.model.tests import KINDS
from assay.sandbox.process import ProcessSandbox
from assay.sandbox.protocol import Cancellation, Execution, ProcessOutcome, ProcessRequest, wait

if TYPE_CHECKING:
    from assay.sandbox.bwrap import BwrapSandbox
    from assay.sandbox.container import ContainerSandbox


class Sandboxes:
    """Dispatches each request by `request.isolation.kind`: process, bwrap or container."""

    name = "auto"

    def __init__(self, process: ProcessSandbox | None = None) -> None:
        """Route to `process` (a new `ProcessSandbox` by default) and the others, made lazily."""
        self.process = process or ProcessSandbox()
        self._bwrap: BwrapSandbox | str | None = None  # a str says why it cannot be set up
        self._container: ContainerSandbox | str | None = None
        self._lock = threading.Lock()

    def execute(self, request: ProcessRequest, cancel: Cancellation) -> ProcessOutcome:
        """Run `request` to its end, blocking."""
        started = self.start(request)
        return started if isinstance(started, ProcessOutcome) else wait(started, cancel)

    def start(self, request: ProcessRequest) -> Execution | ProcessOutcome:
        """Start `request` in its sandbox; an outcome with `error` if that cannot be done."""
        kind = request.isolation.kind
        if kind == "process":
            return self.process.start(request)
        if kind == "bwrap":
            sandbox: BwrapSandbox | ContainerSandbox | str = self._get_bwrap()
        elif kind == "container":
            sandbox = self._get_container()
        else:
            sandbox = f"unknown sandbox {kind!r} (choose from {', '.join(KINDS)})"
        if isinstance(sandbox, str):
            return ProcessOutcome(datetime.now(UTC), 0.0, error=sandbox)
        return sandbox.start(request)

    def close(self) -> None:
        """Kill and remove whatever any sandbox started; they are set up again on next use."""
        with self._lock:
            bwrap, container = self._bwrap, self._container
            self._bwrap = self._container = None
        try:
            if not isinstance(container, str | None):
                container.close()
        finally:
            if not isinstance(bwrap, str | None):
                bwrap.close()
            self.process.close()

    def _get_bwrap(self) -> BwrapSandbox | str:
        with self._lock:
            if self._bwrap is None:
                from assay.sandbox.bwrap import BwrapSandbox

                try:
                    self._bwrap = BwrapSandbox(self.process)
                except UserError as error:
                    self._bwrap = str(error)
            return self._bwrap

    def _get_container(self) -> ContainerSandbox | str:
        with self._lock:
            if self._container is None:
                from assay.sandbox.container import ContainerSandbox

                try:
                    self._container = ContainerSandbox()
                except UserError as error:
                    self._container = str(error)
            return self._container
