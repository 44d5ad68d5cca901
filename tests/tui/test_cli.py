"""`mpac-bridge dashboard` arguments: where the dashboard connects by default."""

from __future__ import annotations

import argparse

import pytest

from tui.cli import configure


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    configure(parser)
    return parser


def test_dashboard_defaults_come_from_the_coordinator_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One `export MPAC_COORDINATOR_URL=...` points the dashboard where the MCP server and hooks go."""
    monkeypatch.setenv("MPAC_COORDINATOR_URL", "wss://team.example/session/shop")
    monkeypatch.setenv("MPAC_COORDINATOR_TOKEN", "tok-123456")
    monkeypatch.setenv("MPAC_SESSION_ID", "shop")
    args = build_parser().parse_args([])
    assert (args.url, args.token, args.session_id) == (
        "wss://team.example/session/shop",
        "tok-123456",
        "shop",
    )
    explicit = build_parser().parse_args(
        ["--url", "ws://127.0.0.1:9/session/x", "--token", "other-token"]
    )
    assert (explicit.url, explicit.token) == ("ws://127.0.0.1:9/session/x", "other-token")
    for var in ("MPAC_COORDINATOR_URL", "MPAC_COORDINATOR_TOKEN", "MPAC_SESSION_ID"):
        monkeypatch.delenv(var)
    assert build_parser().parse_args([]).url is None  # the repository's sidecar
