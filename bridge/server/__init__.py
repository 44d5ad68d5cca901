"""The sidecar: the MPAC coordinator served over WebSocket."""
