"""The `mpac-bridge` dispatcher: help, version and unknown commands, without importing adapters."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bridge import __version__
from bridge.cli import SUBCOMMANDS, build_parser, main


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_command_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_parser_help_does_not_import_heavy_adapters() -> None:
    code = (
        "import sys; from bridge.cli import build_parser; build_parser().format_help(); "
        "heavy = [m for m in ('textual', 'pygls', 'mcp', 'websockets') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_subcommand_has_one_line_help() -> None:
    parser = build_parser()
    text = parser.format_help()
    for module, help_text in SUBCOMMANDS.values():
        assert module.split(".")[0] in {"bridge", "tui", "lsp"}
        assert help_text and "\n" not in help_text
    assert "MPAC v0.1.15" in text
