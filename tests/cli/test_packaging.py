"""Packaging: the wheel builds without setuptools warnings, with an SPDX license expression."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_wheel_builds_without_warnings_and_declares_its_license(tmp_path: Path) -> None:
    src = tmp_path / "src"  # a copy: the build writes build/ and *.egg-info next to the sources
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "build",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
            "mpac-data",
        ),
    )
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (
        "BuildBackendWarning" not in out.stdout + out.stderr
    )  # was: project.license as a TOML table, three times
    (wheel,) = tmp_path.glob("mpac_bridge-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(
            next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        ).decode()
        scripts = zf.read(
            next(n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "mpac-bridge = bridge.cli:main" in scripts
