"""Server-side file watching (used when the editor cannot watch files for us): watchfiles over the
work tree, skipping `.git` and everything git ignores."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePath

from watchfiles import DefaultFilter, awatch

log = logging.getLogger("mpac.lsp.watch")


def in_git_dir(root: Path, path: str) -> bool:
    """True for paths inside a `.git` directory (or file, for worktrees) under `root`."""
    try:
        rel = PurePath(path).relative_to(root)
    except ValueError:
        return True  # outside the work tree: not ours
    return ".git" in rel.parts


async def ignored_by_git(root: Path, rels: list[str]) -> set[str]:
    """The subset of repo-relative paths git ignores (one `git check-ignore --stdin` for the batch)."""
    if not rels:
        return set()
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            "check-ignore",
            "--no-index",
            "--stdin",
            cwd=root,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await proc.communicate("\n".join(rels).encode() + b"\n")
    except OSError as exc:
        log.warning("git check-ignore failed (%s); treating no file as ignored", exc)
        return set()
    return {line for line in out.decode(errors="replace").splitlines() if line}


async def relevant(root: Path, paths: set[str], is_repo: bool) -> list[str]:
    """Absolute paths worth reporting: not under .git, not ignored by git."""
    keep = sorted(p for p in paths if not in_git_dir(root, p))
    if not is_repo or not keep:
        return keep
    rels = {os.path.relpath(p, root).replace(os.sep, "/"): p for p in keep}
    ignored = await ignored_by_git(root, list(rels))
    return [p for r, p in rels.items() if r not in ignored]


async def watch_tree(
    root: Path,
    on_change: Callable[[list[str]], Awaitable[None]],
    stop: asyncio.Event,
    is_repo: bool = True,
) -> None:
    """Call `on_change(absolute paths)` for each batch of changes under `root` until `stop` is set."""
    log.info("watching %s for changes on disk", root)
    async for changes in awatch(
        root,
        watch_filter=DefaultFilter(),
        stop_event=stop,
        debounce=100,
        step=20,
        recursive=True,
        ignore_permission_denied=True,
    ):
        paths = await relevant(root, {p for _kind, p in changes}, is_repo)
        if paths:
            await on_change(paths)
