"""Remote mode: the variables that name a hosted coordinator, for every tool. The MCP server, the
hooks, the git guard and `mpac-bridge status` read them through `remote_from_env`; the dashboard
and the language server use them as defaults under their own flags and initialization options."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # a hook reads these variables without typing or urllib (start-up, issue 17)
if TYPE_CHECKING:
    from collections.abc import Mapping

URL_VAR = "MPAC_COORDINATOR_URL"
TOKEN_VAR = "MPAC_COORDINATOR_TOKEN"
SESSION_VAR = "MPAC_SESSION_ID"


def session_of_url(url: str) -> str | None:
    """The session id in a `.../session/<id>` url (a reverse proxy may put it under a prefix)."""
    import urllib.parse

    path = urllib.parse.urlsplit(url).path
    return path.split("/session/", 1)[1].strip("/") or None if "/session/" in path else None


def remote_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(url, session id) from MPAC_COORDINATOR_URL, or None when it is unset. The session comes from
    MPAC_SESSION_ID, else the url's /session/<id>. Raises ValueError when the variable is unusable."""
    env = os.environ if environ is None else environ
    url = (env.get(URL_VAR) or "").strip()
    if not url:
        return None
    if not url.startswith(("ws://", "wss://")):
        raise ValueError(f"{URL_VAR} must start with ws:// or wss:// (got {url!r})")
    session = (env.get(SESSION_VAR) or "").strip() or session_of_url(url)
    if not session:
        raise ValueError(
            f"{URL_VAR} has no /session/<id> path; set {SESSION_VAR} to the session's id"
        )
    return url, session
