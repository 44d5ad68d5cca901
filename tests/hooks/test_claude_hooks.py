"""Claude Code hooks against a real sidecar (subprocesses, exactly as Claude Code runs them)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridge.client import SessionClient
from bridge.hooks.settings import hook_launcher
from bridge.store.transcript import verify_file
from bridge.workspace import find_repo, state_ref_of_bytes


def hook(
    name: str,
    event: dict[str, Any],
    *extra: str,
    env: dict[str, str] | None = None,
    launcher: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The hook run as `setup claude --hooks` writes its command (python -S bridge/hooks/run.py
    hook ...), or with `launcher` (e.g. `python -m bridge`)."""
    start = launcher or shlex.split(hook_launcher("mpac-bridge"))
    return subprocess.run(
        [*start, "hook", name, *extra],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MPAC_AGENT_NAME": "claude", **(env or {})},
    )


def edit(repo: Path, rel: str, tool: str = "Edit") -> dict[str, Any]:
    return {
        "session_id": "s",
        "cwd": str(repo),
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": {"file_path": str(repo / rel), "old_string": "x", "new_string": "y"},
    }


async def test_deny_names_the_holder_and_allows_free_and_own_files(
    repo_path: Path, holder: SessionClient
) -> None:
    assert (await holder.announce("refactor a", ["a.py"], intent_id="holder-a")).ok
    out = hook("claude-pretooluse", edit(repo_path, "a.py"))
    decision = json.loads(out.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny"
    assert (
        "agent:holder" in decision["permissionDecisionReason"]
        and "refactor a" in decision["permissionDecisionReason"]
    )
    assert "wait_for_files" in decision["permissionDecisionReason"]
    free = hook("claude-pretooluse", edit(repo_path, "b.py"))
    assert free.returncode == 0 and free.stdout.strip() == ""
    mine = SessionClient(holder.url, "agent:claude", session_id=holder.session_id)
    await mine.connect()
    await mine.announce("edit c", ["c.py"])
    own = hook("claude-pretooluse", edit(repo_path, "c.py", "Write"))
    assert own.stdout.strip() == ""
    other_tool = hook("claude-pretooluse", {**edit(repo_path, "a.py"), "tool_name": "Read"})
    assert other_tool.stdout.strip() == ""
    await mine.close()


async def test_symbol_claims_deny_an_unclaimed_edit_and_allow_one_on_other_symbols(
    repo_path: Path, holder: SessionClient
) -> None:
    """Issue 19: another agent's claim on a function of the file denies an edit by an agent that
    claims nothing there; an agent that claims another function of the file may edit it."""
    assert (await holder.announce("fix f", ["a.py"], symbols=["a.py::f"], intent_id="holder-f")).ok
    out = hook("claude-pretooluse", edit(repo_path, "a.py"))
    assert json.loads(out.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    mine = SessionClient(holder.url, "agent:claude", session_id=holder.session_id)
    await mine.connect()
    try:
        assert (
            await mine.announce("fix g", ["a.py"], symbols=["a.py::g"], intent_id="claude-g")
        ).ok
        allowed = hook("claude-pretooluse", edit(repo_path, "a.py"))
        assert allowed.returncode == 0 and allowed.stdout.strip() == "", allowed.stdout
    finally:
        await mine.close()


async def test_auto_begin_then_post_tool_commit_is_seen_by_others(
    repo_path: Path, holder: SessionClient
) -> None:
    watch = holder.wait_for(lambda m: m.get("message_type") == "OP_COMMIT", 30)
    out = hook("claude-pretooluse", edit(repo_path, "b.py"), "--auto-begin")
    assert out.returncode == 0 and out.stdout.strip() == ""
    ok = await holder.wait_until(
        lambda v: any(i["principal_id"] == "agent:claude" for i in v.intents.values()), 10
    )
    assert ok
    before = state_ref_of_bytes(b"b = 1\n")
    (repo_path / "b.py").write_text("b = 2\n")  # what the Edit tool does
    post = hook("claude-posttooluse", {**edit(repo_path, "b.py"), "hook_event_name": "PostToolUse"})
    assert post.returncode == 0, post.stderr
    commit = (await watch)["payload"]
    assert commit["target"] == "b.py"
    assert commit["state_ref_before"] == before and commit["state_ref_after"] == state_ref_of_bytes(
        b"b = 2\n"
    )


def test_no_sidecar_allows_with_a_reason(repo_path: Path) -> None:
    out = hook("claude-pretooluse", edit(repo_path, "a.py"))
    assert out.returncode == 0 and out.stdout.strip() == ""
    assert "no sidecar" in out.stderr


def test_what_the_agent_reads_is_kept_as_a_merge_base(repo_path: Path) -> None:
    """Issue 19: the PostToolUse hook of a Read keeps the file in the base store (no sidecar needed),
    so a later stale write based on it can be merged."""
    from bridge.workspace.bases import BaseStore

    event = {
        "session_id": "s",
        "cwd": str(repo_path),
        "hook_event_name": "PostToolUse",
        "tool_name": "Read",
        "tool_input": {"file_path": str(repo_path / "a.py")},
    }
    out = hook("claude-posttooluse", event)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stderr
    ref = state_ref_of_bytes((repo_path / "a.py").read_bytes())
    assert BaseStore.for_repo(find_repo(repo_path)).get(ref) == (repo_path / "a.py").read_bytes()


async def test_bypass_is_allowed_and_audited(repo_path: Path, holder: SessionClient) -> None:
    await holder.announce("refactor a", ["a.py"])
    out = hook("claude-pretooluse", edit(repo_path, "a.py"), env={"MPAC_BYPASS": "1"})
    assert out.stdout.strip() == "" and "MPAC_BYPASS=1" in out.stderr
    transcript = find_repo(repo_path).data_dir / "transcripts"
    files = list(transcript.glob("*.jsonl"))
    ok = await holder.wait_until(lambda _v: '"bypass"' in files[0].read_text(), 10)
    assert ok and verify_file(files[0]).ok


def test_setup_claude_hooks_merges_settings(repo_path: Path) -> None:
    settings = repo_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(
        json.dumps(
            {
                "hooks": {
                    "PreToolUse": [
                        {"matcher": "Bash", "hooks": [{"type": "command", "command": "mine"}]}
                    ]
                },
                "model": "x",
            }
        )
    )
    for _ in range(2):  # idempotent
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bridge",
                "setup",
                "claude",
                "--workspace",
                str(repo_path),
                "--write",
                "--hooks",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
    data = json.loads(settings.read_text())
    pre = data["hooks"]["PreToolUse"]
    assert pre[0]["matcher"] == "Bash" and len(pre) == 2 and data["model"] == "x"
    command = pre[1]["hooks"][0]["command"]
    assert (
        command.endswith("hook claude-pretooluse --default-name claude")
        and Path(command.split()[0]).is_absolute()
    )
    assert data["hooks"]["PostToolUse"][0]["matcher"] == "Edit|Write|MultiEdit|NotebookEdit"
    assert (
        data["hooks"]["PostToolUse"][1]["matcher"] == "Read"
    )  # keeps what the agent read as a merge base


async def test_default_name_makes_the_hook_the_same_principal_as_the_mcp_server(
    repo_path: Path, holder: SessionClient
) -> None:
    """`setup claude --hooks` writes `${MPAC_AGENT_NAME:-claude}` into .mcp.json and `--default-name claude`
    into the hooks: with MPAC_AGENT_NAME unset, both are agent:claude; a shell's MPAC_AGENT_NAME wins for both."""
    mine = SessionClient(holder.url, "agent:claude", session_id=holder.session_id)
    await mine.connect()
    try:
        assert (await mine.announce("edit c", ["c.py"])).ok
        unset = {
            k: v for k, v in os.environ.items() if k not in ("MPAC_AGENT_NAME", "MPAC_PRINCIPAL_ID")
        }
        run = [sys.executable, "-m", "bridge", "hook", "claude-pretooluse"]
        own = subprocess.run(
            [*run, "--default-name", "claude"],
            input=json.dumps(edit(repo_path, "c.py")),
            capture_output=True,
            text=True,
            timeout=60,
            env=unset,
        )
        assert own.returncode == 0 and own.stdout.strip() == "", own.stdout  # its own file: allowed
        other = subprocess.run(
            [*run, "--default-name", "claude"],
            input=json.dumps(edit(repo_path, "c.py")),
            capture_output=True,
            text=True,
            timeout=60,
            env={**unset, "MPAC_AGENT_NAME": "reviewer"},
        )
        assert (
            json.loads(other.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
        )  # another agent
    finally:
        await mine.close()


async def test_the_setup_command_line_and_mpac_bridge_hook_answer_alike(
    repo_path: Path, holder: SessionClient
) -> None:
    """`python -S bridge/hooks/run.py hook ...` (what setup writes, issue 17) and `mpac-bridge hook
    ...` give the same answers: deny with the same reason, allow silently, same errors."""
    assert (await holder.announce("refactor a", ["a.py"], intent_id="holder-a")).ok
    cli = [sys.executable, "-m", "bridge"]
    answers = {}
    for rel in ("a.py", "b.py"):
        fast, slow = (
            hook("claude-pretooluse", edit(repo_path, rel), launcher=launcher)
            for launcher in (None, cli)
        )
        assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout), rel
        answers[rel] = fast.stdout
    assert '"deny"' in answers["a.py"] and answers["b.py"].strip() == ""
    for extra in (("--ttl", "soon"), ("--bogus",), ("--auto-begin", "--ttl")):
        fast, slow = (
            hook("claude-pretooluse", edit(repo_path, "b.py"), *extra, launcher=launcher)
            for launcher in (None, cli)
        )
        assert fast.returncode == slow.returncode == 2 and fast.stderr == slow.stderr, extra
    fast = subprocess.run(
        [*shlex.split(hook_launcher("mpac-bridge")), "--version"], capture_output=True, text=True
    )
    assert fast.returncode == 0 and fast.stdout.startswith("mpac-bridge ")
