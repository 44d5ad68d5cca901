"""The sidecar: the coordinator on a WebSocket server, with admission, binding, limits and TLS."""
