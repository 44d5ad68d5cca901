"""The sidecar starts without pydantic (issue 17, start-up): it parses with msgspec, and the
pydantic models word a refusal only, so they are imported on the first refused frame."""

from __future__ import annotations

import json
import subprocess
import sys


def _loaded_after(code: str, prefixes: tuple[str, ...]) -> list[str]:
    probe = (
        f"import json, sys; {code}; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    names: list[str] = json.loads(out.stdout)
    return names


def test_the_sidecar_modules_import_no_pydantic() -> None:
    code = (
        "import bridge.cli, bridge.server.cli, bridge.server.embed, bridge.server.app, "
        "bridge.server.eventloop, bridge.core, bridge.protocol.read, bridge.workspace.runtime"
    )
    assert _loaded_after(code, ("pydantic", "pydantic_core")) == []


def test_a_refused_frame_loads_the_pydantic_parser_and_is_worded_by_it() -> None:
    code = (
        "from bridge.protocol.read import read_message; "
        'r = read_message(\'{"protocol": "MPAC"}\'); '
        "assert r.description == 'version: required string', r"
    )
    assert "pydantic" in _loaded_after(code, ("pydantic",))
