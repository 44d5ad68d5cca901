"""The stdio transport, with an answer for every request line the MCP library cannot read.

The library validates each line with a strict JSON parser; a line it refuses (not JSON, or JSON
holding an escape such as `"\\udcff"` that is legal JSON but no Unicode text) is dropped without a
word, and the client waits for ever. Here such a line gets an answer: a tool error for a
`tools/call` (the agent sees which argument is wrong), a JSON-RPC error for anything else."""

from __future__ import annotations

import json
import logging
from types import TracebackType
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import ErrorData, JSONRPCError, JSONRPCResponse

from bridge.mcp.limits import surrogate_message
from bridge.mcp.lowlevel import lowlevel

log = logging.getLogger("mpac.mcp")
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602


def _unpaired(value: Any, where: str) -> tuple[str, str] | None:
    """(where, the character) of the first string (or key) holding an unpaired surrogate."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return where, value[exc.start]
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if (hit := _unpaired(item, f"{where}[{i}]")) is not None:
                return hit
    elif isinstance(value, dict):
        for key, item in value.items():
            if (
                hit := _unpaired(key, f"{where} (a key)") or _unpaired(item, f"{where}.{key}")
            ) is not None:
                return hit
    return None


def answer(line: str) -> dict[str, Any] | None:
    """The JSON-RPC answer to a line the library refused, or None for a notification (which gets
    no answer by definition)."""
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError):
        return {"id": None, "error": (PARSE_ERROR, "Parse error: the line is not a JSON object")}
    if not isinstance(msg, dict):
        return {
            "id": None,
            "error": (INVALID_REQUEST, "Invalid Request: expected a JSON-RPC object"),
        }
    if "id" not in msg:
        return None  # a notification: JSON-RPC never answers one
    rid = msg.get("id")
    hit = _unpaired(msg, "")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or _unpaired(rid, "id") is not None:
        rid = None
    if hit is None:
        return {
            "id": rid,
            "error": (INVALID_REQUEST, "Invalid Request: not a valid JSON-RPC 2.0 request"),
        }
    where, char = hit[0].lstrip("."), hit[1]
    params = msg.get("params")
    if (
        msg.get("method") == "tools/call"
        and where.startswith("params.arguments.")
        and isinstance(params, dict)
    ):
        text = surrogate_message(
            str(params.get("name")), where.removeprefix("params.arguments."), char
        )
        return {"id": rid, "result": {"content": [{"type": "text", "text": text}], "isError": True}}
    code = INVALID_PARAMS if where.startswith("params") else INVALID_REQUEST
    label = "Invalid params" if code == INVALID_PARAMS else "Invalid Request"
    return {
        "id": rid,
        "error": (
            code,
            f"{label}: {where} holds an unpaired UTF-16 surrogate ({char!r}), which is not text",
        ),
    }


def _message(reply: dict[str, Any]) -> SessionMessage:
    if "result" in reply:
        return SessionMessage(
            JSONRPCResponse(jsonrpc="2.0", id=reply["id"], result=reply["result"])
        )
    code, text = reply["error"]
    return SessionMessage(
        JSONRPCError(jsonrpc="2.0", id=reply["id"], error=ErrorData(code=code, message=text))
    )


def _refused_line(exc: Exception) -> str | None:
    """The raw line behind the transport's validation error, when it carries one."""
    errors = getattr(exc, "errors", None)
    try:
        first = errors()[0] if callable(errors) else None
    except Exception:
        return None
    value = first.get("input") if isinstance(first, dict) else None
    return value if isinstance(value, str) else None


class AnsweringReadStream:
    """The transport's read stream, minus the lines it could not read: those are answered on the
    write stream here and never reach the server (which would only log them)."""

    def __init__(self, inner: Any, write: Any) -> None:
        self._inner = inner
        self._write = write

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        while True:
            item = await self._inner.receive()
            if not isinstance(item, Exception):
                return item
            line = _refused_line(item)
            if line is None:
                return item
            reply = answer(line)
            log.warning(
                "refused an unreadable MCP line (%s): %s",
                type(item).__name__,
                (reply or {}).get("error") or "a tool error",
            )
            if reply is not None:
                await self._write.send(_message(reply))

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> AnsweringReadStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def __aenter__(self) -> AnsweringReadStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def serve_stdio(server: MCPServer) -> None:
    """MCPServer.run_stdio_async, with the unreadable lines answered."""
    low = lowlevel(server)
    async with stdio_server() as (read_stream, write_stream):
        await low.run(
            AnsweringReadStream(read_stream, write_stream),
            write_stream,
            low.create_initialization_options(),
        )
