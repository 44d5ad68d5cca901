"""Sidecar settings (from the command line)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bridge.protocol.frames import MAX_FRAME_BYTES

SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0
    session_id: str = "default"
    multi_session: bool = False
    security_profile: str = "open"
    data_dir: Path | None = None
    workspace: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_origins: list[str] = field(default_factory=list)
    allow_open_network: bool = False
    idle_timeout: float = 0.0  # 0 = never
    max_frame: int = (
        MAX_FRAME_BYTES  # the core refuses a bigger frame, naming it; 4x that closes the connection
    )
    rate_per_sec: float = 200.0
    rate_burst: float = 400.0
    max_connections: int = 256
    send_queue: int = 1024
    max_backlog: int = 8 * 1024 * 1024  # unsent bytes before a connection is cut off as slow
    compress: bool = False  # permessage-deflate (costs CPU per client per broadcast)
    hello_timeout: float = 30.0  # a connection with no admitted HELLO by then is closed
    snapshot_every: int = (
        5000  # journal entries between snapshots (replay after a crash stays well under a second)
    )
    runtime_file: Path | None = None
    # Commit each turn's journal entries in the event loop instead of the journal's thread: less
    # CPU per message, but a commit that waits for the disk holds every client meanwhile.
    commit_in_loop: bool = False
    # A node of a fleet (docs/hosted.md, "Running a fleet"): sessions live in PostgreSQL and are
    # leased to one node at a time.
    store_url: str | None = None  # postgresql://...; None = the SQLite journal in data_dir
    node_name: str | None = None  # unique in the fleet, stable across restarts
    node_url: str | None = None  # where clients are redirected to reach this node
    lease_ttl: float = 5.0  # seconds a lease lasts without renewal (bounds failover of a hung node)
    lease_renew: float | None = None  # seconds between renewals (default lease_ttl / 3)
    release_idle: float = 600.0  # release a session with no connection for this long; 0 = never

    @property
    def renew_every(self) -> float:
        return self.lease_renew if self.lease_renew is not None else self.lease_ttl / 3

    def check_fleet(self) -> None:
        if self.store_url is None:
            return
        if not self.multi_session:
            raise ValueError(
                "a PostgreSQL store runs a fleet node, which serves many sessions: add --multi-session"
            )
        if self.lease_ttl < 1:
            raise ValueError(f"--lease-ttl {self.lease_ttl:g} is too short: at least 1 second")
        if not 0 < self.renew_every <= self.lease_ttl / 2:
            raise ValueError(
                f"--lease-renew {self.renew_every:g} must be positive and at most half of --lease-ttl ({self.lease_ttl:g})"
            )
        if self.release_idle < 0:
            raise ValueError("--release-idle must be 0 (never) or a number of seconds")
