"""The `mpac-bridge` command line.

Each subcommand lives in its own module, which is imported only when that subcommand runs, so
`mpac-bridge sidecar` never pays for importing textual, pygls or mcp. A subcommand module exposes:

    HELP: str                                   one line for `mpac-bridge --help`
    def configure(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> int    the exit status
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from bridge import __version__

# name -> (module, one-line help). Help text is duplicated here so `--help` stays import-free.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "sidecar": (
        "bridge.server.cli",
        "Run the MPAC coordinator (WebSocket server) for a repository or a team.",
    ),
    "status": (
        "bridge.workspace.cli_status",
        "Show the repository's sidecar, its participants and intents.",
    ),
    "stop": ("bridge.workspace.cli_stop", "Stop the repository's sidecar cleanly."),
    "mcp": (
        "bridge.mcp.cli",
        "Run the MCP tool server that coding agents (Claude Code, Cursor) use.",
    ),
    "smoke": (
        "bridge.mcp.smoke",
        "Run the end-to-end smoke checks on a scratch copy of a repository.",
    ),
    "demo": ("bridge.demo.cli", "Watch three simulated agents coordinate on a scratch repository."),
    "setup": (
        "bridge.mcp.setup",
        "Print or write MCP client configuration for Claude Code, Cursor or VS Code.",
    ),
    "dashboard": (
        "tui.cli",
        "Open the terminal dashboard: who is editing what, and conflicts to settle.",
    ),
    "lsp": ("lsp.cli", "Run the language server that shows coordination as editor diagnostics."),
    "bench": (
        "bridge.bench.cli",
        "Measure the coordinator, the wire, the MCP server and start-up times.",
    ),
    "hook": ("bridge.hooks.cli", "Claude Code hook commands (PreToolUse / PostToolUse guards)."),
    "guard": ("bridge.hooks.guard_cli", "Install, remove or inspect the git pre-commit guard."),
    "transcript": (
        "bridge.store.cli_transcript",
        "Verify an audit transcript's hash chain, or export it in causal order.",
    ),
    "fleet": (
        "bridge.server.cli_fleet",
        "Show a fleet's sessions, their holder nodes, epochs and leases; or migrate its schema.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mpac-bridge",
        description=(
            "Let several AI coding agents and the humans next to them work in one git repository "
            "without overwriting each other's work, using the MPAC v0.1.15 protocol."
        ),
    )
    parser.add_argument("--version", action="version", version=f"mpac-bridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS:  # the top-level parser only for help and mistakes
        parser = build_parser()
        if argv and not argv[0].startswith("-"):
            parser.error(f"unknown command {argv[0]!r}; see 'mpac-bridge --help'")
        args = parser.parse_args(argv)
        parser.print_help()
        return 0 if args.command is None and not argv else 2
    name = argv[0]
    module_name, help_text = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f"mpac-bridge {name}: not available in this build ({exc})", file=sys.stderr)
            return 2
        raise
    sub = argparse.ArgumentParser(
        prog=f"mpac-bridge {name}", description=getattr(module, "HELP", help_text)
    )
    module.configure(sub)
    args = sub.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (
        BrokenPipeError
    ):  # `mpac-bridge status | head -1`: the reader left; not an error worth a traceback
        with contextlib.suppress(OSError):
            os.dup2(
                os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno()
            )  # so the exit flush stays quiet
        return 0
