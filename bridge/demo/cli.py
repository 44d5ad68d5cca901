"""`mpac-bridge demo`: three simulated agents and a human arbiter coordinate on a scratch repository."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bridge.cliargs import add_workspace

HELP = "Watch simulated agents coordinate on a scratch repository."
SAMPLE = Path(__file__).with_name("sample_repo")


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Runs a scripted session on a scratch copy of a small sample repository (or of --workspace), with its "
        "own sidecar: a blocked agent defers, a stale write is refused, a conflict is escalated and resolved by a "
        "human, and a crashed agent's task is taken over. --scenario symbols shows agents claiming functions instead of "
        "files: four agents change four functions of one file at once and their writes are merged; the same function "
        "is blocked; overlapping edits are refused with the hunks. Your own repositories and sidecars are never touched."
    )
    p.add_argument(
        "--scenario",
        choices=["classic", "symbols"],
        default="classic",
        help="classic: files, deferral, stale write, escalation, takeover (default); symbols: function-level claims and merges",
    )
    add_workspace(
        p, "copy this repository instead of the bundled sample (its files are copied, not modified)"
    )
    p.add_argument("--no-color", action="store_true", help="plain output")
    p.add_argument("--keep", action="store_true", help="keep the scratch repository afterwards")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_scratch(source: Path | None) -> Path:
    root = Path(tempfile.mkdtemp(prefix="mpac-demo-"))
    repo = root / "shop"
    if source is None:
        shutil.copytree(SAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copytree(
            source,
            repo,
            ignore=shutil.ignore_patterns(".git", "__pycache__", ".venv", "node_modules"),
        )
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(
        repo,
        "-c",
        "user.email=demo@mpac-bridge",
        "-c",
        "user.name=demo",
        "commit",
        "-qm",
        "demo start",
    )
    if not (
        repo / "shop" / "checkout.py"
    ).exists():  # a user repository: add the demo's files beside it
        shutil.copytree(SAMPLE / "shop", repo / "shop", dirs_exist_ok=True)
        _git(repo, "add", ".")
        _git(
            repo,
            "-c",
            "user.email=demo@mpac-bridge",
            "-c",
            "user.name=demo",
            "commit",
            "-qm",
            "demo files",
        )
    return repo


def run(args: argparse.Namespace) -> int:
    from bridge.demo.narrate import DemoFailed, Narrator
    from bridge.demo.scenario import run_scenario
    from bridge.demo.symbols import run_symbols
    from bridge.workspace import ensure_sidecar, find_repo

    color = not args.no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    n = Narrator(color=color)
    repo_path = make_scratch(args.workspace)
    repo = find_repo(repo_path)
    n.console.print(f"[bold]mpac-bridge demo[/]  scratch repository {repo.root}")
    info = ensure_sidecar(
        repo,
        extra_args=[
            "--heartbeat-interval",
            "1",
            "--unavailability-timeout",
            "3",
            "--idle-timeout",
            "60",
        ],
    )
    n.console.print(f"sidecar {info.url} (pid {info.pid}), session {info.session_id}")
    try:
        if args.scenario == "symbols":
            return asyncio.run(run_symbols(n, repo))
        return asyncio.run(run_scenario(n, repo, info.url, info.session_id))
    except DemoFailed as exc:
        n.console.print(f"[bold red]demo failed[/]: {exc}")
        return 1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGTERM)
        if args.keep:
            n.console.print(f"scratch repository kept: {repo.root}")
        else:
            shutil.rmtree(repo.root.parent, ignore_errors=True)
            n.console.print("scratch repository removed (run with --keep to look at it afterwards)")
