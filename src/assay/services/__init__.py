"""Long-running processes that tests need: start, readiness probes, crash detection, stop.

`start` brings one service instance up (free ports, `${{ }}` resolved, a log
file, a readiness probe) and answers a `Service`, which reports a crash
through a pollable descriptor and `died`, and leaves nothing behind on
`stop`. Everything that goes wrong is a `ServiceError` whose text is the
message for the user.
"""

from __future__ import annotations

from assay.services.supervisor import Service, ServiceError, start

__all__ = ["Service", "ServiceError", "start"]
