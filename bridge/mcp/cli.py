"""`mpac-bridge mcp`: the MCP tool server coding agents use."""

from __future__ import annotations

import argparse
import logging
import sys

from bridge.cliargs import add_log_level, add_workspace

HELP = "Run the MCP tool server that coding agents (Claude Code, Cursor) use."
DESCRIPTION = (
    "Serve the coordination tools over MCP. Stdio by default (what Claude Code and Cursor start); "
    "streamable HTTP for hosted use. The agent's identity comes from MPAC_PRINCIPAL_ID or MPAC_AGENT_NAME; "
    "MPAC_COORDINATOR_URL and MPAC_COORDINATOR_TOKEN select a remote coordinator instead of the "
    "repository's local sidecar, which is started on first use."
)


def configure(p: argparse.ArgumentParser) -> None:
    p.description = DESCRIPTION
    add_workspace(p, "repository to coordinate (default: the current directory)")
    p.add_argument(
        "--transport", choices=["stdio", "streamable-http"], default="stdio", help="default stdio"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="streamable-http: address (default 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=8765, help="streamable-http: port (default 8765)")
    add_log_level(p, "WARNING", "stderr logging (default WARNING)")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from bridge.mcp.context import ToolContext
    from bridge.mcp.server import build_server

    ctx = ToolContext.from_env(args.workspace)
    server = build_server(ctx, lazy_tools=args.transport == "stdio")
    if args.transport == "stdio":
        import anyio

        from bridge.mcp.stdio import serve_stdio

        anyio.run(serve_stdio, server)
    else:
        server.run(transport="streamable-http", host=args.host, port=args.port)
    return 0
