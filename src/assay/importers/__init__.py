"""Importers of foreign test results: JUnit XML and pytest report logs.

Each reader is a generator of `ResultRecord`s that streams its file, so a
report of any size is read in bounded memory, and fills an `ImportStats`
with counts and run-level facts as it goes.
"""

from __future__ import annotations

from assay.importers.junit import read_junit
from assay.importers.reportlog import read_reportlog
from assay.importers.stats import ImportStats

__all__ = ["ImportStats", "read_junit", "read_reportlog"]
