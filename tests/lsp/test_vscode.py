"""The VS Code extension (lsp/vscode): built, type-checked and packaged by `make vscode`; the .vsix
manifest; its settings against what lsp/settings.py accepts; its own unit tests (node --test
against a mock of the vscode API)."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lsp.settings import WATCH_MODES, Settings
from tests.lsp.vscode_support import EXT, project_version, run

SERVER_OPTIONS = [
    "coordinatorUrl",
    "token",
    "sessionId",
    "user",
    "autoAnnounce",
    "autoAnnounceIdleSec",
    "debounceMs",
    "watch",
]


def manifest_in(vsix: Path) -> dict[str, Any]:
    with zipfile.ZipFile(vsix) as z:
        return json.loads(z.read("extension/package.json"))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def test_settings_mirror_what_the_server_accepts() -> None:
    """Every option lsp/settings.py reads is a mpacBridge.* setting of the same name and type, with
    its default, and the bounds VS Code enforces are the ones the server accepts."""
    props = json.loads((EXT / "package.json").read_text())["contributes"]["configuration"][
        "properties"
    ]
    fields = [camel(f) for f in Settings.__dataclass_fields__]
    assert fields == SERVER_OPTIONS
    assert sorted(props) == sorted(
        [f"mpacBridge.{k}" for k in SERVER_OPTIONS]
        + ["mpacBridge.command", "mpacBridge.trace.server"]
    )
    defaults = Settings()
    for field, key in zip(Settings.__dataclass_fields__, SERVER_OPTIONS, strict=True):
        spec, value = props[f"mpacBridge.{key}"], getattr(defaults, field)
        if isinstance(value, bool):
            assert (spec["type"], spec["default"]) == ("boolean", value), key
        elif isinstance(value, float):
            assert (spec["type"], spec["default"]) == ("number", value), key
            low, high = spec["minimum"], spec["maximum"]
            for ok in (low, high):
                assert Settings.load({key: ok}, {})[1] == [], (key, ok)
            for bad in (low - 0.01, high + 1):
                assert Settings.load({key: bad}, {})[1] != [], (key, bad)
        else:  # strings: empty means "not set" (the environment or the server's default applies)
            assert spec["type"] == "string" and spec["default"] in ("", value), key
        assert len(spec["markdownDescription"]) > 20, key
    assert tuple(props["mpacBridge.watch"]["enum"]) == WATCH_MODES
    for mode in WATCH_MODES:
        assert Settings.load({"watch": mode}, {})[0].watch == mode


@pytest.mark.e2e
def test_make_vscode_builds_a_vsix_named_after_the_project_version(vscode_extension: Path) -> None:
    assert vscode_extension.name == f"mpac-bridge-{project_version()}.vsix"
    assert vscode_extension.is_file()
    with zipfile.ZipFile(vscode_extension) as z:
        names = set(z.namelist())
    assert {
        "extension.vsixmanifest",
        "extension/package.json",
        "extension/dist/extension.js",
        "extension/images/icon.png",
        "extension/README.md",
    } <= names
    assert not [
        n
        for n in names
        if "/node_modules/" in n or "/src/" in n or "/test/" in n or n.endswith(".ts")
    ], names
    # the source tree keeps a placeholder version: pyproject.toml is the one to maintain
    assert json.loads((EXT / "package.json").read_text())["version"] == "0.0.0-dev"


@pytest.mark.e2e
def test_vsix_manifest(vscode_extension: Path) -> None:
    m = manifest_in(vscode_extension)
    assert m["version"] == project_version()
    assert m["main"] == "./dist/extension.js"
    assert m["activationEvents"] == ["workspaceContains:.git"]  # and nothing else
    assert m["capabilities"]["untrustedWorkspaces"]["supported"] is False
    # the engine range covers what vscode-languageclient needs, and the API typings are not newer
    engine = m["engines"]["vscode"]
    needed = json.loads(
        (EXT / "node_modules" / "vscode-languageclient" / "package.json").read_text()
    )["engines"]["vscode"]
    types = json.loads((EXT / "node_modules" / "@types" / "vscode" / "package.json").read_text())[
        "version"
    ]

    def v(s: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.sub(r"^[\^~>=]+", "", s).split(".")[:3])

    assert engine.startswith("^") and v(engine) >= v(needed) and v(types)[:2] <= v(engine)[:2], (
        engine,
        needed,
        types,
    )
    commands = {c["command"]: c for c in m["contributes"]["commands"]}
    assert set(commands) == {
        "mpacBridge.claimFile",
        "mpacBridge.releaseFile",
        "mpacBridge.whoIsEditing",
        "mpacBridge.openDashboard",
        "mpacBridge.showSession",
        "mpacBridge.restartServer",
        "mpacBridge.showLog",
    }
    assert commands["mpacBridge.whoIsEditing"]["title"] == "Who is editing this file?"
    assert all(c["category"] == "mpac-bridge" for c in commands.values())
    # contributed commands would activate the extension anywhere: they are hidden outside a repository
    palette = {e["command"]: e["when"] for e in m["contributes"]["menus"]["commandPalette"]}
    assert set(palette) == set(commands) and all("mpacBridge.active" in w for w in palette.values())
    for menu in ("explorer/context", "editor/title/context"):
        assert all("mpacBridge.active" in e["when"] for e in m["contributes"]["menus"][menu])
    # the commands the extension registers are the ones it contributes (the bundle names each id)
    with zipfile.ZipFile(vscode_extension) as z:
        bundle = z.read("extension/dist/extension.js").decode()
        xml = z.read("extension.vsixmanifest").decode()
    assert all(f'"{c}"' in bundle or f"'{c}'" in bundle for c in commands)
    assert f'Version="{project_version()}"' in xml and f'Value="{engine}"' in xml


@pytest.mark.e2e
def test_extension_unit_tests(vscode_extension: Path) -> None:
    """node --test: command resolution, settings mapping, restart policy, status bar, commands."""
    out = run([shutil.which("npm") or "npm", "test", "--silent"], EXT)
    report = out.stdout + out.stderr
    passed = re.search(r"^# pass (\d+)$", report, re.M)
    failed = re.search(r"^# fail (\d+)$", report, re.M)
    assert passed and failed, report[-3000:]
    assert int(failed.group(1)) == 0 and int(passed.group(1)) >= 25, report[-3000:]
    for name in (
        "an empty setting falls back to the workspace .venv, then PATH",
        "what the person set is passed under the same names; empty strings are left out",
        "restarts up to the limit within the window, then gives up",
        'the counts read "N agents · M intents · K conflicts", singular for one',
    ):
        assert re.search(rf"^ok \d+ - {re.escape(name)}$", report, re.M), name
