"""`mpac-bridge hook <name>`: Claude Code hook commands. They read the hook's JSON from stdin."""

from __future__ import annotations

import sys

from bridge import jsonlite as json

TYPE_CHECKING = False  # typing itself costs a hook's start-up some milliseconds (issue 17)
if TYPE_CHECKING:
    import argparse

HELP = "Claude Code hook commands (PreToolUse / PostToolUse guards)."


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "claude-pretooluse denies Edit/Write/MultiEdit/NotebookEdit on a file another principal holds; "
        "claude-posttooluse records the edit as a commit. They ask the coordinator named by MPAC_COORDINATOR_URL "
        "(with MPAC_COORDINATOR_TOKEN), else the repository's sidecar, and allow (saying why on stderr) when none "
        "can be reached. MPAC_BYPASS=1 allows (and is audited). The agent's identity comes from MPAC_PRINCIPAL_ID / "
        "MPAC_AGENT_NAME, as for `mpac-bridge mcp`."
    )
    p.add_argument("name", choices=["claude-pretooluse", "claude-posttooluse"], help="which hook")
    p.add_argument(
        "--auto-begin",
        action="store_true",
        help="pretooluse: claim a free file for the agent (short TTL) before allowing",
    )
    p.add_argument(
        "--ttl",
        type=float,
        default=900.0,
        help="TTL of an --auto-begin intent in seconds (default 900)",
    )
    p.add_argument(
        "--default-name",
        metavar="NAME",
        help="agent name when MPAC_AGENT_NAME and MPAC_PRINCIPAL_ID are unset "
        "(setup writes the same default into .mcp.json, so the hook and the MCP server are one principal)",
    )


def run(args: argparse.Namespace) -> int:
    return answer(
        args.name, auto_begin=args.auto_begin, ttl=args.ttl, default_name=args.default_name
    )


def answer(
    name: str, *, auto_begin: bool = False, ttl: float = 900.0, default_name: str | None = None
) -> int:
    """Read the hook's event from stdin, print the answer (`bridge.hooks.fast` calls this too)."""
    try:
        event = json.loads(sys.stdin.read() or "{}")
    except ValueError:
        print("mpac-bridge hook: stdin is not JSON; allowing", file=sys.stderr)
        return 0
    from bridge.hooks import claude

    if name == "claude-pretooluse":
        reply = claude.pre_tool_use(
            event, auto_begin=auto_begin, ttl_sec=ttl, default_name=default_name
        )
        if reply is not None:
            print(json.dumps(reply))
        return 0
    claude.post_tool_use(event, default_name=default_name)
    return 0
