"""Sidecar settings (from the command line)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bridge.protocol.parse import MAX_FRAME_BYTES

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
    max_frame: int = MAX_FRAME_BYTES  # the core refuses a bigger frame, naming it; 4x that closes the connection
    rate_per_sec: float = 200.0
    rate_burst: float = 400.0
    max_connections: int = 256
    send_queue: int = 1024
    compress: bool = False  # permessage-deflate (costs CPU per client per broadcast)
    hello_timeout: float = 30.0  # a connection with no admitted HELLO by then is closed
    snapshot_every: int = 5000  # journal entries between snapshots (replay after a crash stays well under a second)
    runtime_file: Path | None = None
