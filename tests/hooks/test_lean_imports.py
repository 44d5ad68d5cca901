"""The hook's path does without `dataclasses` (it imports inspect, ast, dis and tokenize: about
a quarter of a hook's start, issue 17); its records derive from bridge.protocol.slotted."""

from __future__ import annotations

import subprocess
import sys


def test_the_hook_command_imports_no_dataclasses_or_inspect() -> None:
    code = (
        "import sys, bridge.cli, bridge.hooks.cli, bridge.hooks.claude, bridge.client.quick, "
        "bridge.workspace.runtime; "
        "heavy = ('dataclasses', 'inspect', 'ast', 'dis', 'tokenize'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
