"""mpac-bridge: MPAC v0.1.15 coordination for coding agents and humans sharing a git repository."""

__version__ = "0.1.0"
