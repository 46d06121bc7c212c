"""The server's settings: one immutable object, passed to the app factory."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from assay.config import Settings
from assay.errors import ConfigError

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How `assay serve` listens, who may read, and the limits it enforces."""

    settings: Settings
    host: str = "127.0.0.1"
    port: int = 8000
    public_read: bool | None = None
    """Whether reading needs no token; None: public only when bound to loopback."""
    allowed_origins: tuple[str, ...] = ()
    """Origins besides the server's own that may open live streams and post forms."""
    max_body: int = 1 * MiB
    """The largest request body, except uploads and ingest batches."""
    max_upload: int = 256 * MiB
    """The largest imported results file."""
    max_batch: int = 64 * MiB
    """The largest ingest batch, after decompression."""
    workers: int = 2
    """Runs executed at once by the in-process dispatcher; more wait, `queued`."""
    heartbeat: float = 15.0
    """Seconds between keep-alive comments on an idle live stream."""
    keep_finished: int = 50
    """Finished runs whose live events stay in memory for late and resuming clients."""
    webhook_attempts: int = 6
    webhook_backoff: float = 2.0
    """Seconds before the first retry of a failed delivery; doubled for each next one."""
    webhook_timeout: float = 10.0
    remote_idle: float = 3600.0
    """Seconds after which a remote run that sends nothing is ended as `interrupted`."""
    root_path: str = field(default="")
    public_url: str | None = None
    """The server's address as people reach it, e.g. `https://assay.example.com`:
    webhooks link to runs with it (without it, their links are paths)."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be between 1 and 65535, not {self.port}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, not {self.workers}")
        if self.public_url is not None and not re.fullmatch(
            r"https?://[^\s/]+(/\S*)?", self.public_url
        ):
            raise ConfigError(
                f"public URL must be http:// or https:// and a host, not {self.public_url!r}"
            )
        if self.webhook_attempts < 1:
            raise ConfigError(f"webhook_attempts must be at least 1, not {self.webhook_attempts}")
        for name in ("webhook_backoff", "webhook_timeout", "heartbeat", "remote_idle"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be more than 0 seconds")
        for name in ("max_body", "max_upload", "max_batch"):
            if getattr(self, name) < 1024:
                raise ConfigError(f"{name} must be at least 1 KiB")

    @property
    def loopback(self) -> bool:
        """Whether the server listens on a loopback address only."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def base_url(self) -> str:
        """What links to the server's pages start with: the public URL, or its root path."""
        return self.public_url.rstrip("/") if self.public_url else self.root_path

    @property
    def read_is_public(self) -> bool:
        """Whether reads need no token: as configured, or on loopback only by default."""
        return self.loopback if self.public_read is None else self.public_read
