"""The MCP tool server for coding agents."""
