"""nginx in front of a fleet, run in the foreground from a temporary directory with its own config
(pid, logs and temp files inside it), on a loopback port: for tests and benchmarks.

`fleet_config()` writes the same routing as the config shipped in docs/hosted.md: `/session/<id>`
goes to any node (round robin; a node that does not serve the session redirects), and
`/node/<name>/session/<id>` goes to that node (where redirects point).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bridge.bench.pgcluster import free_port

INSTALL_HINT = "install nginx (Debian/Ubuntu: apt-get install nginx) or set MPAC_NGINX"


class NginxMissing(RuntimeError):
    """No nginx binary on this machine."""


def find_nginx() -> str | None:
    """$MPAC_NGINX (only it, when set), else nginx on PATH or in /usr/sbin."""
    env = os.environ.get("MPAC_NGINX")
    if env:
        return env if os.access(env, os.X_OK) else None
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def fleet_config(root: Path, port: int, nodes: dict[str, int]) -> str:
    """The fleet's routing: see docs/hosted.md, "Running a fleet"."""
    fleet = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in nodes.values())
    per_node = "\n".join(
        f"    upstream mpac_node_{name} {{ server 127.0.0.1:{p}; }}" for name, p in nodes.items()
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers need to read the temp dir
    return f"""{user}worker_processes 1;
error_log {root}/error.log notice;
pid {root}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;

    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}

    # max_fails=0: a node that refuses a connection (it died) is skipped for that request only.
    # With the default passive health check, nginx marked every node failed while clients of a
    # killed node reconnected in a burst ("no live upstreams", 502s for seconds).
    upstream mpac_fleet {{
{fleet}
    }}
{per_node}

    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;

        location /session/ {{
            proxy_pass http://mpac_fleet;
            proxy_next_upstream error timeout;
        }}
        location ~ ^/node/(?<mpac_node>[A-Za-z0-9_-]+)/session/ {{
            rewrite ^/node/[^/]+(/session/.*)$ $1 break;
            proxy_pass http://mpac_node_$mpac_node;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def session_url(self, session_id: str) -> str:
        return f"{self.url}/session/{session_id}"

    def start(self, nodes: dict[str, int], timeout: float = 30.0) -> None:
        binary = find_nginx()
        if binary is None:
            raise NginxMissing(f"nginx not found: {INSTALL_HINT}")
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        conf = self.root / "nginx.conf"
        conf.write_text(fleet_config(self.root, self.port, nodes))
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.root), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "stderr.log", "wb"),  # noqa: SIM115
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"nginx exited: {(self.root / 'stderr.log').read_text()[-2000:]} {self.error_log()[-2000:]}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"nginx did not listen on {self.port}: {self.error_log()[-2000:]}"
                )
            time.sleep(0.02)  # polling for the listening socket

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def nginx_for(nodes: dict[str, int]) -> Iterator[Nginx]:
    root = Path(tempfile.mkdtemp(prefix="mpac-nginx-"))
    proxy = Nginx(root, free_port())
    try:
        proxy.start(nodes)
        yield proxy
    finally:
        proxy.stop()
        shutil.rmtree(root, ignore_errors=True)
