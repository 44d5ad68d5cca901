"""The sidecar's event loop: uvloop when it is installed (`pip install 'mpac-bridge[fast]'`), else
asyncio's own. MPAC_EVENT_LOOP chooses explicitly: `asyncio`, `uvloop` (an error when it is not
installed) or `auto` (the default). docs/performance.md ("Issue 17: start-up") has the
measurements behind the choice."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping

VAR = "MPAC_EVENT_LOOP"
CHOICES = ("auto", "asyncio", "uvloop")


def choose(
    environ: Mapping[str, str] | None = None,
) -> tuple[str, Callable[[], asyncio.AbstractEventLoop] | None]:
    """(the loop's name, the factory for asyncio.Runner; None for asyncio's default loop).
    Raises ValueError for an unknown choice, or `uvloop` asked for but not installed."""
    env = os.environ if environ is None else environ
    choice = (env.get(VAR) or "auto").strip().lower()
    if choice not in CHOICES:
        raise ValueError(f"{VAR} must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "asyncio":
        return "asyncio", None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ValueError(
                f"{VAR}=uvloop, but uvloop is not installed (pip install 'mpac-bridge[fast]')"
            ) from None
        return "asyncio", None
    return "uvloop", uvloop.new_event_loop
