"""The hooks' own front-end (bridge/hooks/fast.py, issue 17) reads exactly the argument forms
`setup claude --hooks` writes and hands everything else to argparse."""

from __future__ import annotations

import shlex

from bridge.hooks.fast import parse
from bridge.hooks.settings import claude_hook_entries, hook_launcher


def test_it_reads_what_setup_writes() -> None:
    entries = claude_hook_entries(hook_launcher("mpac-bridge"), auto_begin=True, name="my agent")
    commands = [h["command"] for e in entries.values() for group in e for h in group["hooks"]]
    for command in commands:
        argv = shlex.split(command)
        assert argv[1] == "-S" and argv[2].endswith("run.py")
        opts = parse(argv[3:])
        assert opts is not None and opts["default_name"] == "my agent", command
    assert parse(["hook", "claude-pretooluse", "--auto-begin", "--ttl", "60"]) == {
        "name": "claude-pretooluse",
        "auto_begin": True,
        "ttl": 60.0,
        "default_name": None,
    }
    assert parse(["hook", "claude-posttooluse", "--default-name=x", "--ttl=1.5"]) == {
        "name": "claude-posttooluse",
        "auto_begin": False,
        "ttl": 1.5,
        "default_name": "x",
    }


def test_anything_else_is_left_to_argparse() -> None:
    for argv in (
        [],
        ["status"],
        ["hook"],
        ["hook", "other"],
        ["hook", "claude-pretooluse", "--help"],
        ["hook", "claude-pretooluse", "--ttl"],
        ["hook", "claude-pretooluse", "--ttl", "soon"],
        ["hook", "claude-pretooluse", "--ttl", "-5"],
        ["hook", "claude-pretooluse", "--auto"],
        ["hook", "claude-pretooluse", "--auto-begin=yes"],
        ["hook", "claude-pretooluse", "extra"],
    ):
        assert parse(argv) is None, argv
