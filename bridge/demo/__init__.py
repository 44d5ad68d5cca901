"""The README demo: simulated agents on a scratch repository."""
