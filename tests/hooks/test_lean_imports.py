"""The hook's path does without `dataclasses` (it imports inspect, ast, dis and tokenize: about
a quarter of a hook's start, issue 17); its records derive from bridge.protocol.slotted."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from bridge.client import SessionClient
from bridge.hooks.settings import hook_launcher
from bridge.workspace import find_repo


def test_the_hook_command_imports_no_dataclasses_or_inspect() -> None:
    code = (
        "import sys, bridge.cli, bridge.hooks.cli, bridge.hooks.claude, bridge.client.quick, "
        "bridge.workspace.runtime; "
        "heavy = ('dataclasses', 'inspect', 'ast', 'dis', 'tokenize'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# What the hook's own command line (`python -S bridge/hooks/run.py hook ...`, issue 17) does
# without: each of these cost it milliseconds of start-up (docs/performance.md, "Issue 17").
NOT_ON_THE_HOOK_PATH = (
    "site",  # and with it setuptools' editable finder
    "argparse",
    "subprocess",  # find_repo reads .git; git runs only for unusual layouts
    "hashlib",  # bridge.digest
    "socket",  # bridge.tcp
    "typing",
    "pathlib",  # Repo keeps its directories as strings too
    "json",  # bridge.jsonlite calls _json
    "re",
    "enum",  # CloseCode loads on first use
    "urllib",
    "base64",
    "asyncio",
    "pydantic",
    "websockets",
    "uuid",
    "tempfile",
    "dataclasses",
    "inspect",
)


def imports_of_hook(repo: Path, rel: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the command setup writes, with `-X importtime`, for an edit of `rel`; what it imported."""
    event = {
        "cwd": str(repo),
        "tool_name": "Edit",
        "tool_input": {"file_path": str(repo / rel)},
    }
    python, *rest = shlex.split(hook_launcher("mpac-bridge"))
    out = subprocess.run(
        [python, "-X", "importtime", *rest, "hook", "claude-pretooluse"],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=repo,
        env={k: v for k, v in os.environ.items() if not k.startswith("MPAC_")},
    )
    imported = {
        line.split("|")[-1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:")
    }
    return out, imported


def assert_lean(imported: set[str]) -> None:
    assert "bridge.hooks.claude" in imported
    top = {name.split(".")[0] for name in imported}
    assert sorted(top & set(NOT_ON_THE_HOOK_PATH)) == []
    assert not [m for m in imported if "editable" in m]


def test_the_hook_command_line_imports_none_of_the_slow_modules(tmp_path: Path) -> None:
    """No sidecar: the hook looks for one, says so and allows."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "a.py").write_text("a = 1\n")
    out, imported = imports_of_hook(repo, "a.py")
    assert out.returncode == 0 and "no sidecar is running" in out.stderr, out.stderr[-2000:]
    assert_lean(imported)


async def test_denying_and_allowing_import_none_of_them_either(
    repo_path: Path, holder: SessionClient
) -> None:
    """Against a sidecar: a denied edit, and an allowed one of content never seen (the hook keeps
    it in the base store, which writes a file)."""
    assert (await holder.announce("hold a", ["a.py"])).ok
    out, imported = imports_of_hook(repo_path, "a.py")
    assert '"deny"' in out.stdout, out.stderr[-2000:]
    assert_lean(imported)
    (repo_path / "b.py").write_text(f"b = {os.getpid()}\n")
    out, imported = imports_of_hook(repo_path, "b.py")
    assert out.returncode == 0 and out.stdout.strip() == "", out.stderr[-2000:]
    assert_lean(imported)
    assert list((find_repo(repo_path).data_dir / "bases").rglob("*"))
