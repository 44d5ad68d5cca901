"""MPAC v0.1.15 protocol library: pure, total parsing, no I/O."""
