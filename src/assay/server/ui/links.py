"""The dashboard's URLs: every link a page holds is made here, under the app's root path.

Links to project-wide pages carry the project a page shows when it is not
the server's own, so a reader who picked a project stays in it. The
dashboard's own files are linked with a digest of their content, so a
browser may cache them for good and still sees a new version at once.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request


@functools.cache
def static_version(name: str) -> str:
    """A short digest of a static file, put in its URL so browsers may cache it for good."""
    data = resources.files("assay.server.ui").joinpath("static", name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Links:
    """The dashboard's URLs, under the app's root path.

    `project` is the project a page shows when it is not the server's own;
    links to project-wide pages carry it along.
    """

    root: str = ""
    project: str | None = None

    def to(self, path: str, **query: Any) -> str:
        """`path` under the root, with the query parameters that are not None."""
        pairs = [(k, v) for k, v in query.items() if v is not None and v != []]
        return f"{self.root}{path}{'?' + urlencode(pairs, doseq=True) if pairs else ''}"

    def home(self, **query: Any) -> str:
        """The recent runs."""
        return self.to("/", project=self.project, **query)

    def run(self, run_id: int, **query: Any) -> str:
        """A run's page."""
        return self.to(f"/runs/{run_id}", **query)

    def result(self, run_id: int, position: int) -> str:
        """One result's page: attempts, failures, logs."""
        return self.to(f"/runs/{run_id}/results/{position}")

    def test(self, key: str) -> str:
        """A test's history."""
        return self.to(f"/tests/{quote(key, safe='/:')}", project=self.project)

    def page(self, name: str, **query: Any) -> str:
        """A project-wide page: `tests`, `flaky`, `failures`, `compare`."""
        return self.to(f"/{name}", project=self.project, **query)

    def artifact(self, sha256: str) -> str:
        """A stored file (a whole log)."""
        return self.to(f"/api/v1/artifacts/{sha256}")

    def static(self, name: str) -> str:
        """A file of the dashboard itself, versioned by its content."""
        return self.to(f"/ui/static/{name}", v=static_version(name))


def links_for(request: Request, project: str | None = None, default: str | None = None) -> Links:
    """The links of a page that shows `project` (None, or the server's `default`, is its own)."""
    root = str(request.scope.get("root_path") or "").rstrip("/")
    return Links(root, None if project == default else project)


def local_target(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this server, else `fallback`: no redirect leaves the site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback
