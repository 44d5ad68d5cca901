"""The LSP handlers: thin wrappers that hand each request or notification to MpacServer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from lsprotocol import types

from lsp.actions import ACK, CLAIM, RELEASE, SHOW_WHO
from lsp.server import CommandFailed, MpacServer
from lsp.status import STATUS_COMMAND

log = logging.getLogger("mpac.lsp")


DOCUMENT_EVENTS: dict[str, Callable[[MpacServer, str], None]] = {
    types.TEXT_DOCUMENT_DID_OPEN: MpacServer.opened,
    types.TEXT_DOCUMENT_DID_CHANGE: MpacServer.changed,
    types.TEXT_DOCUMENT_DID_SAVE: MpacServer.saved,
    types.TEXT_DOCUMENT_DID_CLOSE: MpacServer.closed,
}


def _on_document(handle: Callable[[MpacServer, str], None]) -> Callable[[MpacServer, Any], None]:
    def notified(ls: MpacServer, params: Any) -> None:
        handle(ls, params.text_document.uri)

    return notified


def build_server(env: Mapping[str, str] | None = None) -> MpacServer:
    """A fresh server with every feature registered."""
    server = MpacServer(env)

    @server.feature(types.INITIALIZE)
    def initialize(ls: MpacServer, params: types.InitializeParams) -> None:
        ls.init_options = params.initialization_options

    @server.feature(types.INITIALIZED)
    def initialized(ls: MpacServer, params: types.InitializedParams) -> None:
        ls.start_session()

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: MpacServer, params: Any) -> None:
        await ls.stop_session()

    @server.feature(types.EXIT)
    def exit_(ls: MpacServer, params: Any) -> None:
        ls.exiting = True

    # document notifications: each hands the document's uri to one MpacServer method
    for method, handle in DOCUMENT_EVENTS.items():
        server.feature(method)(_on_document(handle))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched(ls: MpacServer, params: types.DidChangeWatchedFilesParams) -> None:
        await ls.on_client_file_events(list(params.changes))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Empty]
        ),
    )
    def code_action(ls: MpacServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return ls.code_actions(params.text_document.uri, list(params.context.diagnostics))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: MpacServer, params: types.HoverParams) -> types.Hover | None:
        return ls.hover(params.text_document.uri, params.position)

    async def guarded(ls: MpacServer, work: Any) -> dict[str, Any]:
        try:
            result = await work
        except CommandFailed as exc:
            ls.show(types.MessageType.Error, f"mpac-bridge: {exc}")
            return {"ok": False, "message": str(exc)}
        if result.get("message") and not result.get("shown"):
            log.info("%s", result["message"])
        return result

    @server.command(CLAIM)
    async def claim(ls: MpacServer, uri: str) -> dict[str, Any]:
        return await guarded(ls, ls.claim(uri))

    @server.command(RELEASE)
    async def release(ls: MpacServer, uri: str) -> dict[str, Any]:
        return await guarded(ls, ls.release(uri))

    @server.command(ACK)
    async def acknowledge(ls: MpacServer, conflict_id: str) -> dict[str, Any]:
        return await guarded(ls, ls.acknowledge(conflict_id))

    @server.command(SHOW_WHO)
    async def show_who(ls: MpacServer, uri: str, *options: Any) -> dict[str, Any]:
        # optional second argument {"show": false}: return the text without window/showMessage
        # (an editor that presents it itself, like the VS Code extension)
        show = not (options and isinstance(options[0], dict) and options[0].get("show") is False)

        async def run() -> dict[str, Any]:
            return ls.show_who(uri, show=show)

        return await guarded(ls, run())

    @server.command(STATUS_COMMAND)
    def status(ls: MpacServer) -> dict[str, Any]:
        return ls.status()

    return server
