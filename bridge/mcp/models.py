"""Typed results of the MCP tools. Every result has a `status`; its values are listed per model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

WORKTREE = "the git worktree the intent is about: null for the main worktree, else the linked worktree's name"


class Holder(BaseModel):
    principal_id: str
    intent_id: str
    objective: str
    files: list[str]
    symbols: list[str] = Field(
        default_factory=list,
        description="the symbols (path::name) of yours it holds, when it claims symbols",
    )
    expires_at: str | None = None


class SameFileNote(BaseModel):
    principal_id: str
    intent_id: str
    objective: str
    file: str
    symbols: list[str] = Field(description="the other symbols of the file it works on")


class IntentInfo(BaseModel):
    intent_id: str
    principal_id: str
    objective: str
    files: list[str] = Field(
        description="file paths or patterns of the intent's scope, or its symbols (path::name)"
    )
    state: str = Field(description="ACTIVE or SUSPENDED (a suspended intent can be taken over)")
    expires_in_sec: float | None = None
    deferred_by: list[str] = Field(default_factory=list)
    worktree: str | None = Field(None, description=WORKTREE)
    branch: str | None = Field(None, description="that worktree's branch, as its agent reported it")


class ConflictInfo(BaseModel):
    conflict_id: str
    category: str
    severity: str
    state: str
    principals: list[str]
    related_intents: list[str]
    description: str


class ParticipantInfo(BaseModel):
    principal_id: str
    display_name: str
    roles: list[str]
    status: str
    available: bool


class WhoResult(BaseModel):
    status: Literal["ok", "error"] = Field(description="ok, or error (see message)")
    session_id: str = ""
    you: str = ""
    participants: list[ParticipantInfo] = Field(default_factory=list)
    intents: list[IntentInfo] = Field(default_factory=list)
    conflicts: list[ConflictInfo] = Field(default_factory=list)
    message: str = ""


class Released(BaseModel):
    intent_id: str = Field(description="your earlier intent, now SUPERSEDED by the new one")
    objective: str
    files: list[str] = Field(
        description="its files that the new intent does not cover: nobody claims them now"
    )


class BeginResult(BaseModel):
    status: Literal["ok", "blocked", "error"] = Field(
        description="ok: the intent is registered; blocked: another agent holds these files (see holders); error: see message"
    )
    intent_id: str | None = None
    files: list[str] = Field(default_factory=list)
    symbols: list[str] = Field(
        default_factory=list,
        description="the symbols claimed (path::name; path::* is a whole file)",
    )
    granularity: str = Field(
        "file",
        description="symbol: the session coordinates functions and classes; file: whole files",
    )
    same_file: list[SameFileNote] = Field(
        default_factory=list,
        description="others working on other symbols of the same files: no conflict, both may "
        "proceed; a stale write is merged when the changes do not overlap",
    )
    conflicts: list[ConflictInfo] = Field(
        default_factory=list, description="advisory overlaps the coordinator reported"
    )
    holders: list[Holder] = Field(
        default_factory=list, description="who holds the files when blocked"
    )
    released: list[Released] = Field(
        default_factory=list,
        description="your earlier intents that shared a file with this one: they ended (one intent per file per agent), "
        "and these files of theirs are no longer claimed",
    )
    next_step: str = ""
    message: str = ""


class Overlap(BaseModel):
    principal_id: str
    intent_id: str
    objective: str
    shared: list[str]
    kind: str = Field(
        description="file (exact file: begin_task would be blocked), worktree (the same file in another "
        "git worktree: advisory, a future merge conflict) or pattern/entity (advisory)"
    )
    worktree: str | None = Field(None, description=WORKTREE)
    branch: str | None = None


class OverlapResult(BaseModel):
    status: Literal["ok", "error"]
    has_overlap: bool = False
    overlaps: list[Overlap] = Field(default_factory=list)
    same_file: list[SameFileNote] = Field(
        default_factory=list, description="other symbols of the same files: no overlap"
    )
    message: str = ""


class FileStateResult(BaseModel):
    status: Literal["ok", "refused", "error"] = Field(
        description="refused: the path may not be read (outside the repo, .git, ignored)"
    )
    path: str = ""
    exists: bool = False
    state_ref: str = Field(
        "",
        description="sha256:<hex> of the file's bytes; pass it to submit_change as state_ref_before",
    )
    size: int = 0
    content: str | None = None
    truncated: bool = False
    last_commit_by: str | None = None
    held_by: list[Holder] = Field(default_factory=list)
    message: str = ""


class Lines(BaseModel):
    start: int = Field(
        description="first line (1-based); for an empty range, the line it sits before"
    )
    end: int
    count: int


class AppliedHunk(BaseModel):
    base: Lines = Field(description="the lines of the version you read that your change replaced")
    result: Lines = Field(description="where your change is in the merged file")
    removed: str
    added: str
    same_as_current: bool = False


class ConflictingHunk(BaseModel):
    base: Lines = Field(description="the region in the version you read")
    current: Lines = Field(description="the region in the file as it is now")
    ours: Lines = Field(description="the region in your content")
    base_text: str
    current_text: str = Field(description="what the other change made of the region")
    ours_text: str


class OutsideHunk(BaseModel):
    base: Lines
    ours: Lines
    removed: str
    added: str
    symbols: list[str] = Field(
        description="the symbols it touches that you did not claim (empty: outside every symbol)"
    )


class MergeInfo(BaseModel):
    outcome: Literal["merged", "conflict", "breaks_parsing", "out_of_scope", "no_base"] = Field(
        description="merged: your change was merged into the current file; conflict: it overlaps changes made since "
        "you read the file (see conflicts); breaks_parsing: the merge would not parse; out_of_scope: your change leaves "
        "the symbols you claimed (see outside); no_base: the version you read is not known, so nothing could be merged"
    )
    reason: str = ""
    base_state_ref: str = Field(description="the version you read (your state_ref_before)")
    current_state_ref: str = Field(description="the file when you submitted")
    applied: list[AppliedHunk] = Field(
        default_factory=list, description="your changes as they landed (merged)"
    )
    conflicts: list[ConflictingHunk] = Field(default_factory=list)
    outside: list[OutsideHunk] = Field(default_factory=list)


class SubmitResult(BaseModel):
    status: Literal["success", "merged", "stale", "rejected", "error"] = Field(
        description="success: committed and written; merged: the file had changed since you read it, and your change "
        "was merged into it, committed and written (see merge.applied; re-read the file before changing it again); "
        "stale: the file changed since you read it and your change could not be merged (see merge; re-read and redo it); "
        "rejected: the coordinator refused (see message); error: nothing was written, and the message says "
        "the next step (when the connection was lost and the outcome is unknown: call submit_change again with op_id)"
    )
    op_id: str | None = None
    target: str = ""
    state_ref_after: str | None = None
    current_state_ref: str | None = None
    written: bool = False
    recovered: Literal["recorded", "resent"] | None = Field(
        None,
        description="set when the connection was lost mid-commit and the outcome was settled: recorded = the "
        "coordinator had recorded the commit (the write was finished now); resent = it had not, and was committed once by a resend",
    )
    merge: MergeInfo | None = Field(
        None,
        description="set when the file had changed since you read it: what the three-way merge did",
    )
    message: str = ""


class SimpleResult(BaseModel):
    status: Literal["ok", "rejected", "error"] = Field(
        description="ok, rejected (the coordinator refused; see message), error"
    )
    message: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class ClaimResult(BaseModel):
    status: Literal["approved", "pending", "rejected", "error"] = Field(
        description="approved: the task is yours (new_intent_id); pending: an owner or arbiter decides, or the grace for the owner's return runs (see message); rejected/error: see message"
    )
    new_intent_id: str | None = None
    claim_id: str | None = Field(
        None, description="the claim; an owner or arbiter approves it by this id"
    )
    message: str = ""


class TaskList(BaseModel):
    status: Literal["ok", "error"]
    tasks: list[IntentInfo] = Field(default_factory=list)
    message: str = ""


class WaitResult(BaseModel):
    status: Literal["free", "timeout", "error"] = Field(
        description="free: nobody else holds the files now; timeout: still held"
    )
    files: list[str] = Field(default_factory=list)
    holders: list[Holder] = Field(default_factory=list)
    waited_sec: float = 0.0
    message: str = ""
