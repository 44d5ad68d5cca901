"""How front-ends write names and durations (light: no imports, usable from quick commands)."""

from __future__ import annotations


def short(principal_id: str) -> str:
    """`agent:alice` -> `alice` (the kind is shown elsewhere)."""
    return principal_id.split(":", 1)[1] if ":" in principal_id else principal_id


def duration(seconds: float | None) -> str:
    """A short human duration: 45s, 4m05s, 2h03m; '-' when unknown."""
    if seconds is None:
        return "-"
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
