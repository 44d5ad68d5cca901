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


CredentialVerifier = Callable[[dict[str, Any] | None, str], Verdict]
