"""Async MPAC participant client shared by the MCP server, the dashboard, the LSP server and the hooks."""
