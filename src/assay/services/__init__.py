"""Long-running processes that tests need: start, readiness probes, crash detection, stop."""
