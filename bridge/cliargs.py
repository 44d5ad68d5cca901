"""Options that several `mpac-bridge` commands share, declared once: the same name, type and
choices everywhere, each command saying in its own words what the option means for it."""

from __future__ import annotations

import argparse
from pathlib import Path

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def add_log_level(parser: argparse.ArgumentParser, default: str, help: str) -> None:
    """`--log-level`, one of LOG_LEVELS."""
    parser.add_argument("--log-level", default=default, choices=list(LOG_LEVELS), help=help)


def add_workspace(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    help: str,
    default: Path | None = None,
) -> None:
    """`--workspace`, a path (to the repository, or inside it)."""
    parser.add_argument("--workspace", type=Path, default=default, help=help)
