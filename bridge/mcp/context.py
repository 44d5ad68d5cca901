"""ToolContext: the repository this server coordinates, and its lazily connected participant."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.client.scope import normalize_path
from bridge.identity import agent_principal
from bridge.remote import TOKEN_VAR, URL_VAR, remote_from_env
from bridge.workspace import (
    Repo,
    RuntimeInfo,
    check_path_text,
    ensure_sidecar,
    find_repo,
    resolve_many,
)
from bridge.workspace.worktrees import worktree_extension, worktree_id

if TYPE_CHECKING:
    from bridge.client import SessionClient

log = logging.getLogger("mpac.mcp")


class ToolFailure(Exception):
    """A tool cannot run; the message says what to do."""


def principal_from_env(client_name: str | None = None) -> str:
    return agent_principal(client_name)


def identity_is_explicit() -> bool:
    """True when the environment names the agent (then the MCP client's name is not used)."""
    return bool(os.environ.get("MPAC_PRINCIPAL_ID") or os.environ.get("MPAC_AGENT_NAME"))


@dataclass
class ToolContext:
    repo: Repo | None
    principal_id: str
    roles: list[str] = field(default_factory=lambda: ["contributor"])
    url: str | None = None  # remote mode
    token: str | None = None
    session_id: str | None = None
    client: SessionClient | None = None
    goodbye: str = "withdraw"
    explicit_identity: bool = True
    on_connect: list[Callable[[SessionClient], None]] = field(default_factory=list)
    remote_error: str | None = None  # MPAC_COORDINATOR_URL is set but unusable: every tool says why
    reconnect_wait_sec: float = 10.0  # how long a tool waits for a lost connection to come back
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def from_env(cls, workspace: Path | None = None) -> ToolContext:
        roles = [
            r.strip()
            for r in os.environ.get("MPAC_AGENT_ROLES", "contributor").split(",")
            if r.strip()
        ]
        url, session_id, remote_error = os.environ.get(URL_VAR) or None, None, None
        try:
            url, session_id = remote_from_env() or (None, None)
        except ValueError as exc:
            remote_error = str(exc)
        repo = None
        try:
            repo = find_repo(workspace or Path.cwd())
        except Exception as exc:
            if url is None:
                log.warning("no repository at %s: %s", workspace or Path.cwd(), exc)
        return cls(
            repo=repo,
            principal_id=principal_from_env(),
            roles=roles or ["contributor"],
            url=url,
            token=os.environ.get(TOKEN_VAR),
            session_id=session_id,
            remote_error=remote_error,
            goodbye=os.environ.get("MPAC_GOODBYE_DISPOSITION", "withdraw"),
            explicit_identity=identity_is_explicit(),
        )

    def adopt_client_name(self, name: str | None) -> None:
        """Use the MCP client's name (clientInfo) as identity, unless the environment named one
        or the participant already joined under another name."""
        if name and not self.explicit_identity and self.client is None:
            self.principal_id = principal_from_env(name)
            self.explicit_identity = True  # decided once

    @property
    def worktree(self) -> str | None:
        """This server's checkout as a worktree id (None: the main worktree, or no repository)."""
        return worktree_id(self.repo) if self.repo is not None else None

    def worktree_extension(self) -> dict | None:
        """`extensions` naming this checkout and its branch (docs/protocol.md "Worktrees")."""
        return worktree_extension(self.repo) if self.repo is not None else None

    def check_repo(self, repo_path: str | None) -> Repo:
        """The repository; a `repo_path` naming another repository is refused (one server, one repo)."""
        if self.repo is None:
            raise ToolFailure(
                "this MCP server is not inside a git repository; start it from your project (or pass --workspace)"
            )
        if repo_path:
            try:
                other = find_repo(repo_path)
            except Exception as exc:
                raise ToolFailure(f"{repo_path} is not a git repository ({exc})") from None
            if other.common_dir != self.repo.common_dir:
                raise ToolFailure(
                    f"this server coordinates {self.repo.root}; {repo_path} is another repository. "
                    "Configure a separate MCP server for it."
                )
        return self.repo

    def same_repository(self, repo_path: str | None) -> None:
        """Refuse a `repo_path` naming another repository than this server's (local mode; a remote
        coordinator's session has no repository to compare with)."""
        if self.url is None:
            self.check_repo(repo_path)

    async def resolve(self, files: list[str]) -> list[str]:
        """The repo-relative paths of `files`, refusing (PathRefused) anything outside the repository,
        in .git, ignored, not a regular file, or not a usable path. Off the event loop, with one git
        process for the whole list. In remote mode the paths are only checked and normalized."""
        if self.url is not None:
            return [normalize_path(check_path_text(f)) for f in files]
        repo = self.check_repo(None)
        return await asyncio.to_thread(resolve_many, repo, list(files))

    async def connected(self) -> SessionClient:
        """The joined client, connecting (and starting the repo's sidecar) on first use. In local
        mode a client stuck reconnecting to a sidecar that is gone follows the repository's new one."""
        if self.remote_error is not None:
            raise ToolFailure(self.remote_error)
        async with self._lock:
            client = self.client
            if client is not None and client.state != "closed":
                if client.ws is not None:
                    return client
                loop = asyncio.get_running_loop()
                deadline, step = loop.time() + self.reconnect_wait_sec, 0.25
                while client.ws is None and loop.time() < deadline:
                    if self.url is None and self.repo is not None:
                        # A sidecar killed a moment ago may still look alive (its listening socket
                        # closes after the connections), so ask again while waiting.
                        info = await self._ensure_sidecar(self.repo)
                        if info.url != client.url:  # the sidecar restarted on another port: join it
                            log.info("sidecar moved to %s; rejoining there", info.url)
                            with contextlib.suppress(Exception):
                                await client.abort()
                            self.client = None
                            return await self._join(info.url, info.session_id)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            client.connected.wait(), max(0.0, min(step, deadline - loop.time()))
                        )
                    step = min(step * 2, 2.0)
                if client.ws is None:
                    raise ToolFailure(
                        f"lost the coordinator at {client.url} and could not reconnect within "
                        f"{self.reconnect_wait_sec:g} s; try again"
                    )
                return client
            url, session_id = self.url, self.session_id
            if url is None:
                if self.repo is None:
                    raise ToolFailure(
                        "no repository and no MPAC_COORDINATOR_URL: nothing to coordinate"
                    )
                info = await self._ensure_sidecar(self.repo)
                url, session_id = info.url, info.session_id
            return await self._join(url, session_id)

    @staticmethod
    async def _ensure_sidecar(repo: Repo) -> RuntimeInfo:
        """The repository's running sidecar, started if needed (in a thread: it may wait for it)."""
        try:
            return await asyncio.to_thread(ensure_sidecar, repo)
        except Exception as exc:
            raise ToolFailure(f"cannot start the repository's sidecar: {exc}") from None

    async def _join(self, url: str, session_id: str | None) -> SessionClient:
        # here, not at the top: the client (websockets, the protocol models) is not needed to
        # answer `initialize`, and the MCP server's start-up is an agent's wait (issue 17)
        from bridge.client import SessionClient

        client = SessionClient(
            url, self.principal_id, session_id=session_id, roles=self.roles, token=self.token
        )
        try:
            await client.connect()
        except Exception as exc:
            raise ToolFailure(f"cannot join the coordinator at {url}: {exc}") from None
        self.client = client
        for hook in list(self.on_connect):
            try:
                hook(client)
            except Exception:
                log.exception("on_connect hook failed")
        return client

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close(disposition=self.goodbye)
