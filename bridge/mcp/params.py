"""The tools' parameters, declared once: each tool function in `bridge.mcp.tools` annotates its
parameters with these aliases (or an `Annotated` of its own), and the MCP layer builds every tool's
input schema from that one signature. Descriptions are what the agent reads."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

RepoPath = Annotated[
    str | None, Field(description="repository path; default: the server's repository")
]
IntentId = Annotated[str, Field(description="your intent's id (begin_task returned it)")]
ConflictId = Annotated[str, Field(description="the conflict's id (who_is_working lists them)")]
Objective = Annotated[str, Field(description="what you are about to do, in one sentence")]
Why = Annotated[str | None, Field(description="why, for the others (optional)")]
Symbols = Annotated[
    list[str] | None,
    Field(
        description="functions, classes or methods you will change, as path::Qualified.name (e.g. src/app.py::Router.add): "
        "you then claim only those, not their whole files. Bare names are hints for dependency checks only"
    ),
]
