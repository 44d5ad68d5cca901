"""The git guard: pre-commit (and optionally pre-push) hooks that refuse to commit files another
principal holds. They chain with hooks already there and uninstall restores them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MARK = "# installed by mpac-bridge guard"
NAMES = ("pre-commit", "pre-push")


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, input=stdin, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or f"git {' '.join(args)} failed")
    return out.stdout


def hooks_dir(repo: Path) -> Path:
    """Where git runs hooks from (honours core.hooksPath; shared by every worktree)."""
    path = Path(git(repo, "rev-parse", "--git-path", "hooks").strip())
    return path if path.is_absolute() else (repo / path).resolve()


def script(exe: str, name: str, warn: bool) -> str:
    flags = " --warn" if warn else ""
    return f"""#!/bin/sh
{MARK}; `mpac-bridge guard uninstall` restores the previous hook.
# Bypass: MPAC_BYPASS=1 git commit ...   or   git commit --no-verify
hook_dir=$(dirname "$0")
if [ -x "$hook_dir/{name}.local" ]; then
    "$hook_dir/{name}.local" "$@" || exit $?
fi
exec "{exe}" guard check --hook {name}{flags} "$@"
"""


def is_ours(path: Path) -> bool:
    try:
        return MARK in path.read_text(errors="replace")
    except OSError:
        return False


def install(repo: Path, exe: str, names: tuple[str, ...], warn: bool = False) -> list[str]:
    d = hooks_dir(repo)
    d.mkdir(parents=True, exist_ok=True)
    done = []
    for name in names:
        target, local = d / name, d / f"{name}.local"
        if target.exists() and not is_ours(target):
            if local.exists():
                raise RuntimeError(
                    f"{local} already exists; move it away before installing the guard"
                )
            target.rename(local)  # the existing hook keeps running, first
        target.write_text(script(exe, name, warn))
        target.chmod(0o755)
        done.append(str(target))
    return done


def uninstall(repo: Path, names: tuple[str, ...] = NAMES) -> list[str]:
    d = hooks_dir(repo)
    restored = []
    for name in names:
        target, local = d / name, d / f"{name}.local"
        if target.exists() and is_ours(target):
            target.unlink()
            if local.exists():
                local.rename(target)
            restored.append(name)
    return restored


def status(repo: Path) -> dict[str, str]:
    d = hooks_dir(repo)
    out = {}
    for name in NAMES:
        target = d / name
        if not target.exists():
            out[name] = "not installed"
        elif is_ours(target):
            out[name] = "installed" + (
                " (chained with an earlier hook)" if (d / f"{name}.local").exists() else ""
            )
        else:
            out[name] = "another hook (not mpac-bridge)"
    return out


def paths_to_check(repo: Path, hook: str, stdin: str) -> list[str]:
    if hook == "pre-commit":
        return [
            p
            for p in git(
                repo, "diff", "--cached", "--name-only", "--diff-filter=ACMRD"
            ).splitlines()
            if p
        ]
    files: set[str] = set()
    for line in stdin.splitlines():  # <local ref> <local sha> <remote ref> <remote sha>
        parts = line.split()
        if len(parts) != 4 or set(parts[1]) == {"0"}:
            continue
        local, remote = parts[1], parts[3]
        if set(remote) == {"0"}:  # a new branch: the files of its tip commit
            listing = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", local)
        else:
            listing = git(repo, "diff", "--name-only", f"{remote}..{local}")
        files.update(p for p in listing.splitlines() if p)
    return sorted(files)


def check(repo: Path, hook: str, warn: bool, stdin: str = "") -> int:
    """0 to let git go on, 1 to stop it (printing why)."""
    from bridge.client.quick import QuickClient, coordinator_of
    from bridge.identity import human_principal
    from bridge.remote import TOKEN_VAR
    from bridge.workspace.repo import find_repo
    from bridge.workspace.worktrees import worktree_id

    if os.environ.get("MPAC_BYPASS") == "1":
        print("mpac-bridge guard: MPAC_BYPASS=1, not checking", file=sys.stderr)
        return 0
    paths = paths_to_check(repo, hook, stdin)
    if not paths:
        return 0
    try:
        checkout = find_repo(repo)
        where = coordinator_of(checkout)
    except ValueError as exc:
        print(f"mpac-bridge guard: {exc}; not checking", file=sys.stderr)
        return 0
    if where is None:
        print(
            "mpac-bridge guard: no sidecar is running for this repository; not checking",
            file=sys.stderr,
        )
        return 0
    me = human_principal("@git")
    client = QuickClient(*where, me, token=os.environ.get(TOKEN_VAR))
    try:
        client.join(roles=["observer"], probe=True)
        wid = worktree_id(checkout)
        held = [(p, h) for p in paths for h in client.holders(p, me, wid)]
    except Exception as exc:
        print(
            f"mpac-bridge guard: cannot reach the coordinator at {where[0]} ({exc}); not checking",
            file=sys.stderr,
        )
        return 0
    finally:
        client.close()
    if not held:
        return 0
    print(
        f"mpac-bridge guard: {len(held)} file(s) in this {hook.replace('pre-', '')} are held by other principals:",
        file=sys.stderr,
    )
    for path, h in held:
        print(
            f"  {path}: {h['principal_id']} ({h.get('objective', '')!r}, intent {h['intent_id']})",
            file=sys.stderr,
        )
    if warn:
        print("mpac-bridge guard: --warn mode, letting it through", file=sys.stderr)
        return 0
    print(
        "Wait until they are done (mpac-bridge status), or bypass: MPAC_BYPASS=1 git commit ... / git commit --no-verify",
        file=sys.stderr,
    )
    return 1
