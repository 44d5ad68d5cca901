"""The Claude Code hooks in a linked worktree (issue 13.4): a file held in another checkout is not
held here, and the auto-begun intent and its commit belong to this worktree."""

from __future__ import annotations

import json
from pathlib import Path

from bridge.client import SessionClient
from bridge.workspace import state_ref_of_bytes
from tests.hooks.conftest import git
from tests.hooks.test_claude_hooks import edit, hook


async def test_hooks_in_a_linked_worktree(repo_path: Path, holder: SessionClient) -> None:
    wt2 = repo_path.parent / "wt2"
    assert git(repo_path, "worktree", "add", "-q", "-b", "feature", str(wt2)).returncode == 0
    assert (
        await holder.announce("refactor a on main", ["a.py"], intent_id="holder-a")
    ).ok  # no extension: main worktree
    here = hook("claude-pretooluse", edit(wt2, "a.py"), "--auto-begin")
    assert here.returncode == 0 and here.stdout.strip() == "", here.stdout  # wt2's a.py is not held
    denied = hook("claude-pretooluse", edit(repo_path, "a.py"))
    assert (
        json.loads(denied.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    )  # main's is
    ok = await holder.wait_until(
        lambda v: any(i["principal_id"] == "agent:claude" for i in v.intents.values()), 10
    )
    assert ok
    mine = [i for i in holder.view.intents.values() if i["principal_id"] == "agent:claude"]
    assert mine[0]["worktree"] == "wt2" and mine[0]["branch"] == "feature"
    watch = holder.wait_for(lambda m: m.get("message_type") in ("OP_COMMIT", "PROTOCOL_ERROR"), 30)
    (wt2 / "a.py").write_text("a = 2  # feature\n")
    post = hook("claude-posttooluse", {**edit(wt2, "a.py"), "hook_event_name": "PostToolUse"})
    assert post.returncode == 0 and "refused" not in post.stderr, post.stderr
    got = await watch
    assert got["message_type"] == "OP_COMMIT" and got["payload"][
        "state_ref_before"
    ] == state_ref_of_bytes(b"a = 1\n")
    assert holder.view.targets_of("wt2")["a.py"]["principal_id"] == "agent:claude"
    assert "a.py" not in holder.view.targets  # the main worktree's record is untouched
