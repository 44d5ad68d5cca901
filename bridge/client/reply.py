"""What a request gets back: the coordinator's answer, or the reason there is none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.protocol.constants import EXT


@dataclass
class Reply:
    """The coordinator's answer to one request. `ok` is false for a refusal (PROTOCOL_ERROR or
    OP_REJECT, `error_code` from it) and for what the client itself could not do (TIMEOUT,
    NOT_CONNECTED, CONNECTION_LOST, CLOSED, or a request refused before sending)."""

    ok: bool
    message: dict[str, Any] | None = None
    error_code: str | None = None
    description: str = ""
    request_id: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        payload = (self.message or {}).get("payload")
        return payload if isinstance(payload, dict) else {}

    @property
    def extensions(self) -> dict[str, Any]:
        ext = self.payload.get("extensions") or {}
        return ext.get(EXT, ext) if isinstance(ext, dict) else {}

    @property
    def holders(self) -> list[dict[str, Any]]:
        """On a STALE_INTENT refusal: who holds the files (principal_id, intent_id, objective, files)."""
        held = self.extensions.get("holders")
        return [h for h in held if isinstance(h, dict)] if isinstance(held, list) else []

    @property
    def failure(self) -> str:
        """`CODE: description` of a refusal ('' when ok)."""
        return "" if self.ok else f"{self.error_code}: {self.description}"


@dataclass
class ClaimReply(Reply):
    """The answer to an INTENT_CLAIM. `decision` is "approved", "rejected" or "withdrawn" once the
    coordinator decided, "pending" while an approval or the owner's grace period is awaited, and
    "" when the claim was refused before any decision (or never sent)."""

    claim_id: str = ""
    new_intent_id: str = ""
    decision: str = ""
    original_principal_id: str = ""  # whose intent the claim takes over

    @property
    def pending(self) -> bool:
        return self.decision == "pending"
