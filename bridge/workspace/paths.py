"""Path safety: every path an agent names is checked here before anything reads or writes it."""

from __future__ import annotations

import os
import stat

from bridge.workspace.repo import Repo

TYPE_CHECKING = False  # a hook resolves paths without pathlib or typing (start-up, issue 17)
if TYPE_CHECKING:
    from pathlib import Path

    FilePath = str | os.PathLike[str]  # a file's path as a str (the hooks) or a Path

REASONS = (
    "outside_repository",
    "inside_git_dir",
    "ignored",
    "not_a_file",
    "too_large",
    "invalid",
    "unreadable",
)
PATH_MAX_BYTES = 4096  # Linux PATH_MAX: the longest path the bridge accepts, in UTF-8 bytes
NAME_MAX_BYTES = 255  # Linux NAME_MAX: the longest single file or directory name


class PathRefused(Exception):
    """A path the tools refuse to read or write. `reason` is one of REASONS; the message says what
    to do instead."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def ignored_among(repo: Repo, rels: list[str]) -> set[str]:
    """The members of `rels` that git's ignore rules match (tracked or not, hence `--no-index`).
    One `git check-ignore --stdin` process for the whole list, however long."""
    if not rels:
        return set()
    import subprocess  # here: a hook resolves paths without the ignore check (start-up, issue 17)

    out = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin", "-z"],
        cwd=repo.root,
        input=b"".join(os.fsencode(r) + b"\0" for r in rels),
        capture_output=True,
        check=False,
    )
    if (
        out.returncode != 0
    ):  # 1: nothing is ignored; 128: git failed (treated as nothing ignored, as before)
        return set()
    return {os.fsdecode(item) for item in out.stdout.split(b"\0") if item}


def is_ignored(repo: Repo, rel: str) -> bool:
    """True when git's ignore rules match `rel`."""
    return rel in ignored_among(repo, [rel])


def check_path_text(path: object) -> str:
    """`path` when it can name a file at all; PathRefused("invalid") saying what is wrong
    otherwise (not text, empty, NUL, an unpaired surrogate, longer than the system allows)."""
    if not isinstance(path, str) or not path.strip():
        raise PathRefused(
            "invalid", "the path is empty; give a path relative to the repository root"
        )
    if "\x00" in path:
        raise PathRefused(
            "invalid", "the path contains a NUL byte; give a path relative to the repository root"
        )
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PathRefused(
            "invalid",
            f"the path holds an unpaired UTF-16 surrogate ({path[exc.start]!r} at character {exc.start}), which is not "
            "text; send the path as valid Unicode (a file whose name is not valid UTF-8 cannot be used through the bridge)",
        ) from None
    if len(encoded) > PATH_MAX_BYTES:
        raise PathRefused(
            "invalid",
            f"the path is {len(encoded):,} bytes long; paths are limited to {PATH_MAX_BYTES:,} bytes "
            f"(and each file or directory name to {NAME_MAX_BYTES} bytes)",
        )
    for name in encoded.split(b"/"):
        if len(name) > NAME_MAX_BYTES:
            raise PathRefused(
                "invalid",
                f"a name in the path is {len(name):,} bytes long ({name[:40].decode(errors='replace')}...); "
                f"file and directory names are limited to {NAME_MAX_BYTES} bytes",
            )
    return path


def _strip_file_uri(path: str) -> str:
    if path.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(path).path)
    return path


def resolve_in_repo(repo: Repo, path: str, *, allow_ignored: bool = False) -> str:
    """The normalized repo-relative POSIX path of `path` (relative to the repo root, absolute, or a
    `file://` URI). Symlinks and `..` are resolved first, so a link cannot lead outside. Raises
    PathRefused for paths outside the work tree, inside `.git`, ignored by git, naming something
    that is not a regular file (a FIFO, a socket, a device), or not a usable path at all."""
    return resolve_many(repo, [path], allow_ignored=allow_ignored)[0]


def resolve_many(repo: Repo, paths: list[str], *, allow_ignored: bool = False) -> list[str]:
    """resolve_in_repo for a list, in order, with one git process for the ignore check (and each
    directory resolved once). The first refused path raises."""
    dirs: dict[str, str] = {}
    rels = [_resolve(repo, path, dirs) for path in paths]
    if not allow_ignored:
        ignored = ignored_among(repo, rels)
        for rel in rels:
            if rel in ignored:
                raise PathRefused(
                    "ignored",
                    f"{rel} is ignored by git (.gitignore); ignored files may hold secrets and are not shared, "
                    "so they cannot be read or written through the bridge",
                )
    return rels


def _real(joined: str, dirs: dict[str, str]) -> tuple[str, int | None]:
    """os.path.realpath(joined) and the mode of what it names (None when absent). The parent
    directory's real path is looked up once per call of resolve_many; only the last name is
    checked here, so a path of ten thousand files in one directory costs one lstat each."""
    parent, name = os.path.split(joined)
    if name in ("", ".", "..") or "/./" in parent + "/" or "/../" in parent + "/":
        full = os.path.realpath(joined)
    else:
        real_parent = dirs.get(parent)
        if real_parent is None:
            real_parent = dirs[parent] = os.path.realpath(parent)
        full = os.path.join(real_parent, name)
        try:
            mode = os.lstat(full).st_mode
        except OSError:  # absent (a new file) or unreachable: the read or write reports it
            return full, None
        if not stat.S_ISLNK(mode):
            return full, mode
        full = os.path.realpath(full)
    try:
        return full, os.stat(full).st_mode
    except OSError:
        return full, None


def _inside(full: str, directory: str) -> bool:
    d = directory
    return full == d or full.startswith(d.rstrip("/") + "/")


def _resolve(repo: Repo, path: str, dirs: dict[str, str]) -> str:
    """Every check but the ignore rules."""
    path = check_path_text(path)
    raw = _strip_file_uri(path.strip())
    check_path_text(raw)  # a file:// URI can decode to NUL or an overlong path
    if ".git" in raw.replace("\\", "/").split("/"):
        raise PathRefused(
            "inside_git_dir",
            f"{path} is inside git's own directory (.git); edit work-tree files only",
        )
    root = repo.root_str
    try:
        full, mode = _real(raw if os.path.isabs(raw) else os.path.join(root, raw), dirs)
    except OSError as exc:  # ELOOP, ENAMETOOLONG once links are followed, ...
        raise PathRefused("invalid", f"{path} cannot be resolved: {exc.strerror or exc}") from None
    if full == root:
        raise PathRefused("not_a_file", f"{path} is the repository root, not a file")
    if not _inside(full, root):
        raise PathRefused(
            "outside_repository",
            f"{path} resolves to {full}, outside the repository {root}; only files inside it can be read or written",
        )
    if _inside(full, repo.git_dir_str) or _inside(full, repo.common_dir_str):
        raise PathRefused(
            "inside_git_dir", f"{path} is inside git's own directory; edit work-tree files only"
        )
    rel = full[len(root.rstrip("/")) + 1 :]
    if ".git" in rel.split("/"):
        raise PathRefused(
            "inside_git_dir", f"{path} is inside a .git directory; edit work-tree files only"
        )
    if mode is not None:
        check_file_type(full, rel, mode)
    return rel


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def check_file_type(full: FilePath, rel: str, mode: int | None = None) -> None:
    """PathRefused("not_a_file") when `full` exists and is a FIFO, socket or device: opening one
    can block for ever or never end, so only regular files (and directories, refused when read)
    pass. `mode` is an fstat result when the caller already holds the file open."""
    if mode is None:
        try:
            mode = os.stat(full).st_mode
        except OSError:  # absent (a new file) or unreachable: the read or write reports it
            return
    for test, kind in _KINDS:
        if test(mode):
            raise PathRefused(
                "not_a_file",
                f"{rel} is {kind}, not a regular file; only regular files can be read or "
                "written through the bridge",
            )


def full_path(repo: Repo, rel_path: str) -> Path:
    """The absolute path of an already resolved repo-relative path."""
    return repo.root / rel_path
