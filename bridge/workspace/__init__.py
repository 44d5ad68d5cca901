"""The workspace: git repository detection, safe paths, state refs and compare-and-swap writes on
disk, the per-repository sidecar runtime file and `ensure_sidecar()`."""

from __future__ import annotations

from bridge.lazy import exports

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)

if TYPE_CHECKING:
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

# Exports load on first use, so a hook importing `bridge.workspace.repo` does not pay for asyncio
# (state) or the sidecar launcher (ensure).
_EXPORTS = {
    "SidecarStartError": "ensure",
    "ensure_sidecar": "ensure",
    "PathRefused": "paths",
    "check_path_text": "paths",
    "resolve_in_repo": "paths",
    "resolve_many": "paths",
    "NotARepository": "repo",
    "Repo": "repo",
    "find_repo": "repo",
    "RuntimeInfo": "runtime",
    "is_alive": "runtime",
    "live_runtime": "runtime",
    "log_path": "runtime",
    "read_runtime": "runtime",
    "remove_runtime_if_owned": "runtime",
    "runtime_path": "runtime",
    "write_runtime": "runtime",
    "ABSENT_STATE_REF": "state",
    "FileState": "state",
    "StaleWrite": "state",
    "file_lock": "state",
    "file_lock_async": "state",
    "make_state_ref_lookup": "state",
    "read_file_state": "state",
    "state_ref_of": "state",
    "state_ref_of_bytes": "state",
    "write_if_matches": "state",
}
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


__getattr__ = exports("bridge.workspace", _EXPORTS, globals())
