"""The token table of the authenticated profile: `{token: {"allowed_sessions": [...], "roles": [...]}}`."""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.core import Verdict


class TokenTableError(ValueError):
    """The token table cannot be used; the message says why."""


@dataclass(frozen=True)
class Grant:
    token: str
    allowed_sessions: tuple[str, ...]
    roles: tuple[str, ...]
    principal_id: str | None = None

    def allows(self, session_id: str) -> bool:
        return "*" in self.allowed_sessions or session_id in self.allowed_sessions


class TokenTable:
    def __init__(self, grants: list[Grant]) -> None:
        self.grants = grants

    @classmethod
    def parse(cls, data: Any) -> TokenTable:
        if not isinstance(data, dict) or not data:
            raise TokenTableError(
                "the token table must be a non-empty JSON object {token: {allowed_sessions, roles}}"
            )
        grants = []
        for token, entry in data.items():
            if not isinstance(token, str) or len(token) < 8:
                raise TokenTableError("every token must be a string of at least 8 characters")
            if not isinstance(entry, dict):
                raise TokenTableError(f"the entry of token {token[:4]}… must be an object")
            sessions = entry.get("allowed_sessions", [])
            roles = entry.get("roles", ["contributor"])
            if not isinstance(sessions, list) or not all(isinstance(s, str) for s in sessions):
                raise TokenTableError(
                    f'allowed_sessions of token {token[:4]}… must be a list of session ids or "*"'
                )
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                raise TokenTableError(f"roles of token {token[:4]}… must be a list of role names")
            pid = entry.get("principal_id")
            grants.append(
                Grant(token, tuple(sessions), tuple(roles), pid if isinstance(pid, str) else None)
            )
        return cls(grants)

    @classmethod
    def load(cls, path: str | None = None, env: str | None = None) -> TokenTable | None:
        """From `--token-table FILE`, else from the MPAC_TOKEN_TABLE environment variable."""
        text = None
        if path:
            try:
                text = Path(path).read_text()
            except OSError as exc:
                raise TokenTableError(f"cannot read token table {path}: {exc.strerror}") from None
        elif env is not None or os.environ.get("MPAC_TOKEN_TABLE"):
            text = env if env is not None else os.environ["MPAC_TOKEN_TABLE"]
        if text is None:
            return None
        try:
            return cls.parse(json.loads(text))
        except json.JSONDecodeError as exc:
            raise TokenTableError(f"the token table is not valid JSON: {exc.msg}") from None

    def find(self, token: str | None) -> Grant | None:
        """Constant-time comparison against every token (no early exit on a match)."""
        found = None
        if not token:
            return None
        given = token.encode()
        for grant in self.grants:
            if hmac.compare_digest(given, grant.token.encode()):
                found = grant
        return found

    def verdict(self, token: str | None, session_id: str) -> Verdict:
        grant = self.find(token)
        if grant is None:
            return Verdict.reject("unknown or missing bearer token")
        if not grant.allows(session_id):
            return Verdict.reject(f"this token is not allowed in session {session_id!r}")
        return Verdict(True, "", grant.roles, grant.principal_id)
