"""What may be started: a registered suite, with options; and who starts it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from assay.config import Settings
from assay.engine import Handler
from assay.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A run to start: which registered suite, and how."""

    suite: str
    """A registered suite path, relative to the project root (see `Suites`)."""
    keyword: str | None = None
    tags: tuple[str, ...] = ()
    jobs: int | None = None
    timeout: float | None = None
    trigger: str = "server"
    started_by: str | None = None
    """Who asked: a token's name, kept with the run's options."""

    def options(self) -> dict[str, object]:
        """The options recorded with the run."""
        chosen = {
            "suite": self.suite,
            "keyword": self.keyword,
            "tags": list(self.tags) or None,
            "jobs": self.jobs,
            "timeout": self.timeout,
            "started_by": self.started_by,
        }
        return {key: value for key, value in chosen.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Suites:
    """The suite paths a server may run: the configured `paths` under the project root.

    A request names one of them, or a file or folder inside one. It is
    resolved and checked to stay inside, so `..` and symbolic links cannot
    reach anything else on the server.
    """

    root: Path
    paths: tuple[Path, ...] = field(default=())

    @classmethod
    def of(cls, settings: Settings) -> Suites:
        """The suites `settings` configure."""
        return cls(settings.root, settings.paths)

    def names(self) -> list[str]:
        """The registered paths, as requests name them."""
        return [p.as_posix() for p in self.paths]

    def resolve(self, name: str) -> Path:
        """The path a request's `suite` names; `NotFoundError` unless it is registered."""
        root = self.root.resolve()
        wanted = (root / name).resolve()
        for path in self.paths:
            base = (root / path).resolve()
            if wanted == base or wanted.is_relative_to(base):
                if not wanted.exists():
                    break
                return wanted
        raise NotFoundError(
            f"no registered suite {name!r}: choose from {', '.join(self.names()) or 'none'}"
        )


class Dispatcher(Protocol):
    """Starts runs somewhere and can stop them."""

    def submit(self, request: RunRequest) -> int:
        """Check and queue a run; returns its id (the run is recorded as `queued`)."""
        ...

    def cancel(self, run_id: int) -> bool:
        """Stop a queued or running run, killing its processes; False if it is not active."""
        ...

    def active(self) -> Sequence[int]:
        """The runs queued or running, oldest first."""
        ...

    def close(self) -> None:
        """Cancel what is left and wait for it to stop."""
        ...


Observe = Callable[[int], Sequence[Handler]]
"""Given a run's id, the extra handlers that should see its events (live streams, say)."""
