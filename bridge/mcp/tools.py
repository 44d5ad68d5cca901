"""The tools, as plain async functions of a ToolContext, gathered in TOOLS. Each function's
signature is the tool's one declaration (its parameters, with `bridge.mcp.params` descriptions,
become the input schema; its docstring is the description agents read); `bridge.mcp.server` only
registers the functions in TOOLS, lazily, and calls them by keyword. Tests call them directly
against a real sidecar.

The tools live by idea: `reading` (who_is_working, check_overlap, get_file_state, list_my_tasks),
`tasks` (begin, update, yield, defer, wait for files, take over), `conflicts` (ack, escalate,
resolve) and `submit` (submit_change, with its merge and settling); `results` builds their results
from the client's records. Everything read comes from the client's typed Session and everything
sent goes through the client's request helpers: no tool builds a protocol message or reads the
view as dicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.mcp.conflicts import ack_conflict, escalate_conflict, resolve_conflict
from bridge.mcp.reading import check_overlap, get_file_state, list_my_tasks, who_is_working
from bridge.mcp.submit import submit_change
from bridge.mcp.tasks import (
    DEFAULT_TTL_SEC,
    begin_task,
    defer_task,
    take_over_task,
    update_task,
    wait_for_files,
    yield_task,
)

__all__ = [
    "DEFAULT_TTL_SEC",
    "TOOLS",
    "ack_conflict",
    "begin_task",
    "check_overlap",
    "defer_task",
    "escalate_conflict",
    "get_file_state",
    "list_my_tasks",
    "resolve_conflict",
    "submit_change",
    "take_over_task",
    "update_task",
    "wait_for_files",
    "who_is_working",
    "yield_task",
]

TOOLS: tuple[Callable[..., Any], ...] = (
    who_is_working,
    begin_task,
    check_overlap,
    get_file_state,
    submit_change,
    yield_task,
    update_task,
    defer_task,
    list_my_tasks,
    wait_for_files,
    ack_conflict,
    escalate_conflict,
    resolve_conflict,
    take_over_task,
)
