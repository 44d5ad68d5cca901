"""The workspace: repository detection, files and state refs on disk, and the per-repository
sidecar runtime file."""

from bridge.workspace.files import (
    ABSENT_STATE_REF,
    FileState,
    PathRefused,
    StaleWrite,
    read_file_state,
    resolve_in_repo,
    state_ref_of,
    state_ref_of_bytes,
    write_if_matches,
    write_lock,
)
from bridge.workspace.repo import NotARepository, Repo, find_repo
from bridge.workspace.runtime import RuntimeInfo, ensure_sidecar, live_runtime, read_runtime

__all__ = [
    "ABSENT_STATE_REF",
    "FileState",
    "NotARepository",
    "PathRefused",
    "Repo",
    "RuntimeInfo",
    "StaleWrite",
    "ensure_sidecar",
    "find_repo",
    "live_runtime",
    "read_file_state",
    "read_runtime",
    "resolve_in_repo",
    "state_ref_of",
    "state_ref_of_bytes",
    "write_if_matches",
    "write_lock",
]
