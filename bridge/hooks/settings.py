"""Claude Code settings entries for the hooks (merged by `mpac-bridge setup claude --hooks`)."""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any

MATCHER = "Edit|Write|MultiEdit|NotebookEdit"
READ_MATCHER = (
    "Read"  # PostToolUse only: keep what the agent read as the base of a later merge (issue 19)
)


def hook_launcher(fallback: str) -> str:
    """What the hook commands start with: this interpreter with -S running `bridge/hooks/run.py`
    (which takes `mpac-bridge`'s arguments; about 20 ms quicker to start than the `mpac-bridge`
    script, issue 17), or `fallback` (the `mpac-bridge` executable) when the interpreter is unknown."""
    entry = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
    if not sys.executable or not os.path.isfile(entry):
        return fallback
    return f"{shlex.quote(sys.executable)} -S {shlex.quote(entry)}"


def claude_hook_entries(
    exe: str, auto_begin: bool = False, name: str | None = None
) -> dict[str, Any]:
    """`exe` is what the commands start with (`hook_launcher`, or the `mpac-bridge` executable).
    `name` is the agent name the MCP server falls back to, so a hook acts as the same principal
    when MPAC_AGENT_NAME is not set in the environment."""
    tail = f" --default-name {shlex.quote(name)}" if name else ""
    pre = f"{exe} hook claude-pretooluse" + (" --auto-begin" if auto_begin else "") + tail
    return {
        "PreToolUse": [
            {"matcher": MATCHER, "hooks": [{"type": "command", "command": pre, "timeout": 10}]}
        ],
        "PostToolUse": [
            {
                "matcher": MATCHER,
                "hooks": [
                    {
                        "type": "command",
                        "command": f"{exe} hook claude-posttooluse{tail}",
                        "timeout": 10,
                    }
                ],
            },
            {
                "matcher": READ_MATCHER,
                "hooks": [
                    {
                        "type": "command",
                        "command": f"{exe} hook claude-posttooluse{tail}",
                        "timeout": 5,
                    }
                ],
            },
        ],
    }


def merge_hooks(settings: dict[str, Any], entries: dict[str, Any]) -> dict[str, Any]:
    """Add our entries; replace earlier mpac-bridge entries; keep everyone else's."""
    hooks = settings.setdefault("hooks", {})
    for event, new in entries.items():
        kept = [
            e
            for e in hooks.get(event, [])
            if not any(" hook claude-" in h.get("command", "") for h in e.get("hooks", []))
        ]
        hooks[event] = kept + new
    return settings
