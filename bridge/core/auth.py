"""Credential verification verdicts (the verifier itself is injected by the transport)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: bool
    reason: str = ""
    roles: tuple[str, ...] | None = None  # roles to grant; None = decide by policy
    principal_id: str | None = None  # when the credential names the principal, it must match

    @classmethod
    def reject(cls, reason: str) -> Verdict:
        return cls(False, reason)

    def to_json(self) -> dict[str, Any]:
        """The verdict as the sidecar journals it with the HELLO it decided (replay decides the same)."""
        roles = list(self.roles) if self.roles is not None else None
        return {
            "accepted": self.accepted,
            "reason": self.reason,
            "roles": roles,
            "principal_id": self.principal_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        roles = data.get("roles")
        return cls(
            bool(data["accepted"]),
            str(data.get("reason") or ""),
            tuple(roles) if roles is not None else None,
            data.get("principal_id"),
        )


CredentialVerifier = Callable[[dict[str, Any] | None, str], Verdict]
