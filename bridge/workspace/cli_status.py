"""`mpac-bridge status`: the repository's sidecar and, when it is alive, who is working on what."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bridge.client.text import duration
from bridge.protocol.constants import EXT
from bridge.remote import URL_VAR, remote_from_env
from bridge.workspace.repo import NotARepository, Repo, find_repo
from bridge.workspace.runtime import RuntimeInfo, is_alive, log_path, read_runtime, runtime_path

HELP = "Show the repository's sidecar (or the remote coordinator), its participants, intents and open conflicts."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Show the sidecar (the local MPAC coordinator) serving a git repository: its pid, URL, "
        "session, uptime, version and log file, and, when it is running, the participants, the "
        "active and suspended intents (owner, objective, files, time left) and the open conflicts. "
        "Worktrees of one repository share one sidecar. With MPAC_COORDINATOR_URL set (or --url), it shows that "
        "remote coordinator's session instead, as every other tool would use it."
    )
    parser.add_argument(
        "--workspace",
        default=".",
        metavar="PATH",
        help="a path inside the repository (default: the current directory)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of text (for scripts)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SEC",
        help="how long to wait for the sidecar's answer (default 5)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("MPAC_COORDINATOR_TOKEN"),
        help="bearer token if the sidecar requires one (default: $MPAC_COORDINATOR_TOKEN)",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="a remote coordinator's ws:// or wss:// url (default: $MPAC_COORDINATOR_URL; "
        "the session comes from its /session/<id> or $MPAC_SESSION_ID)",
    )


def fetch_state(
    url: str, session_id: str, *, timeout: float = 5.0, token: str | None = None
) -> dict[str, Any]:
    """Join as an observer, read the compact state from SESSION_INFO, say GOODBYE. Raises
    OSError/RuntimeError/TimeoutError with a readable message on failure."""
    from bridge.client.quick import QuickClient

    # A probe: the coordinator shows it to nobody and forgets it on GOODBYE. One principal per user
    # all the same, so that an older coordinator keeps one offline record per user, not per run.
    me = "service:status-" + "".join(
        c if c.isalnum() or c in "-_." else "-" for c in getpass.getuser()
    )
    client = QuickClient(url, session_id, me, token=token, timeout=timeout)
    try:
        reply = client.join(roles=["observer"], probe=True)
        client.leave()
    finally:
        client.close()
    state = ((reply.get("payload") or {}).get("extensions") or {}).get(EXT, {}).get("state")
    if not isinstance(state, dict):
        raise RuntimeError("the coordinator's SESSION_INFO carries no mpac-bridge state")
    state["participants"] = [
        p for p in state.get("participants", []) if p.get("principal_id") != me
    ]
    return state


def _files(scope: Any) -> str:
    if not isinstance(scope, dict):
        return "?"
    for key in ("resources", "entities", "task_ids", "canonical_uris"):
        if isinstance(scope.get(key), list):
            return ", ".join(str(x) for x in scope[key]) or "(none)"
    if isinstance(scope.get("pattern"), str):
        return scope["pattern"]
    return str(scope.get("kind", "?"))


def _expires_in(value: Any, now: float) -> str:
    from bridge.protocol.stamps import parse_ts

    when = value if isinstance(value, (int, float)) else parse_ts(value)
    if when is None:
        return "?"
    return "expired" if when <= now else f"in {duration(when - now)}"


def format_text(
    repo: Repo,
    info: RuntimeInfo | None,
    alive: bool,
    state: dict[str, Any] | None,
    error: str | None,
    now: float,
) -> str:
    if info is None or not alive:
        lines = []
        if info is not None:
            lines.append(
                f"stale runtime file {runtime_path(repo)} (pid {info.pid} is gone or not listening)"
            )
        lines.append(
            f"no sidecar running for {repo.root}; it starts automatically when an agent connects, "
            f"or run `mpac-bridge sidecar --workspace {repo.root}`"
        )
        return "\n".join(lines)
    lines = [
        f"sidecar   pid {info.pid}, {info.url}",
        f"session   {info.session_id}",
        f"uptime    {duration(now - info.started_at)}  (version {info.version})",
        f"workspace {info.workspace}",
        f"log       {log_path(repo)}",
    ]
    return "\n".join(lines + state_lines(state, error, now))


def format_remote(
    url: str, session_id: str, state: dict[str, Any] | None, error: str | None, now: float
) -> str:
    lines = [f"coordinator {url} (remote: {URL_VAR})", f"session     {session_id}"]
    return "\n".join(lines + state_lines(state, error, now))


def state_lines(state: dict[str, Any] | None, error: str | None, now: float) -> list[str]:
    if error is not None or state is None:
        return [f"could not read the session state: {error}"]
    lines: list[str] = []
    parts = state.get("participants", [])
    lines.append(f"\nparticipants ({len(parts)})")
    for p in parts:
        flags = [
            f
            for f, on in (
                ("disconnected", not p.get("connected", True) and p.get("status") != "offline"),
                ("unavailable", not p.get("is_available", True)),
            )
            if on
        ]
        flag = "".join(f"  [{f}]" for f in flags)
        pid, name = p.get("principal_id"), p.get("display_name")
        who = (
            f"{pid} ({name})" if name and name != pid else f"{pid}"
        )  # clients default the name to the id
        lines.append(f"  {who}  roles={','.join(p.get('roles', []))}  {p.get('status', '')}{flag}")
    intents = [
        i
        for i in state.get("intents", [])
        if i.get("state") in ("ACTIVE", "SUSPENDED", "ANNOUNCED")
    ]
    lines.append(f"\nintents ({len(intents)})")
    for i in intents:
        lines.append(
            f"  {i.get('intent_id')}  [{i.get('state')}]  {i.get('principal_id')}: {i.get('objective', '')}"
        )
        lines.append(
            f"      files: {_files(i.get('scope'))}   expires {_expires_in(i.get('expires_at'), now)}"
        )
    conflicts = [
        c
        for c in state.get("conflicts", [])
        if c.get("state") not in ("CLOSED", "DISMISSED", "RESOLVED")
    ]
    lines.append(f"\nopen conflicts ({len(conflicts)})")
    for c in conflicts:
        lines.append(
            f"  {c.get('conflict_id')}  {c.get('category')} ({c.get('severity')}, {c.get('state')})  between {', '.join(c.get('principals', []))}"
        )
        if c.get("description"):
            lines.append(f"      {c['description']}")
    return lines


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.url:
        env[URL_VAR] = args.url
    try:
        remote = remote_from_env(env)
    except ValueError as exc:
        print(f"mpac-bridge status: {exc}", file=sys.stderr)
        return 2
    if remote is not None:
        return run_remote(args, *remote)
    try:
        repo = find_repo(Path(args.workspace))
    except NotARepository as exc:
        print(f"mpac-bridge status: {exc}", file=sys.stderr)
        return 2
    info = read_runtime(runtime_path(repo))
    alive = info is not None and is_alive(info)
    state: dict[str, Any] | None = None
    error: str | None = None
    if info is not None and alive:
        try:
            state = fetch_state(info.url, info.session_id, timeout=args.timeout, token=args.token)
        except Exception as exc:  # network, protocol or timeout: report, do not crash
            error = f"{type(exc).__name__}: {exc}"
    now = time.time()
    if args.json:
        out = {
            "repository": str(repo.root),
            "session_id": repo.session_id,
            "running": alive,
            "runtime": info.to_json() if info is not None else None,
            "runtime_file": str(runtime_path(repo)),
            "log": str(log_path(repo)),
            "uptime_sec": (now - info.started_at) if info is not None and alive else None,
            "state": state,
            "error": error,
        }
        print(json.dumps(out, indent=2))
    else:
        print(format_text(repo, info, alive, state, error, now))
    return 1 if error is not None else 0


def run_remote(args: argparse.Namespace, url: str, session_id: str) -> int:
    state: dict[str, Any] | None = None
    error: str | None = None
    try:
        state = fetch_state(url, session_id, timeout=args.timeout, token=args.token)
    except Exception as exc:  # network, TLS, refusal or timeout: report, do not crash
        error = f"{type(exc).__name__}: {exc}"
    if args.json:
        print(
            json.dumps(
                {
                    "remote": True,
                    "url": url,
                    "session_id": session_id,
                    "state": state,
                    "error": error,
                },
                indent=2,
            )
        )
    else:
        print(format_remote(url, session_id, state, error, time.time()))
    return 1 if error is not None else 0
