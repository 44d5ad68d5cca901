"""Benchmarks behind `mpac-bridge bench`: core, wire, startup (and mcp when available)."""
