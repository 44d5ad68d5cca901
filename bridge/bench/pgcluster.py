"""A throwaway PostgreSQL cluster in a temporary directory, on a free loopback port, for tests and
benchmarks. PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres`
system user (`runuser`); otherwise as the current user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = (
    "install PostgreSQL 15 (Debian/Ubuntu: apt-get install postgresql-15) or set MPAC_PG_BINDIR"
)


class PgMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path | None:
    """PostgreSQL's bin directory: $MPAC_PG_BINDIR (only it, when set), else the newest
    /usr/lib/postgresql/*/bin, else the one on PATH."""
    env = os.environ.get("MPAC_PG_BINDIR")
    if env:  # authoritative when set
        return (
            Path(env)
            if (Path(env) / "initdb").is_file() and (Path(env) / "pg_ctl").is_file()
            else None
        )
    candidates: list[Path] = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: _major(p),
        reverse=True,
    )
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(which).parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    return None


def _major(path: Path) -> int:
    try:
        return int(path.parent.name)
    except ValueError:
        return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int
    settings: dict[str, str] = field(default_factory=dict)
    as_user: str | None = None  # run the server as this system user (root cannot)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(
        self, user: str = "postgres", password: str | None = None, dbname: str = "postgres"
    ) -> str:
        auth = f"{user}:{password}@" if password is not None else f"{user}@"
        return f"postgresql://{auth}127.0.0.1:{self.port}/{dbname}"

    def _cmd(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self.as_user, "--", *argv] if self.as_user else list(argv)

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._cmd(*argv), capture_output=True, text=True, timeout=timeout, check=False
        )

    def init(self, hba: list[str] | None = None) -> None:
        res = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if res.returncode != 0:
            raise RuntimeError(f"initdb failed: {res.stderr.strip()[-2000:]}")
        if hba:  # extra rules first: they win over the default trust lines
            conf = self.data / "pg_hba.conf"
            conf.write_text("\n".join(hba) + "\n" + conf.read_text())

    def start(self) -> None:
        opts = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.root),
            **self.settings,
        }
        o = " ".join(f"-c {k}={v}" for k, v in opts.items())
        res = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            o,
            "-w",
            "-t",
            "60",
            "start",
        )
        if res.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {res.stderr.strip()} {tail}")

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"
        )

    def running(self) -> bool:
        return (
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "status").returncode == 0
        )

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        res = self._run(
            str(self.bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            dbname,
            "-v",
            "ON_ERROR_STOP=1",
            "-X",
            "-q",
            "-A",
            "-t",
            "-c",
            sql,
        )
        if res.returncode != 0:
            raise RuntimeError(f"psql failed: {res.stderr.strip()}")
        return res.stdout.strip()

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(dbname=name)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def make_cluster(settings: dict[str, str] | None = None, hba: list[str] | None = None) -> PgCluster:
    """Create and start a cluster; raises PgMissing when there is no PostgreSQL here."""
    bindir = find_bindir()
    if bindir is None:
        raise PgMissing(f"PostgreSQL server binaries not found: {INSTALL_HINT}")
    as_user = None
    root = Path(tempfile.mkdtemp(prefix="mpac-pg-"))
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise PgMissing(
                "running as root needs a 'postgres' system user to run the server: " + INSTALL_HINT
            ) from None
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = "postgres"
    cluster = PgCluster(bindir, root, free_port(), settings or {}, as_user)
    try:
        cluster.init(hba)
        cluster.start()
    except BaseException:
        cluster.destroy()
        raise
    return cluster


@contextlib.contextmanager
def throwaway_cluster(
    settings: dict[str, str] | None = None, hba: list[str] | None = None
) -> Iterator[PgCluster]:
    cluster = make_cluster(settings, hba)
    try:
        yield cluster
    finally:
        cluster.destroy()
