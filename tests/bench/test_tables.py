"""`mpac-bridge bench` without --json prints readable tables for every section it ran."""

from __future__ import annotations

import pytest

from bridge.bench.cli import print_tables

MACHINE = {"cores": 2, "python": "3.11.7", "platform": "Linux"}


def test_mcp_section_is_a_table_of_tools(capsys: pytest.CaptureFixture[str]) -> None:
    print_tables(
        {
            "machine": MACHINE,
            "mcp": {
                "initialize_ms": 912.4,
                "tools": {
                    "who_is_working": {"p50_ms": 1.94, "p99_ms": 3.6, "calls": 30},
                    "submit_change": {"p50_ms": 11.26, "p99_ms": 21.4, "calls": 30},
                },
            },
        }
    )
    out = capsys.readouterr().out
    assert "initialize 912 ms" in out
    assert "who_is_working" in out and "1.9" in out
    assert "submit_change" in out and "11.3" in out
    assert "{" not in out  # no raw JSON


def test_skipped_mcp_section_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    print_tables(
        {"machine": MACHINE, "mcp": {"skipped": "bridge.mcp.bench is not available in this build"}}
    )
    assert "skipped (bridge.mcp.bench is not available" in capsys.readouterr().out
