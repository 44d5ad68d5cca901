"""The constants every part of mpac-bridge shares: the protocol and versions we speak, our
extension namespace, and the WebSocket close codes the sidecar uses. Pure: no imports beyond the
standard library, so the lightest tools (editor hooks) can use it."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from bridge.protocol.closecodes import CloseCode as CloseCode

PROTOCOL = "MPAC"
PROTOCOL_VERSION = "0.1.15"  # what we send
ACCEPTED_VERSIONS: frozenset[str] = frozenset({"0.1.13", "0.1.14", "0.1.15"})  # what we read (D1)

# Our extension namespace: `extensions["mpac-bridge"]` in envelopes and payloads carries what the
# spec has no field for (compact state, presence, worktrees, claim decisions, ...).
EXT = "mpac-bridge"


def __getattr__(name: str) -> object:
    """`CloseCode` is defined in bridge.protocol.closecodes and loaded on first use: it is an
    IntEnum, and `enum` is among what a Claude Code hook's start does without (issue 17)."""
    if name == "CloseCode":
        from bridge.protocol.closecodes import CloseCode as CloseCode

        return CloseCode
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
