"""The runtime file `<git common dir>/mpac/sidecar.json`: which sidecar serves this repository.

The sidecar writes it once it listens and removes it at clean exit; everybody else reads it.
"""

from __future__ import annotations

import contextlib
import os

from bridge import jsonlite
from bridge.protocol.slotted import Slotted
from bridge.tcp import connect
from bridge.workspace.repo import Repo

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


class RuntimeInfo(Slotted):
    """What the sidecar publishes. Field order keeps the first draft's positional form working;
    `host` defaults to the url's host."""

    __slots__ = (
        "data_dir",
        "host",
        "pid",
        "port",
        "session_id",
        "started_at",
        "url",
        "version",
        "workspace",
    )
    pid: int
    port: int
    url: str  # ws://host:port (what clients connect to)
    session_id: str
    started_at: float  # Unix seconds
    version: str
    workspace: str  # the work tree the sidecar was started for
    host: str
    data_dir: str

    def __init__(
        self,
        pid: int,
        port: int,
        url: str,
        session_id: str,
        started_at: float,
        version: str,
        workspace: str,
        host: str = "",
        data_dir: str = "",
    ) -> None:
        self.pid = pid
        self.port = port
        self.url = url
        self.session_id = session_id
        self.started_at = started_at
        self.version = version
        self.workspace = workspace
        if not host:
            from urllib.parse import urlsplit  # here: the runtime file names its host (start-up)

            host = urlsplit(url).hostname or "127.0.0.1"
        self.host = host
        self.data_dir = data_dir

    def to_json(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self._fields}

    @classmethod
    def from_json(cls, data: Any) -> RuntimeInfo | None:
        """None unless `data` holds every field with a plausible type."""
        if not isinstance(data, dict):
            return None
        kinds: dict[str, type | tuple[type, ...]] = {
            "pid": int,
            "port": int,
            "started_at": (int, float),
        }
        values: dict[str, Any] = {}
        for name in cls._fields:
            value = data.get(name, "" if name in ("host", "data_dir") else None)
            want = kinds.get(name, str)
            if isinstance(value, bool) or not isinstance(value, want):
                return None
            values[name] = value
        values["started_at"] = float(values["started_at"])
        return cls(**values)


def runtime_path(repo: Repo) -> Path:
    return repo.data_dir / "sidecar.json"


def runtime_path_str(repo: Repo) -> str:
    return os.path.join(repo.data_dir_str, "sidecar.json")


def log_path(repo: Repo) -> Path:
    return repo.data_dir / "sidecar.log"


def write_runtime(path: Path, info: RuntimeInfo) -> None:
    """Atomically (temp file in the same directory, fsync, os.replace): readers never see half."""
    import json  # here, as tempfile: the hooks read the runtime file and never write it (start-up)
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info.to_json(), fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_runtime(path: str | Path | Repo) -> RuntimeInfo | None:
    """The runtime info, or None when the file is missing, unreadable or corrupt. Accepts the
    runtime file's path or (draft form) the Repo."""
    if isinstance(path, Repo):
        path = runtime_path_str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return RuntimeInfo.from_json(jsonlite.loads(fh.read()))
    except (OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        connect(host, port, timeout).close()
        return True
    except (OSError, ValueError, OverflowError):
        return False


def is_alive(info: RuntimeInfo) -> bool:
    """The pid exists and something accepts TCP connections on host:port (a reused pid alone is
    not enough)."""
    return pid_alive(info.pid) and port_accepts(info.host, info.port)


def live_runtime(repo: Repo) -> RuntimeInfo | None:
    """The repository's runtime info when its sidecar is alive; None otherwise."""
    info = read_runtime(runtime_path_str(repo))
    return info if info is not None and is_alive(info) else None


def remove_runtime_if_owned(path: Path, pid: int) -> None:
    """Remove the runtime file only if it still names `pid` (a successor may have replaced it)."""
    info = read_runtime(path)
    if info is not None and info.pid == pid:
        path.unlink(missing_ok=True)
