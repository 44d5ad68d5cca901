"""The MCP layer: registers the tool functions on an mcp 2.x MCPServer. No logic lives here.

Start-up (issue 17): `initialize` needs only the server's name, instructions and capabilities, so
with `lazy_tools` the tool implementations (bridge.mcp.tools and what it imports: the client, the
protocol models, the merge machinery) are imported and registered when the first message after
`initialize` arrives, before it is handled."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.subscriptions import InMemorySubscriptionBus

from bridge import __version__
from bridge.mcp.context import ToolContext, ToolFailure
from bridge.mcp.limits import check_arguments
from bridge.mcp.notify import STATE_URI, StateNotifier
from bridge.workspace import PathRefused

INSTRUCTIONS = """\
You share this git repository with other agents and humans. mpac-bridge keeps you from overwriting each
other's work. Follow this workflow for every change:

1. check   - who_is_working (the whole session) or check_overlap(files) before you plan.
2. begin   - begin_task(objective, files) BEFORE editing, with every file of the task. status "ok"
             gives you an intent_id. A begin_task naming a file an earlier intent of yours holds
             replaces that intent: "released" lists its files you no longer hold (update_task to add them).
             status "blocked" means another principal holds a file: do NOT edit it. Either call
             defer_task(files) and work on something else, or call wait_for_files(files, timeout_sec)
             and then begin_task again. To change only some functions of a file, also pass
             symbols=["path::Qualified.name", ...]: others may then work on other functions of it.
3. edit    - get_file_state(path) gives the content and its state_ref. Make your change.
4. submit  - submit_change(intent_id, target, state_ref_before=<the state_ref you read>, content=<new text>)
             writes the file and records the change. status "merged" means the file had changed since
             you read it and your change was merged into it (re-read it before changing it again).
             status "stale" means it changed and could not be merged (merge says why): call
             get_file_state again, redo your change on the new content, submit again.
             If you edited the file yourself, call submit_change without content to record it.
             status "error" after a lost connection gives an op_id: call submit_change again with the
             same arguments and that op_id; it finishes the change or redoes it, exactly once.
5. yield   - yield_task(intent_id) as soon as you are done, so others can proceed.

Conflicts: overlaps that are not exact file collisions (patterns, entities) are reported as conflicts.
Acknowledge with ack_conflict. If you cannot agree with the other principal, escalate_conflict to a human
owner or arbiter; only they can resolve_conflict once it is escalated. If an agent crashed, its tasks
become SUSPENDED: take_over_task can claim them (a human may need to approve).
Never edit a file another principal holds, and never bypass a "stale" or "blocked" answer.
"""

T = TypeVar("T")
log = logging.getLogger("mpac.mcp")


_REFUSAL: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mpac_tool_refusal", default=None
)


async def _run(call: Coroutine[Any, Any, T]) -> T:
    refusal = _REFUSAL.get()
    if refusal is not None:  # the arguments failed check_limits: the tool does not run
        call.close()
        raise ToolError(refusal)
    try:
        return await call
    except (ToolFailure, PathRefused) as exc:
        raise ToolError(str(exc)) from None
    except Exception as exc:  # a bug or an OS error nobody foresaw: still say what happened
        log.exception("tool failed")
        raise ToolError(
            f"the tool failed ({type(exc).__name__}: {exc}); the MCP server's log (stderr) has the details"
        ) from None


def _client_name(rctx: ServerRequestContext[Any, Any]) -> str | None:
    """The MCP client's name: from `initialize` (handshake era) or the session's client info."""
    with contextlib.suppress(Exception):
        if rctx.method == "initialize":
            return str((rctx.params or {})["clientInfo"]["name"])
    params = rctx.session.client_params
    return None if params is None else str(params.client_info.name)


def bind(
    ctx: ToolContext, tool: Callable[..., Coroutine[Any, Any, Any]]
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """`tool` as an MCP tool function: its own signature without the ToolContext (the one
    declaration of its parameters), called by keyword, errors turned into tool errors by `_run`."""
    sig = inspect.signature(tool, eval_str=True)

    async def call(**arguments: Any) -> Any:
        return await _run(tool(ctx, **arguments))

    call.__name__, call.__qualname__, call.__doc__ = tool.__name__, tool.__name__, tool.__doc__
    # inspect.signature (and so the MCP input schema) reads __signature__; typeshed does not
    # declare it on functions, hence the one ignore
    call.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
    return call


def build_server(
    ctx: ToolContext, *, connect_early: bool = True, lazy_tools: bool = False
) -> MCPServer:
    """The MCPServer for `ctx`. With `connect_early`, the participant joins in the background right
    after the MCP client introduced itself, so the first tool call does not pay for it. With
    `lazy_tools`, the tools are registered when the first message after `initialize` arrives
    (stdio: the client cannot call a tool before initializing)."""
    background: list[asyncio.Task[Any]] = []
    registered: list[bool] = []

    def register_tools() -> None:
        if registered:
            return
        registered.append(True)
        from bridge.mcp import tools

        for tool in tools.TOOLS:
            mcp.add_tool(bind(ctx, tool), name=tool.__name__, description=inspect.getdoc(tool))

    async def tools_on_demand(
        ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method != "initialize":
            register_tools()
        return await call_next(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[None]:
        try:
            yield
        finally:  # GOODBYE with the configured disposition, on the loop the client lives on
            notifier.stop()
            for task in background:
                task.cancel()
            with contextlib.suppress(Exception):
                await ctx.close()

    tool_ctx = ctx  # mcp's ServerMiddleware protocol names the middlewares' first parameter ctx

    async def introduce(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if tool_ctx.client is None and not background:
            tool_ctx.adopt_client_name(_client_name(ctx))
            # lazily (stdio): join on the next message, so that importing the client does not
            # hold the loop before the `initialize` result is written
            if connect_early and not (lazy_tools and ctx.method == "initialize"):
                task = asyncio.get_running_loop().create_task(_connect_quietly(tool_ctx))
                background.append(task)
        return result

    async def check_limits(
        ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        """Check a tools/call's arguments before the tool runs (limits.check_arguments); a problem
        is handed to `_run`, which turns it into the tool's error through the normal result path."""
        params = ctx.params if ctx.method == "tools/call" else None
        if not (isinstance(params, Mapping) and isinstance(params.get("arguments"), Mapping)):
            return await call_next(ctx)
        client = tool_ctx.client
        limit = client.frame_limit if client is not None else None  # None: the protocol's default
        token = _REFUSAL.set(
            check_arguments(str(params.get("name")), dict(params["arguments"]), limit)
        )
        try:
            return await call_next(ctx)
        finally:
            _REFUSAL.reset(token)

    bus = InMemorySubscriptionBus()
    mcp = MCPServer(
        "mpac-bridge",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        subscriptions=bus,
        middleware=[tools_on_demand, introduce, check_limits]
        if lazy_tools
        else [introduce, check_limits],
    )
    notifier = StateNotifier(mcp, bus)
    ctx.on_connect.append(notifier.attach)
    if not lazy_tools:
        register_tools()

    @mcp.resource(STATE_URI, mime_type="application/json")
    async def session_state() -> str:
        """The live session state (participants, intents, conflicts, committed targets)."""
        client = await ctx.connected()
        return json.dumps(client.view.summary(), default=str)

    return mcp


async def _connect_quietly(ctx: ToolContext) -> None:
    try:
        await ctx.connected()
    except Exception as exc:  # the first tool call reports it properly
        log.info("early connect failed: %s", exc)
