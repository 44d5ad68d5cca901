"""The pure coordinator core: one inbound message at time `now` in, the messages to send out.

See docs/architecture.md ("The core contract") for the interface the transports rely on.
"""

from bridge.core.auth import CredentialVerifier, Verdict
from bridge.core.config import CoordinatorConfig
from bridge.core.coordinator import Coordinator
from bridge.core.outbound import HandleResult, Outbound, TickResult, To

__all__ = [
    "Coordinator",
    "CoordinatorConfig",
    "CredentialVerifier",
    "HandleResult",
    "Outbound",
    "TickResult",
    "To",
    "Verdict",
]
