"""The one place that reaches past MCPServer's public surface to the low-level Server it wraps.

mcp 2.3 gives no public way to do either thing we need (checked in its source):
- run an MCPServer over streams of our own (`serve_stdio` answers unreadable lines): `run()` and
  `run_stdio_async()` take no streams, and only the low-level `Server.run(read, write, options)`
  does;
- serve `resources/subscribe` for clients of the handshake era (`notify.py`): MCPServer's
  constructor takes no subscribe handler, and an `Extension`'s `MethodBinding` refuses spec
  methods; its docstring says to re-provide a removed spec method with the low-level
  `Server.add_request_handler`.
The SDK's own `Client` and in-memory transport take the same attribute. When a public accessor
appears, only this function changes."""

from __future__ import annotations

from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer


def lowlevel(server: MCPServer) -> Server[Any]:
    """The low-level Server that `server` drives (the object `MCPServer.run_stdio_async` runs)."""
    return server._lowlevel_server
