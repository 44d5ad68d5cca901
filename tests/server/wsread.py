"""Reading a raw WebSocket in the server tests: the next JSON frame, or the next of a type."""

from __future__ import annotations

import asyncio
import json


async def recv_json(ws, timeout: float = 10.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def until(ws, mtype: str) -> dict:
    """The next frame of `mtype`, skipping the others (each read bounded by recv_json's timeout)."""
    while True:
        m = await recv_json(ws)
        if m["message_type"] == mtype:
            return m
