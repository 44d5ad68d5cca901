"""Claude Code hooks: PreToolUse refuses edits of files another principal holds; PostToolUse records
the edit as an OP_COMMIT with the state refs before and after. What the agent reads (a Read, or the
file just before an edit) is kept in the base store, so a stale write based on it can be merged
(issue 19)."""

from __future__ import annotations

import contextlib
import os
import sys

from bridge import jsonlite as json
from bridge.client.quick import QuickClient, coordinator_of
from bridge.digest import sha256
from bridge.identity import agent_principal
from bridge.remote import TOKEN_VAR
from bridge.workspace.bases import remember_file
from bridge.workspace.paths import PathRefused, resolve_in_repo
from bridge.workspace.repo import Repo, find_repo
from bridge.workspace.state import state_ref_of
from bridge.workspace.worktrees import worktree_extension, worktree_id

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from typing import Any

EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit")
READ_TOOLS = ("Read",)


def note(text: str) -> None:
    print(f"mpac-bridge hook: {text}", file=sys.stderr)


def deny(reason: str) -> dict[str, Any]:
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    }


def target_of(
    event: dict[str, Any], tools: tuple[str, ...] = EDIT_TOOLS
) -> tuple[Repo, str] | None:
    """(repo, repo-relative path) of the file the tool will touch, or None when not ours to judge."""
    if event.get("tool_name") not in tools:
        return None
    tool_input = event.get("tool_input") or {}
    path = tool_input.get("file_path") or tool_input.get("notebook_path")
    if not isinstance(path, str) or not path:
        return None
    cwd = event.get("cwd") or os.getcwd()
    full = path if os.path.isabs(path) else os.path.join(cwd, path)
    parent = os.path.dirname(full.rstrip("/") or "/") or "."  # Path(full).parent
    try:
        repo = find_repo(parent if os.path.exists(parent) else cwd)
        return repo, resolve_in_repo(repo, full, allow_ignored=True)
    except (PathRefused, Exception):
        return None


def saved_path(repo: Repo, rel: str, principal: str) -> str:
    key = sha256(f"{principal}\0{rel}".encode()).hexdigest()[:24]
    return os.path.join(repo.data_dir_str, "hooks", f"{key}.json")


def join(repo: Repo, principal: str) -> QuickClient | None:
    try:
        where = coordinator_of(repo)
    except ValueError as exc:
        note(f"{exc}; allowing")
        return None
    if where is None:
        note(
            "no sidecar is running for this repository; allowing (start one with `mpac-bridge sidecar --workspace .`)"
        )
        return None
    url, session_id = where
    client = QuickClient(url, session_id, principal, token=os.environ.get(TOKEN_VAR))
    try:
        client.join()
    except Exception as exc:
        note(f"cannot reach the coordinator at {url} ({exc}); allowing")
        client.close()
        return None
    return client


def pre_tool_use(
    event: dict[str, Any],
    *,
    auto_begin: bool = False,
    ttl_sec: float = 900,
    default_name: str | None = None,
) -> dict[str, Any] | None:
    """The hook's answer (None = no objection: Claude Code's normal permission flow continues)."""
    found = target_of(event)
    if found is None:
        return None
    repo, rel = found
    me = agent_principal(default_name)
    if os.environ.get("MPAC_BYPASS") == "1":
        client = join(repo, me)
        if client is not None:  # recorded in the coordinator's audit trail as a bypass
            client.note_bypass(str(event.get("tool_name")), rel)
            client.close()
        note(
            f"MPAC_BYPASS=1: allowing {event.get('tool_name')} on {rel} without coordination (audited)"
        )
        return None
    client = join(repo, me)
    if client is None:
        return None
    try:
        wid = worktree_id(repo)
        holders = client.holders(rel, me, wid)
        if holders:
            h = holders[0]
            return deny(
                f"{rel} is being edited by {h['principal_id']} (intent {h['intent_id']}: {h.get('objective', '')!r}). "
                "Do not edit it now. Call begin_task for other files, wait_for_files to wait until it is free, "
                "or defer_task to hand it over explicitly."
            )
        own = client.own_intent(rel, me, wid)
        if own is None and auto_begin:
            own, refused = client.announce_files(
                [rel],
                f"{event.get('tool_name')} {rel} (auto)",
                ttl_sec,
                extensions=worktree_extension(repo),
            )
            if refused is not None:
                return deny(f"could not claim {rel}: {refused}")
        before = remember_file(repo, rel) or state_ref_of(
            repo, rel
        )  # what the edit applies to: a base
        record = {
            "path": rel,
            "before": before,
            "intent_id": (own or {}).get("intent_id"),
            "principal": me,
        }
        path = saved_path(repo, rel, me)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record))
        return None
    finally:
        client.close()


def post_tool_use(event: dict[str, Any], *, default_name: str | None = None) -> None:
    read = target_of(event, READ_TOOLS)
    if read is not None:  # the agent read a file: keep it as a base (no coordinator involved)
        remember_file(*read)
        return
    found = target_of(event)
    if found is None:
        return
    repo, rel = found
    me = agent_principal(default_name)
    path = saved_path(repo, rel, me)
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.loads(fh.read())
    except (OSError, ValueError):
        return  # the pre-tool hook did not see this edit
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    after = state_ref_of(repo, rel)
    if after == record.get("before"):
        return
    client = join(repo, me)
    if client is None:
        return
    try:
        own = client.own_intent(rel, me, worktree_id(repo))
        if own is None:
            note(
                f"{rel} changed but {me} holds no intent covering it; call begin_task first next time"
            )
            return
        refused = client.commit_replace(
            own["intent_id"], rel, record["before"], after, extensions=worktree_extension(repo)
        )
        if refused is not None:
            note(f"the coordinator refused to record the edit of {rel}: {refused}")
    finally:
        client.close()
