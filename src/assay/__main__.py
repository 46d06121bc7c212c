"""`python -m assay`."""

from __future__ import annotations

from assay.cli import main

raise SystemExit(main())
