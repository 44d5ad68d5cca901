"""The async participant client used by the MCP server, the dashboard, the LSP server and the hooks."""

from bridge.client.backoff import Backoff
from bridge.client.client import JoinRefused, Reply, SessionClient
from bridge.client.env import client_from_env
from bridge.client.tls import ssl_context_for
from bridge.client.view import SessionView

__all__ = ["Backoff", "JoinRefused", "Reply", "SessionClient", "SessionView", "client_from_env", "ssl_context_for"]
