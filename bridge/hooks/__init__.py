"""Guards for agents: Claude Code hooks and the git pre-commit guard."""
