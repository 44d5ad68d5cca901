"""The async participant client used by the MCP server, the dashboard, the LSP server and the hooks."""

from bridge.client.client import JoinRefused, Reply, SessionClient
from bridge.client.view import SessionView

__all__ = ["JoinRefused", "Reply", "SessionClient", "SessionView"]
