"""Repository detection: the work tree, its git dir, the git common dir shared by every worktree of
the repository, and the session id derived from that common dir."""

from __future__ import annotations

import os
import stat

from bridge.digest import sha256
from bridge.protocol.slotted import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def as_path(text: str) -> Path:
    """pathlib is imported on first use: a Claude Code hook works on the string forms and never
    pays for it (with re, urllib.parse and ipaddress it brings about 7 ms of start-up, issue 17)."""
    from pathlib import Path

    return Path(text)


class NotARepository(Exception):
    """The path is not inside a git work tree; the message says what to do."""


class Repo(Frozen):
    """One checkout of a git repository. Worktrees of one repository share `common_dir`, hence the
    same `data_dir` (runtime file, journal, log) and the same `session_id`.

    The directories are kept as strings (`root_str`, `git_dir_str`, `common_dir_str`, realpaths);
    `root`, `git_dir`, `common_dir` and `data_dir` give them as Paths."""

    __slots__ = ("common_dir_str", "git_dir_str", "root_str")
    root_str: str  # top level of this work tree (realpath)
    git_dir_str: str  # this worktree's git dir
    common_dir_str: str  # the git common dir

    def __init__(
        self,
        root: str | os.PathLike[str],
        git_dir: str | os.PathLike[str],
        common_dir: str | os.PathLike[str],
    ) -> None:
        object.__setattr__(self, "root_str", os.fspath(root))
        object.__setattr__(self, "git_dir_str", os.fspath(git_dir))
        object.__setattr__(self, "common_dir_str", os.fspath(common_dir))

    @property
    def root(self) -> Path:
        return as_path(self.root_str)

    @property
    def git_dir(self) -> Path:
        return as_path(self.git_dir_str)

    @property
    def common_dir(self) -> Path:
        return as_path(self.common_dir_str)

    @property
    def data_dir_str(self) -> str:
        return os.path.join(self.common_dir_str, "mpac")

    @property
    def data_dir(self) -> Path:
        """Where the sidecar keeps its runtime file, journal, locks and log (created by callers)."""
        return as_path(self.data_dir_str)

    @property
    def session_id(self) -> str:
        """`<repo name>-<12 hex of sha256(realpath of common dir)>`, characters [A-Za-z0-9._-]."""
        digest = sha256(os.fsencode(self.common_dir_str)).hexdigest()[:12]
        return f"{repo_name(self.common_dir)}-{digest}"


def repo_name(common_dir: Path) -> str:
    """A readable name: the directory holding `.git`, or a bare `name.git` without its suffix."""
    import re

    name = (
        common_dir.parent.name
        if common_dir.name == ".git"
        else common_dir.name.removesuffix(".git")
    )
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:40]
    return name or "repo"


def _git(cwd: str | os.PathLike[str], *args: str) -> str:
    import subprocess  # only when the layout needs git's own answer (start-up: _read_layout)

    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise NotARepository("git is not installed or not on PATH; install git and retry") from None
    if out.returncode != 0:
        reason = (
            out.stderr.strip().splitlines()[-1]
            if out.stderr.strip()
            else f"git {' '.join(args)} failed"
        )
        raise NotARepository(
            f"{cwd} is not inside a git work tree ({reason}); run this from your repository, "
            "pass --workspace PATH, or create one with `git init`"
        )
    return out.stdout.strip()


def find_repo(path: str | os.PathLike[str] = ".") -> Repo:
    """The repository containing `path` (a file or directory, any depth, any worktree)."""
    start = os.path.realpath(path)
    if os.path.isfile(start):
        start = os.path.dirname(start)
    if not os.path.isdir(start):
        raise NotARepository(
            f"{start} does not exist; pass the path of a directory inside a git repository"
        )
    found = _read_layout(start)
    if found is not None:
        return Repo(*found)
    out = _git(
        start,
        "rev-parse",
        "--path-format=absolute",
        "--show-toplevel",
        "--git-dir",
        "--git-common-dir",
    )
    lines = out.splitlines()
    if len(lines) != 3 or not lines[0]:
        raise NotARepository(
            f"{start} is not inside a git work tree; run this from a checkout, not a bare repository"
        )
    root, git_dir, common = (os.path.realpath(line) for line in lines)
    return Repo(root=root, git_dir=git_dir, common_dir=common)


# Variables and configuration that change where git looks or what the work tree is: with any of
# them, git itself is asked.
_GIT_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
)
_CONFIG_WORDS = (b"worktree", b"bare=true", b"include")


def _read_layout(start: str) -> tuple[str, str, str] | None:
    """(top level, git dir, common dir) of the work tree holding the real directory `start`, read
    from the files git reads (issue 17: a hook starts a git process no more), for the plain
    layouts: a `.git` directory, or a `.git` file naming a linked worktree's git dir. None for
    anything else (a bare or foreign-owned repository, core.worktree, a file system boundary, git
    variables, no repository at all): then `git rev-parse` answers, and explains a refusal."""
    if any(os.environ.get(name) for name in _GIT_ENV):
        return None
    uid, here = os.geteuid(), start
    try:
        dev = os.stat(here).st_dev
        while True:
            if os.path.basename(here) == ".git":
                return None  # inside a git dir
            top = os.lstat(here)
            if top.st_dev != dev or top.st_uid != uid:
                return None
            dot = os.path.join(here, ".git")
            try:
                mode = os.stat(dot).st_mode
            except FileNotFoundError:
                if os.path.exists(os.path.join(here, "HEAD")):
                    return None  # perhaps a bare repository
                parent = os.path.dirname(here)
                if parent == here:
                    return None
                here = parent
                continue
            return _layout_at(here, dot, mode, uid)
    except (OSError, ValueError):
        return None


def _layout_at(top: str, dot: str, mode: int, uid: int) -> tuple[str, str, str] | None:
    if stat.S_ISDIR(mode):
        git_dir = dot
    elif stat.S_ISREG(mode):
        with open(dot, "rb") as fh:
            line = fh.read(8192).decode("utf-8").strip()
        if not line.startswith("gitdir:") or "\n" in line:
            return None
        git_dir = os.path.join(top, line[7:].strip())
    else:
        return None
    git_dir = os.path.realpath(git_dir)
    common = git_dir
    try:
        with open(os.path.join(git_dir, "commondir"), "rb") as fh:
            common = os.path.realpath(os.path.join(git_dir, fh.read().decode("utf-8").strip()))
    except FileNotFoundError:
        pass
    with open(os.path.join(common, "config"), "rb") as fh:
        config = fh.read().lower().replace(b" ", b"").replace(b"\t", b"")
    if any(word in config for word in _CONFIG_WORDS):
        return None
    for d in (git_dir, common):
        st = os.stat(d)
        if st.st_uid != uid or not os.path.isfile(os.path.join(d, "HEAD")):
            return None
    if not os.path.isdir(os.path.join(common, "objects")):
        return None
    return top, git_dir, common
