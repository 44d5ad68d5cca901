"""Following a repository's sidecar that moved: the one loop the dashboard and the language server share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.client.client import SessionClient

log = logging.getLogger("mpac.client")
FIRST_DELAY, MAX_DELAY = 0.5, 10.0


async def follow_sidecar(
    client: SessionClient,
    ensure: Callable[[], str],
    *,
    on_moved: Callable[[str], object] | None = None,
    on_error: Callable[[Exception], object] | None = None,
) -> None:
    """While `client` is reconnecting, make sure the repository has a sidecar and point the client
    at its current url (a restarted sidecar listens on a new port).

    `ensure` is blocking (it runs in a thread): it starts the sidecar if none runs and returns its
    url. `on_moved(url)` is called when the url changed, `on_error(exc)` when `ensure` failed (the
    loop keeps trying). Attempts are 0.5 s apart, doubling up to 10 s; the loop returns as soon as
    the client is connected again, closed, or given up."""
    delay = FIRST_DELAY
    while client.state == "reconnecting":
        try:
            url = await asyncio.to_thread(ensure)
        except Exception as exc:  # the sidecar cannot start now: say so, keep trying
            log.warning("the repository's sidecar is not available: %s", exc)
            if on_error is not None:
                on_error(exc)
        else:
            if url and url != client.url:
                log.info("the repository's sidecar is now at %s", url)
                client.url = url
                if on_moved is not None:
                    on_moved(url)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.connected.wait(), delay)  # back sooner: stop at once
        delay = min(delay * 2, MAX_DELAY)
