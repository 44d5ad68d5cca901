"""Remote mode: build a SessionClient from MPAC_COORDINATOR_URL / MPAC_COORDINATOR_TOKEN."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from bridge.client.client import SessionClient
from bridge.client.tls import ssl_context_for
from bridge.remote import TOKEN_VAR, URL_VAR


def client_from_env(
    default_url: str | None = None,
    *,
    principal_id: str,
    cafile: str | None = None,
    environ: Mapping[str, str] | None = None,
    **kw: Any,
) -> SessionClient:
    """A client for the coordinator named by the environment (or `default_url`).

    Raises ValueError when no url is known or its scheme is not ws:// or wss://. The token comes
    from MPAC_COORDINATOR_TOKEN unless `token=` is passed.
    """
    env = os.environ if environ is None else environ
    url = (env.get(URL_VAR) or default_url or "").strip()
    if not url:
        raise ValueError(
            f"no coordinator url: set {URL_VAR} (ws://host:port/session/<id> or wss://...)"
        )
    if not url.startswith(("ws://", "wss://")):
        raise ValueError(f"{URL_VAR} must start with ws:// or wss:// (got {url!r})")
    kw.setdefault("token", env.get(TOKEN_VAR) or None)
    if kw.get("ssl_context") is None:
        kw["ssl_context"] = ssl_context_for(url, cafile, env)
    return SessionClient(url, principal_id, **kw)
