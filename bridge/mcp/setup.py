"""`mpac-bridge setup`: print or write the MCP client configuration, with absolute paths."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from bridge.cliargs import add_workspace

HELP = "Print or write MCP client configuration for Claude Code, Cursor or VS Code."
TARGETS = {
    "claude": ".mcp.json",  # Claude Code project-scoped servers
    "cursor": ".cursor/mcp.json",
    "vscode": ".vscode/mcp.json",
}


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Show the MCP server entry for your client, using the absolute path of this installation. With --write, "
        "merge it into the project's config file (other servers are kept)."
    )
    p.add_argument(
        "client",
        choices=sorted(TARGETS),
        help="claude (.mcp.json), cursor (.cursor/mcp.json) or vscode (.vscode/mcp.json)",
    )
    add_workspace(p, "project root (default: the current directory)", Path("."))
    p.add_argument(
        "--name", default=None, help="agent name for MPAC_AGENT_NAME (default: the client's name)"
    )
    p.add_argument("--write", action="store_true", help="write the file instead of printing")
    p.add_argument(
        "--hooks",
        action="store_true",
        help="claude only: also add the PreToolUse/PostToolUse guards to .claude/settings.json",
    )
    p.add_argument(
        "--auto-begin",
        action="store_true",
        help="with --hooks: claim free files automatically before an edit",
    )


def executable() -> str:
    """The absolute path of the installed `mpac-bridge` (the venv's, when run from one)."""
    here = Path(sys.executable).with_name("mpac-bridge")
    if here.exists():
        return str(here.resolve())
    found = shutil.which("mpac-bridge")
    return str(Path(found).resolve()) if found else str(Path(sys.argv[0]).resolve())


def server_entry(client: str, workspace: Path, name: str | None) -> dict[str, Any]:
    # Claude Code expands ${VAR:-default} in .mcp.json, so `MPAC_AGENT_NAME=reviewer claude` names a
    # second agent; the hooks get the same default (--default-name), so both sides agree.
    agent = name or client
    entry: dict[str, Any] = {
        "command": executable(),
        "args": ["mcp", "--workspace", str(workspace.resolve())],
        "env": {
            "MPAC_AGENT_NAME": f"${{MPAC_AGENT_NAME:-{agent}}}" if client == "claude" else agent
        },
    }
    if client == "vscode":
        entry["type"] = "stdio"
    return entry


def merged(path: Path, client: str, entry: dict[str, Any]) -> dict[str, Any]:
    key = "servers" if client == "vscode" else "mcpServers"
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text() or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path} is not valid JSON ({exc.msg}); fix or remove it first"
            ) from None
    data.setdefault(key, {})["mpac-bridge"] = entry
    return data


def commit_note(workspace: Path, path: Path, client: str) -> str:
    """Whether to commit a generated config: it holds absolute paths of this machine, so no, unless
    git already ignores it."""
    rel = path.relative_to(workspace).as_posix()
    ignored = False
    try:
        from bridge.workspace import find_repo
        from bridge.workspace.paths import ignored_among

        ignored = rel in ignored_among(find_repo(workspace), [rel])
    except Exception:  # not a repository, or git failed: give the advice anyway
        pass
    if ignored:
        return f"{rel} is ignored by git, as it should be: it holds absolute paths of this machine"
    return (
        f"do not commit {rel}: it holds absolute paths of this machine (the mpac-bridge executable and this checkout). "
        f"Add it to .gitignore; each person runs `mpac-bridge setup {client} --write` once"
    )


HOOKS_NOTE = (
    "the hook commands name this machine's mpac-bridge (its Python and package) by absolute path: commit "
    ".claude/settings.json only if everyone has them at the same path; otherwise keep the hooks in "
    ".claude/settings.local.json (personal); run setup again after reinstalling mpac-bridge"
)


def run(args: argparse.Namespace) -> int:
    workspace = args.workspace.resolve()
    if args.hooks and args.client != "claude":
        print("mpac-bridge setup: --hooks is for Claude Code only", file=sys.stderr)
        return 2
    entry = server_entry(args.client, workspace, args.name)
    path = workspace / TARGETS[args.client]
    try:
        data = merged(path, args.client, entry)
        hooks = (
            _hooks_settings(workspace, args.auto_begin, args.name or args.client)
            if args.hooks
            else None
        )
    except ValueError as exc:
        print(f"mpac-bridge setup: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(data, indent=2) + "\n"
    if not args.write:
        print(f"# {path} (run again with --write to save it)")
        print(f"# {commit_note(workspace, path, args.client)}")
        print(text, end="")
        if hooks is not None:
            print(f"\n# {hooks[0]} (run again with --write to merge it; other settings are kept)")
            print(f"# {HOOKS_NOTE}")
            print(json.dumps(hooks[1], indent=2))
        return 0
    _write(path, text)
    print(f"wrote {path}: server 'mpac-bridge' → {entry['command']} {' '.join(entry['args'])}")
    print(f"  {commit_note(workspace, path, args.client)}")
    if hooks is not None:
        _write(hooks[0], json.dumps(hooks[1], indent=2) + "\n")
        print(
            f"wrote {hooks[0]}: PreToolUse and PostToolUse hooks for Edit|Write|MultiEdit|NotebookEdit"
        )
        print(f"  {HOOKS_NOTE}")
    return 0


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _hooks_settings(workspace: Path, auto_begin: bool, name: str) -> tuple[Path, dict[str, Any]]:
    """The path of .claude/settings.json and its content with our hooks merged in."""
    from bridge.hooks.settings import claude_hook_entries, hook_launcher, merge_hooks

    path = workspace / ".claude" / "settings.json"
    try:
        data = json.loads(path.read_text() or "{}") if path.exists() else {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg}); fix or remove it first") from None
    return path, merge_hooks(
        data, claude_hook_entries(hook_launcher(executable()), auto_begin, name)
    )
