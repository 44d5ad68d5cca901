"""`mpac-bridge setup`: a config that merges, points at a real executable, and starts a server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def setup(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "setup", *args], capture_output=True, text=True, timeout=60
    )


async def test_setup_writes_a_working_config_and_keeps_other_servers(repo_path: Path) -> None:
    cfg = repo_path / ".mcp.json"
    cfg.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    out = setup("claude", "--workspace", str(repo_path), "--write")
    assert out.returncode == 0, out.stderr
    data = json.loads(cfg.read_text())
    assert data["mcpServers"]["other"] == {"command": "x"}
    entry = data["mcpServers"]["mpac-bridge"]
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
    assert (
        entry["env"]["MPAC_AGENT_NAME"] == "${MPAC_AGENT_NAME:-claude}"
    )  # Claude Code expands it; a shell value wins
    env = {
        k: re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1]) or m[2], v)
        for k, v in entry["env"].items()
    }
    params = StdioServerParameters(
        command=entry["command"], args=entry["args"], env={**env, "PATH": "/usr/bin:/bin"}
    )
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert "begin_task" in names


def test_setup_prints_by_default_and_refuses_broken_json(repo_path: Path) -> None:
    out = setup("cursor", "--workspace", str(repo_path))
    assert (
        out.returncode == 0
        and '"mpac-bridge"' in out.stdout
        and not (repo_path / ".cursor").exists()
    )
    (repo_path / ".vscode").mkdir()
    (repo_path / ".vscode" / "mcp.json").write_text("{broken")
    out = setup("vscode", "--workspace", str(repo_path), "--write")
    assert out.returncode == 2 and "not valid JSON" in out.stderr


def test_setup_hooks_without_write_prints_the_settings_block_too(repo_path: Path) -> None:
    out = setup("claude", "--hooks", "--workspace", str(repo_path))
    assert out.returncode == 0, out.stderr
    assert f"# {repo_path / '.mcp.json'}" in out.stdout
    assert (
        f"# {repo_path / '.claude' / 'settings.json'}" in out.stdout
        and "hook claude-pretooluse" in out.stdout
    )
    settings = json.loads(out.stdout[out.stdout.index("\n{", out.stdout.index("settings.json")) :])
    assert {"PreToolUse", "PostToolUse"} <= set(settings["hooks"])
    assert not (repo_path / ".mcp.json").exists() and not (repo_path / ".claude").exists()
    refused = setup("cursor", "--hooks", "--workspace", str(repo_path), "--write")
    assert refused.returncode == 2 and not (repo_path / ".cursor").exists()  # nothing half-written


def test_generated_configs_say_whether_to_commit_them(repo_path: Path) -> None:
    printed = setup("vscode", "--workspace", str(repo_path))
    assert (
        "# do not commit .vscode/mcp.json: it holds absolute paths of this machine"
        in printed.stdout
    )
    (repo_path / ".gitignore").write_text(".env\n.mcp.json\n")
    wrote = setup("claude", "--workspace", str(repo_path), "--write", "--hooks")
    assert wrote.returncode == 0, wrote.stderr
    assert ".mcp.json is ignored by git, as it should be" in wrote.stdout
    assert "commit .claude/settings.json only if everyone has them at the same path" in wrote.stdout
