"""`mpac-bridge dashboard`: open the terminal dashboard on the repository's session or a remote one."""

from __future__ import annotations

import argparse
import getpass
import os
import subprocess
import sys
from pathlib import Path

from bridge.cliargs import add_workspace
from bridge.remote import SESSION_VAR, TOKEN_VAR, URL_VAR

HELP = (
    "Open the terminal dashboard: who is editing what, conflicts to settle. Joins the repository's "
    "session (starting its sidecar if needed) or a remote coordinator with --url/--token."
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_workspace(parser, "repository to watch (default: the current directory)")
    env = os.environ
    parser.add_argument(
        "--url",
        default=env.get(URL_VAR) or None,
        help="remote coordinator URL (ws:// or wss://), instead of the repository's sidecar "
        "(default: $MPAC_COORDINATOR_URL, as for the MCP server and the hooks)",
    )
    parser.add_argument(
        "--token",
        default=env.get(TOKEN_VAR) or env.get("MPAC_TOKEN") or None,
        help="bearer token for a remote coordinator (default: $MPAC_COORDINATOR_TOKEN)",
    )
    parser.add_argument(
        "--session-id",
        default=env.get(SESSION_VAR) or None,
        help="session id, when the URL has no /session/<id> (default: $MPAC_SESSION_ID)",
    )
    parser.add_argument(
        "--as",
        dest="name",
        default=None,
        help="your name; the principal is human:<name> (default: $USER or git user.name)",
    )
    parser.add_argument(
        "--arbiter",
        action="store_true",
        help="ask for the arbiter role (granted only if the session's policy allows it)",
    )
    parser.add_argument(
        "--light", action="store_true", help="start with the light theme (press t to toggle)"
    )


def default_name(repo_root: Path | None) -> str:
    name = os.environ.get("USER") or os.environ.get("LOGNAME")
    if not name and repo_root is not None:
        try:
            name = subprocess.run(
                ["git", "-C", str(repo_root), "config", "user.name"],
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            name = ""
    if not name:
        try:
            name = getpass.getuser()
        except Exception:
            name = "you"
    return "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name.strip()) or "you"


def run(args: argparse.Namespace) -> int:
    from bridge.client import SessionClient
    from bridge.workspace import NotARepository, SidecarStartError, ensure_sidecar, find_repo
    from tui.app import Dashboard
    from tui.source import LiveSource

    repo_root: Path | None = None
    ensure = None
    if args.url:
        url, session_id = args.url, args.session_id
        if args.workspace is not None:
            try:
                repo_root = find_repo(args.workspace).root
            except NotARepository:
                repo_root = None
    else:
        try:
            repo = find_repo(args.workspace or Path.cwd())
        except NotARepository as exc:
            print(
                f"mpac-bridge dashboard: {exc}; use --workspace PATH or --url URL", file=sys.stderr
            )
            return 2
        try:
            info = ensure_sidecar(repo)
        except SidecarStartError as exc:
            print(f"mpac-bridge dashboard: the sidecar did not start: {exc}", file=sys.stderr)
            return 1
        url, session_id, repo_root = info.url, info.session_id, repo.root

        def ensure() -> str:
            return ensure_sidecar(repo).url

    principal = f"human:{args.name or default_name(repo_root)}"
    client = SessionClient(
        url,
        principal,
        session_id=session_id,
        display_name=principal.split(":", 1)[1],
        roles=["arbiter"] if args.arbiter else ["observer"],
        token=args.token,
    )
    app = Dashboard(
        LiveSource(client, ensure),
        repo_root=repo_root,
        theme="textual-light" if args.light else None,
    )
    return int(app.run() or 0)
