"""`mpac-bridge guard`: install, remove or inspect the git pre-commit guard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bridge.cliargs import add_workspace

HELP = "Install, remove or inspect the git pre-commit guard."


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "A git pre-commit hook (and with --pre-push a pre-push hook) that refuses commits touching files "
        "another principal is editing, as the coordinator named by MPAC_COORDINATOR_URL (else the repository's "
        "sidecar) sees them; with none reachable it lets git go on. Existing hooks keep running; uninstall restores them. "
        "Bypass with MPAC_BYPASS=1 or git commit --no-verify."
    )
    p.add_argument(
        "action",
        choices=["install", "uninstall", "status", "check"],
        help="check is what the hook runs",
    )
    add_workspace(p, "repository (default: the current directory)", Path("."))
    p.add_argument("--pre-push", action="store_true", help="also guard git push")
    p.add_argument("--warn", action="store_true", help="only warn, never refuse")
    p.add_argument(
        "--hook", default="pre-commit", choices=["pre-commit", "pre-push"], help=argparse.SUPPRESS
    )
    p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from bridge.hooks import guard
    from bridge.mcp.setup import executable

    repo = args.workspace.resolve()
    try:
        if args.action == "install":
            names = ("pre-commit", "pre-push") if args.pre_push else ("pre-commit",)
            for path in guard.install(repo, executable(), names, args.warn):
                print(f"installed {path}")
            return 0
        if args.action == "uninstall":
            restored = guard.uninstall(repo)
            print(
                "removed: "
                + (", ".join(restored) if restored else "nothing (the guard was not installed)")
            )
            return 0
        if args.action == "status":
            for name, state in guard.status(repo).items():
                print(f"{name:<11} {state}")
            return 0
        stdin = sys.stdin.read() if args.hook == "pre-push" and not sys.stdin.isatty() else ""
        return guard.check(repo, args.hook, args.warn, stdin)
    except RuntimeError as exc:
        print(f"mpac-bridge guard: {exc}", file=sys.stderr)
        return 2
