"""A scripted editor for end-to-end tests: pytest-lsp's LanguageClient driving the real
`mpac-bridge lsp` process, with an event set on every notification so that tests wait on what the
server sends (never on time)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

WAIT = 20.0
SESSION = "lsp-test"  # the session of the end-to-end fixtures (conftest.py)
FILES = {"src/app.py": "print('app')\n", "src/util.py": "X = 1\n"}
ME = "human:ann@editor"


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository with `files` committed (and `.gitignore` ignoring `*.log`)."""
    root.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env)
    for rel, text in {".gitignore": "*.log\n", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True, env=env)
    return Path(os.path.realpath(root))


def plain(value: Any) -> Any:
    """Params of a method pygls has no type for arrive as named tuples: back to dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def wait_until(
    event: asyncio.Event, condition: Callable[[], Any], timeout: float = WAIT
) -> bool:
    """Wait until `condition()` holds, re-checking each time `event` is set (by whoever receives
    the next message); False when `timeout` seconds pass first."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        event.clear()
        if condition():
            return True
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            return bool(condition())


class Editor:
    """One editor session against the language server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.event = asyncio.Event()
        self.publishes: list[
            tuple[float, types.PublishDiagnosticsParams]
        ] = []  # (perf_counter, params)
        self.registrations: list[types.Registration] = []
        self.client = self._make_client()
        self.versions: dict[str, int] = {}
        self.statuses: list[Any] = []  # mpac/status notifications, in order

    def _make_client(self) -> LanguageClient:
        client = LanguageClient(converter_factory=default_converter)
        wrapped = {
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
            types.WINDOW_LOG_MESSAGE,
            types.WINDOW_SHOW_MESSAGE,
        }
        for method, func in DEFAULT_CLIENT_FEATURES.items():
            if method in wrapped:
                client.feature(method)(self._notify(func))
            else:
                client.feature(method)(func)

        # the client's converter reads a CodeAction in `(Command | CodeAction)[]` as a Command (it
        # coerces the nested command object to a string): take code-action results raw and structure
        # them here instead
        typed = client.protocol.get_result_type
        client.protocol.get_result_type = lambda m: (
            None if m == types.TEXT_DOCUMENT_CODE_ACTION else typed(m)
        )  # type: ignore[method-assign]

        @client.feature("mpac/status")
        def status(_client: LanguageClient, params: Any) -> None:
            self.statuses.append(plain(params))
            self.event.set()

        @client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(_client: LanguageClient, params: types.RegistrationParams) -> None:
            self.registrations.extend(params.registrations)
            self.event.set()

        return client

    def _notify(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def handler(client: LanguageClient, params: Any) -> Any:
            out = func(client, params)
            if isinstance(params, types.PublishDiagnosticsParams):
                self.publishes.append((time.perf_counter(), params))
            self.event.set()
            return out

        return handler

    async def start(
        self,
        options: dict[str, Any] | None = None,
        caps: str = "neovim",
        env: dict[str, str] | None = None,
        experimental: dict[str, Any] | None = None,
    ) -> None:
        cfg = ClientServerConfig(
            server_command=[sys.executable, "-m", "bridge", "lsp"],
            server_env={**os.environ, "MPAC_USER": "ann", **(env or {})},
        )
        await self.client.start_io(*cfg.get_server_command(), env=cfg.server_env)
        capabilities = client_capabilities(caps)
        if experimental is not None:
            capabilities.experimental = experimental
        await self.client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=self.root.as_uri(),
                workspace_folders=[
                    types.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)
                ],
                initialization_options=options or {},
            )
        )

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_session(), WAIT)
        finally:
            await self.client.stop()

    async def until(self, condition: Callable[[], bool], timeout: float = WAIT) -> bool:
        """Wait until `condition()` holds, re-checking after every notification from the server."""
        return await wait_until(self.event, condition, timeout)

    async def joined(self) -> bool:
        return await self.until(
            lambda: any("joined session" in m.message for m in self.client.log_messages)
        )

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def diags(self, rel: str) -> list[types.Diagnostic]:
        return list(self.client.diagnostics.get(self.uri(rel), ()))

    def codes(self, rel: str) -> list[str]:
        return [str(d.code) for d in self.diags(rel)]

    def open(self, rel: str) -> str:
        uri = self.uri(rel)
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=(self.root / rel).read_text()
                )
            )
        )
        return uri

    def edit(self, rel: str, text: str) -> None:
        uri = self.uri(rel)
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def save(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(text)
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri(rel))
            )
        )

    async def actions(self, rel: str) -> list[types.CodeAction]:
        rng = types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
        )
        out = await self.client.protocol.send_request_async(
            types.TEXT_DOCUMENT_CODE_ACTION,
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri(rel)),
                range=rng,
                context=types.CodeActionContext(diagnostics=self.diags(rel)),
            ),
        )
        conv = self.client.protocol._converter
        return [
            conv.structure(a, types.CodeAction)
            for a in out or []
            if isinstance(a, dict) and "title" in a and "kind" in a
        ]

    async def run(self, action: types.CodeAction) -> Any:
        assert action.command is not None
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=action.command.command, arguments=action.command.arguments
            )
        )
