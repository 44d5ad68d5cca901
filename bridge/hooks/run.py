"""The command line `setup claude --hooks` writes for the Claude Code hooks (issue 17: start-up).

    <python> -S <this file> hook claude-pretooluse [--auto-begin] [--ttl SEC] [--default-name NAME]

The arguments are those of `mpac-bridge`. `-S` skips `site`, which in an editable install also
imports setuptools' finder (pathlib, re, urllib.parse: 15-20 ms of a hook's start); this file puts
the directory holding the `bridge` package first on `sys.path` itself, so the same line works for
a venv, pipx or uv install and for a checkout. The hook path needs only the standard library and
`bridge`; anything else (another command, `--help`, an argument it does not know) goes through
`bridge.cli` after running `site` as usual. Keep this file tiny: a script is never cached as
bytecode, so it is compiled on every run.
"""

import os
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if sys.flags.safe_path:  # -P / PYTHONSAFEPATH: this file's directory was not put first
    sys.path.insert(0, root)
else:
    sys.path[0] = root  # instead of bridge/hooks, whose modules must not shadow any others
from bridge.hooks.fast import main  # noqa: E402 (the path above comes first)

raise SystemExit(main(sys.argv[1:]))
