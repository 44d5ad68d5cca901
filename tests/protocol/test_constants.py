"""The shared constants have one home (bridge/protocol/constants.py): no module writes the protocol
version, defines or spells out our extension namespace, or closes a WebSocket with a bare number."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from bridge.protocol.constants import EXT, PROTOCOL_VERSION, CloseCode

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "bridge" / "protocol" / "constants.py"
CLOSERS = {"close", "flush_and_close", "cut_off", "fail", "_close_session_connections"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for package in ("bridge", "tui", "lsp"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != HOME:
                yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def test_the_protocol_version_is_written_once() -> None:
    found = [
        f"{name}:{node.lineno}"
        for name, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value == PROTOCOL_VERSION
    ]
    assert found == [], (
        f"write PROTOCOL_VERSION (bridge.protocol.constants) instead of {PROTOCOL_VERSION!r}: {found}"
    )


def test_the_extension_namespace_is_defined_once_and_never_spelled_as_a_key() -> None:
    found = []
    for name, tree in modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and node.value.value == EXT
                and any(isinstance(t, ast.Name) and t.id == "EXT" for t in node.targets)
            ):  # (the product has the same name: SOURCE = "mpac-bridge" names it, not the namespace)
                found.append(f"{name}:{node.lineno}: defines it")
            elif isinstance(node, ast.Dict) and any(
                isinstance(k, ast.Constant) and k.value == EXT for k in node.keys
            ):
                found.append(f"{name}:{node.lineno}: a dict key")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == EXT
            ):
                found.append(f"{name}:{node.lineno}: .get({EXT!r})")
    assert found == [], (
        f"use EXT (bridge.protocol.constants, or bridge.client.EXT in tui/lsp): {found}"
    )


def test_websocket_close_codes_are_named() -> None:
    found = [
        f"{name}:{node.lineno}"
        for name, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOSERS
        and any(
            isinstance(a, ast.Constant) and isinstance(a.value, int) and 1000 <= a.value <= 4999
            for a in node.args
        )
    ]
    assert found == [], f"use CloseCode (bridge.protocol.constants): {found}"
    assert (
        CloseCode.POLICY_VIOLATION == 1008 and CloseCode.SERVICE_RESTART == 1012
    )  # what clients see on the wire
