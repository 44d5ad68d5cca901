"""What the two parsed-message types (the sidecar's `WireMessage`, the pydantic `ParsedMessage`)
share: the envelope's identity fields, the Lamport value and checked payload access."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from bridge.protocol.stamps import lamport_of

T = TypeVar("T")


class _Sender(Protocol):
    @property
    def principal_id(self) -> str: ...
    @property
    def sender_instance_id(self) -> str: ...


class _Envelope(Protocol):
    """What both envelope types (pydantic and msgspec) have."""

    @property
    def message_type(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def sender(self) -> _Sender: ...


class EnvelopeFields:
    """Read-only views of `self.envelope` and `self.raw`; the subclass provides both."""

    __slots__ = ()
    envelope: _Envelope
    raw: dict[str, Any]
    payload: Any

    def payload_as(self, kind: type[T]) -> T:
        """The payload as the type its message type was validated against (each handler names the
        type it expects; a mismatch is a dispatch bug, never a sender's mistake)."""
        payload = self.payload
        if not isinstance(payload, kind):
            raise TypeError(
                f"{self.envelope.message_type} carries {type(payload).__name__}, not {kind.__name__}"
            )
        return payload

    @property
    def message_id(self) -> str:
        return self.envelope.message_id

    @property
    def sender_id(self) -> str:
        return self.envelope.sender.principal_id

    @property
    def sender_instance_id(self) -> str:
        return self.envelope.sender.sender_instance_id

    @property
    def session_id(self) -> str:
        return self.envelope.session_id

    @property
    def lamport(self) -> int | None:
        return lamport_of(self.raw.get("watermark"))
