"""The Claude Code hooks' own front-end (issue 17: start-up), run by `bridge/hooks/run.py`.

It reads the few argument forms `setup claude --hooks` writes by hand instead of importing
argparse and `bridge.cli`, and calls the same hook functions as `mpac-bridge hook ...`. Any other
command line (another command, `--help`, a mistake) is handed to `bridge.cli.main`, which parses it
and says what is wrong exactly as `mpac-bridge` does.
"""

from __future__ import annotations

import sys

HOOKS = ("claude-pretooluse", "claude-posttooluse")


def parse(argv: list[str]) -> dict[str, object] | None:
    """The options of `hook <name> [--auto-begin] [--ttl SEC] [--default-name NAME]`, or None when
    `argv` is anything else (then argparse decides, and explains)."""
    if len(argv) < 2 or argv[0] != "hook" or argv[1] not in HOOKS:
        return None
    out: dict[str, object] = {
        "name": argv[1],
        "auto_begin": False,
        "ttl": 900.0,
        "default_name": None,
    }
    rest = argv[2:]
    while rest:
        arg = rest.pop(0)
        key, eq, value = arg.partition("=")
        if key == "--auto-begin" and not eq:
            out["auto_begin"] = True
            continue
        if key not in ("--ttl", "--default-name"):
            return None
        if not eq:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        if key == "--ttl":
            try:
                out["ttl"] = float(value)
            except ValueError:
                return None
        else:
            out["default_name"] = value
    return out


def with_site() -> None:
    """Run `site` when the interpreter was started with -S (site-packages, .pth files, the
    editable finder): the general command line needs what is installed there."""
    if sys.flags.no_site:
        import site

        site.main()


def main(argv: list[str]) -> int:
    opts = parse(argv)
    if opts is None:
        with_site()
        from bridge.cli import main as cli_main

        return cli_main(argv)
    from bridge.hooks.cli import answer

    code = answer(
        str(opts["name"]),
        auto_begin=bool(opts["auto_begin"]),
        ttl=float(opts["ttl"]),  # type: ignore[arg-type]
        default_name=opts["default_name"],  # type: ignore[arg-type]
    )
    return leave(code)


def leave(code: int) -> int:
    """Exit at once once the answer is written: the interpreter's orderly shutdown (tearing down
    every module) costs a hook about 8 ms of CPU, and the hook holds nothing that needs it (its
    socket and files are closed; only the standard streams are flushed here)."""
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return code  # a stream cannot be flushed: the normal exit reports it as Python would
    os._exit(code)
