"""`pytest --assay` on a real third-party project: six's own test suite, from its sdist.

The sdist is downloaded from the package registry with pip once (pip reads
its metadata in an isolated build, with setuptools from the registry too) and kept in
a cache (`ASSAY_TEST_CACHE`, default `~/.cache/assay-tests/`), pinned by
its hash; each test extracts it afresh. What Assay records of the session
must agree with pytest's own JUnit XML: the same tests, the same counts.
Without network the tests skip, unless `ASSAY_REQUIRE_SERVICES=1` says
they must run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pytest_sessions import assay_lines, run_pytest, stored_results, the_run

from fixtures.databases import opened_store

SDIST = "six-1.17.0.tar.gz"
REQUIREMENT = "six==1.17.0"
SHA256 = "ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81"
CACHE_ENV = "ASSAY_TEST_CACHE"
DOWNLOAD_TIMEOUT = 300.0

pytestmark = pytest.mark.slow


def _unavailable(reason: str) -> None:
    """Skip, or fail when `ASSAY_REQUIRE_SERVICES=1` says the environment must provide it."""
    if os.environ.get("ASSAY_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and ASSAY_REQUIRE_SERVICES=1 requires it")
    pytest.skip(reason)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def six_sdist() -> Path:
    """six's sdist, from the cache or downloaded into it with pip (hash-checked)."""
    cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "assay-tests")
    target = cache / SDIST
    if target.is_file() and _sha256(target) == SHA256:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(f"{REQUIREMENT} --hash=sha256:{SHA256}\n")
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        command += ["--no-binary", ":all:", "--require-hashes", "-r", str(requirements)]
        try:
            done = subprocess.run(
                [*command, "--dest", scratch],
                capture_output=True,
                text=True,
                timeout=DOWNLOAD_TIMEOUT,
                check=False,
                env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            )
        except subprocess.TimeoutExpired:
            _unavailable(f"pip download {REQUIREMENT} took over {DOWNLOAD_TIMEOUT:g}s")
        downloaded = Path(scratch) / SDIST
        if done.returncode != 0 or not downloaded.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            _unavailable(f"cannot download {REQUIREMENT} from the package registry: {last}")
        # Atomic: another test process may be downloading it at the same time.
        downloaded.replace(target)
    return target


def extracted(sdist: Path, directory: Path) -> Path:
    """The sdist unpacked under `directory`: six's checkout, tests included."""
    with tarfile.open(sdist) as archive:
        archive.extractall(directory, filter="data")
    return directory / SDIST.removesuffix(".tar.gz")


def junit_counts(path: Path) -> dict[str, int]:
    """pytest's own counts in its JUnit XML (one `testsuite`)."""
    (suite,) = ET.parse(path).getroot().iter("testsuite")
    counts = {key: int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


def junit_cases(path: Path) -> list[tuple[str, str]]:
    """Each JUnit test case's (classname, name)."""
    return sorted(
        (case.get("classname", ""), case.get("name", ""))
        for case in ET.parse(path).getroot().iter("testcase")
    )


def as_junit_case(nodeid: str) -> tuple[str, str]:
    """The (classname, name) pytest's JUnit XML gives the test `nodeid`."""
    path, *scopes, name = nodeid.split("::")
    module = path.removesuffix(".py").replace("/", ".")
    return ".".join([module, *scopes]), name


@pytest.mark.parametrize("workers", [(), ("-p", "xdist", "-n", "2")], ids=["one-process", "xdist"])
def test_six_suite_is_recorded_as_pytest_counts_it(
    six_sdist: Path, tmp_path: Path, workers: tuple[str, ...]
) -> None:
    checkout = extracted(six_sdist, tmp_path)
    junit = tmp_path / "junit.xml"

    done = run_pytest(("--assay", f"--junitxml={junit}", *workers), checkout)

    assert done.code == 0, done
    database = checkout / ".assay" / "assay.db"
    with opened_store(f"sqlite:///{database}", checkout / ".assay", checkout.name) as store:
        run = the_run(store)
        results = stored_results(store, run["id"])
    assert assay_lines(done) == [
        f"assay: recorded run {run['id']} ({len(results)} results) into sqlite:///{database}"
    ]
    expected = junit_counts(junit)
    assert expected["tests"] > 100 and expected["skipped"] > 0  # six still has both
    assert {
        "tests": run["total"],
        "failures": run["failed"],
        "errors": run["errors"],
        "skipped": run["skipped"],
        "passed": run["passed"],
    } == expected
    assert sorted(as_junit_case(key) for key in results) == junit_cases(junit)
    assert run["status"] == "passed"
