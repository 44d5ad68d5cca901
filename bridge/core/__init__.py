"""The pure MPAC coordinator core."""
