"""The workspace: git repository detection, safe paths, state refs and compare-and-swap writes on
disk, the per-repository sidecar runtime file and `ensure_sidecar()`."""

from bridge.workspace.ensure import SidecarStartError, ensure_sidecar
from bridge.workspace.paths import PathRefused, check_path_text, resolve_in_repo, resolve_many
from bridge.workspace.repo import NotARepository, Repo, find_repo
from bridge.workspace.runtime import (
    RuntimeInfo,
    is_alive,
    live_runtime,
    log_path,
    read_runtime,
    remove_runtime_if_owned,
    runtime_path,
    write_runtime,
)
from bridge.workspace.state import (
    ABSENT_STATE_REF,
    FileState,
    StaleWrite,
    file_lock,
    file_lock_async,
    make_state_ref_lookup,
    read_file_state,
    state_ref_of,
    state_ref_of_bytes,
    write_if_matches,
)

__all__ = [
    "ABSENT_STATE_REF",
    "FileState",
    "NotARepository",
    "PathRefused",
    "Repo",
    "RuntimeInfo",
    "SidecarStartError",
    "StaleWrite",
    "check_path_text",
    "ensure_sidecar",
    "file_lock",
    "file_lock_async",
    "find_repo",
    "is_alive",
    "live_runtime",
    "log_path",
    "make_state_ref_lookup",
    "read_file_state",
    "read_runtime",
    "remove_runtime_if_owned",
    "resolve_in_repo",
    "resolve_many",
    "runtime_path",
    "state_ref_of",
    "state_ref_of_bytes",
    "write_if_matches",
    "write_runtime",
]
