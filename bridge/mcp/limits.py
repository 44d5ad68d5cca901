"""What an agent may send through the tools, checked before a tool runs: every string is valid
Unicode, each argument fits its limit, and what a tool would send to the coordinator fits in one
MPAC frame. A refusal is a tool error that names the argument, its size and the limit, so the
agent can fix the call instead of waiting for a timeout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

TEXT_BYTES = 16 * 1024  # objective, reason, rationale, context, justification, symbols, ...
ID_BYTES = 256  # intent_id, conflict_id, state_ref_before, ...
CONTENT_BYTES = 1 << 20  # submit_change content: the new file, written by the MCP server itself
ENVELOPE_ALLOWANCE = 16 * 1024  # the envelope, ids and JSON punctuation around the arguments

# Arguments that are not sent to the coordinator (content is written to disk; only its hash travels).
LOCAL_ONLY = frozenset({"content", "repo_path", "include_content", "timeout_sec"})
# Paths are checked by bridge.workspace (length, names, surrogates, confinement); here only their share of the frame.
PATHS = frozenset({"path", "target", "repo_path", "files"})
IDS = frozenset(
    {"state_ref_before", "escalate_to", "original_principal_id", "decision", "ack_type"}
)


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in an argument (keys too), with where it sits: `files[3]`, `outcome.accepted[0]`."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, f"{where} (a key)")
            yield from _strings(item, f"{where}.{key}")


def surrogate_message(tool: str, where: str, char: str) -> str:
    """The tool error for a string holding an unpaired UTF-16 surrogate (legal as a JSON escape,
    but no Unicode text: it cannot be written to disk, hashed as UTF-8 or sent to the coordinator)."""
    name = where.split("[", 1)[0].split(".", 1)[0].split(" ", 1)[0]
    hint = (
        "a file whose name is not valid UTF-8 cannot be used through the bridge"
        if name in PATHS
        else "file content must be UTF-8 text"
        if name == "content"
        else "use valid Unicode text"
    )
    return (
        f"{tool}: {where} holds an unpaired UTF-16 surrogate ({char!r}), which is not text; {hint}."
    )


def _limit(name: str) -> int | None:
    if name == "content":
        return CONTENT_BYTES
    if name in PATHS:
        return None
    if name in IDS or name.endswith(("_id", "_ids")):
        return ID_BYTES
    return TEXT_BYTES


def _size(n: int) -> str:
    return f"{n:,} bytes" + (f" ({n / (1 << 20):.1f} MiB)" if n >= 1 << 20 else "")


def check_arguments(
    tool: str, arguments: dict[str, Any], frame_limit: int | None = None
) -> str | None:
    """None when the call may run; otherwise the tool error text saying what is wrong.
    `frame_limit`: the coordinator's frame limit (default the protocol's)."""
    if frame_limit is None:
        # here, not at the top: the protocol parser costs the MCP server's start-up (issue 17)
        from bridge.protocol.frames import MAX_FRAME_BYTES

        frame_limit = MAX_FRAME_BYTES
    sent = ENVELOPE_ALLOWANCE
    for name, value in arguments.items():
        limit = _limit(name)
        for where, text in _strings(value, name):
            try:
                encoded = len(text.encode("utf-8"))
            except UnicodeEncodeError as exc:
                return surrogate_message(tool, where, text[exc.start])
            if limit is not None and encoded > limit:
                hint = (
                    "edit the file on disk and call submit_change without content"
                    if name == "content"
                    else "shorten it"
                )
                return f"{tool}: {where} is {_size(encoded)}; the limit is {_size(limit)}: {hint}."
            if name not in LOCAL_ONLY:
                sent += encoded + 8  # quotes, comma, escapes of a typical path or sentence
    if sent > frame_limit:
        return (
            f"{tool}: this call would send about {_size(sent)} to the coordinator, which accepts at most "
            f"{_size(frame_limit)} per message (--max-frame-bytes). Split it: fewer files per task, "
            "shorter text."
        )
    return None
