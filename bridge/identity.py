"""Who this process speaks for: the same rules for the MCP server, the hooks and the git guard."""

from __future__ import annotations

import os


def agent_principal(client_name: str | None = None) -> str:
    """MPAC_PRINCIPAL_ID, else agent:<MPAC_AGENT_NAME>, else agent:<client name>, else agent:mcp-<user>."""
    if os.environ.get("MPAC_PRINCIPAL_ID"):
        return os.environ["MPAC_PRINCIPAL_ID"]
    name = os.environ.get("MPAC_AGENT_NAME") or client_name or f"mcp-{_user()}"
    return "agent:" + "".join(c if c.isalnum() or c in "-_.@" else "-" for c in name)


def human_principal(suffix: str = "") -> str:
    """MPAC_PRINCIPAL_ID if set (an agent running git), else human:<user><suffix>."""
    return os.environ.get("MPAC_PRINCIPAL_ID") or f"human:{_user()}{suffix}"


def _user() -> str:
    import getpass  # only when needed: it imports termios, and a hook's start-up is the user's wait

    return getpass.getuser()
