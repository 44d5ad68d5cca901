"""The TLS context for wss:// coordinators: verifying, trusting `cafile`, else SSL_CERT_FILE, else
the system store."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping


def ssl_context_for(
    url: str, cafile: str | None = None, environ: Mapping[str, str] | None = None
) -> ssl.SSLContext | None:
    """A verifying TLS context for wss:// urls (None for ws://)."""
    if not url.startswith("wss://"):
        return None
    env = os.environ if environ is None else environ
    return ssl.create_default_context(cafile=cafile or env.get("SSL_CERT_FILE") or None)
